package bench

// This is the only file of the package that uses unsafe: atomic views of
// words inside a shared mapping, for the cache-line and spin-ring limit
// benchmarks (the zerobuffer transports go through the core package).

import (
	"fmt"
	"sync/atomic"
	"unsafe"
)

// shmWord returns an atomic view of the 8-byte word at offset off of the
// mapping b. b must be a whole mapping returned by mmap (page aligned)
// and stay mapped while the view is used; off must be a multiple of 8
// inside b.
func shmWord(b []byte, off int) (*atomic.Uint64, error) {
	if off < 0 || off%8 != 0 || len(b) < 8 || off > len(b)-8 {
		return nil, fmt.Errorf("bench: shared word at %d outside mapping of %d bytes", off, len(b))
	}
	p := unsafe.Pointer(&b[off])
	if uintptr(p)%8 != 0 {
		return nil, fmt.Errorf("bench: shared word at %p not 8-byte aligned", p)
	}
	return (*atomic.Uint64)(p), nil
}
