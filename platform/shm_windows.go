package platform

import (
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/windows"
)

// Segment is a pagefile-backed file mapping (a named section) mapped into
// this process.
//
// Windows names are not files: a section exists while some process holds
// a handle to it or a view of it, and vanishes with the last one. There is
// nothing to unlink and nothing left behind by a crash.
type Segment struct {
	name string
	h    windows.Handle // section handle, kept open while mapped
	addr uintptr        // base address MapViewOfFile returned, for UnmapViewOfFile
	data []byte
}

// CreateSegment creates the named file mapping of size bytes, backed by
// the paging file, and maps it read-write. It reads as zeros. If the name
// exists (a live reader's buffer, or the leftover of a crashed reader
// that a connected writer still holds open) it fails with an error
// matching fs.ErrExist. mode is ignored: the section gets the default
// security descriptor of the caller's token (the creating user, SYSTEM and
// Administrators). The whole size is charged against the commit limit now
// (SEC_COMMIT), so an oversized buffer fails here rather than on first
// touch.
func CreateSegment(path string, size int64, mode os.FileMode) (*Segment, error) {
	if size <= 0 || uint64(size) > uint64(^uintptr(0)>>1) {
		return nil, fmt.Errorf("zerobuffer: create %s: invalid size %d", path, size)
	}
	name, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return nil, &os.PathError{Op: "create", Path: path, Err: err}
	}
	h, err := windows.CreateFileMapping(windows.InvalidHandle, nil, windows.PAGE_READWRITE,
		uint32(uint64(size)>>32), uint32(size), name)
	if err != nil {
		if h != 0 {
			windows.CloseHandle(h) // ERROR_ALREADY_EXISTS comes with a handle to the old section
		}
		return nil, &os.PathError{Op: "create", Path: path, Err: err}
	}
	s, err := mapSection(h, path, true, uintptr(size))
	if err != nil {
		windows.CloseHandle(h)
		return nil, err
	}
	return s, nil
}

// OpenSegment maps an existing named file mapping. A missing name fails
// with an error matching fs.ErrNotExist.
//
// Windows cannot report a section's exact size: the whole section is
// mapped and [Segment.Bytes] covers the region VirtualQuery reports, which
// is the size rounded up to the page size. Callers take the real size
// from the data (the OIEB) and check it against len(Bytes()).
func OpenSegment(path string, writable bool) (*Segment, error) {
	name, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	access := uint32(windows.FILE_MAP_READ)
	if writable {
		access |= windows.FILE_MAP_WRITE
	}
	h, err := openFileMapping(access, false, name)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	s, err := mapSection(h, path, writable, 0)
	if err != nil {
		windows.CloseHandle(h)
		return nil, err
	}
	return s, nil
}

// mapSection maps size bytes of the section (0: all of it, measured with
// VirtualQuery).
func mapSection(h windows.Handle, path string, writable bool, size uintptr) (*Segment, error) {
	access := uint32(windows.FILE_MAP_READ)
	if writable {
		access |= windows.FILE_MAP_WRITE
	}
	addr, err := windows.MapViewOfFile(h, access, 0, 0, size)
	if err != nil {
		return nil, &os.PathError{Op: "MapViewOfFile", Path: path, Err: err}
	}
	if size == 0 {
		var mbi windows.MemoryBasicInformation
		if err := windows.VirtualQuery(addr, &mbi, unsafe.Sizeof(mbi)); err != nil {
			windows.UnmapViewOfFile(addr)
			return nil, &os.PathError{Op: "VirtualQuery", Path: path, Err: err}
		}
		size = mbi.RegionSize
	}
	// The vet-clean way to turn the address MapViewOfFile returned into
	// a pointer (a direct unsafe.Pointer(addr) is reported as possible
	// misuse): the view is not Go memory and never moves.
	base := (*byte)(*(*unsafe.Pointer)(unsafe.Pointer(&addr)))
	return &Segment{name: path, h: h, addr: addr, data: unsafe.Slice(base, size)}, nil
}

// Bytes returns the whole view. The slice is valid until [Segment.Close].
func (s *Segment) Bytes() []byte { return s.data }

// Path returns the object name the segment was opened by.
func (s *Segment) Path() string { return s.name }

// Close unmaps the view and closes the section handle. The section
// vanishes when no other process holds it.
func (s *Segment) Close() error {
	if s.data == nil {
		return nil
	}
	s.data = nil
	err := windows.UnmapViewOfFile(s.addr)
	if cerr := windows.CloseHandle(s.h); err == nil {
		err = cerr
	}
	if err != nil {
		return os.NewSyscallError("UnmapViewOfFile", err)
	}
	return nil
}

// StillLinked is always true on Windows: a name cannot be removed or
// replaced while this process holds the section, so the name always
// refers to the mapped object. (A new reader of the same name fails with
// fs.ErrExist until every writer of the old buffer has closed it.)
func (s *Segment) StillLinked() bool { return true }

// Remove is a no-op on Windows, where kernel objects vanish with their last
// handle and DELETE_ON_CLOSE lock files with their holder. It returns nil.
func Remove(path string) error { return nil }
