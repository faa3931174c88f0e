package core

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"syscall"
)

// Defaults of a zero [BufferConfig].
const (
	// DefaultPayloadSize is the ring size of a BufferConfig whose
	// PayloadSize is 0: 1 MiB, room for frames of up to 1 MiB - 16 bytes
	// and for many small frames in flight.
	DefaultPayloadSize = 1 << 20
	// DefaultMetadataSize is the metadata block of a BufferConfig whose
	// sizes are both 0: 4 KiB, the metadata size of the reference duplex
	// clients.
	DefaultMetadataSize = 4 << 10
)

// WithDefaults returns c as [NewReader] uses it: a PayloadSize of 0 becomes
// [DefaultPayloadSize] and, in that case only, a MetadataSize of 0 becomes
// [DefaultMetadataSize]. With an explicit PayloadSize, a MetadataSize of 0
// keeps its protocol meaning: no metadata block. Other values, invalid
// ones included, are returned unchanged for NewReader to check.
func (c BufferConfig) WithDefaults() BufferConfig {
	if c.PayloadSize == 0 {
		c.PayloadSize = DefaultPayloadSize
		if c.MetadataSize == 0 {
			c.MetadataSize = DefaultMetadataSize
		}
	}
	return c
}

// createError describes a failure to create the shared-memory segment of
// name at path. When the directory has no room for the segment (ENOSPC,
// typically a container's 64 MiB /dev/shm), the error names the directory
// and the size asked for, and matches both [ErrNoSpace] and
// syscall.ENOSPC.
func createError(name, path string, size uint64, err error) error {
	if errors.Is(err, syscall.ENOSPC) {
		where := filepath.Dir(path)
		if runtime.GOOS == "windows" {
			where = "the system commit limit (page file)"
		}
		return fmt.Errorf("zerobuffer: create buffer %q: %w: %d bytes (%s) do not fit in %s; "+
			"make it larger (e.g. docker run --shm-size) or ask for a smaller BufferConfig: %w",
			name, ErrNoSpace, size, humanSize(size), where, err)
	}
	return fmt.Errorf("zerobuffer: create buffer %q: %w", name, err)
}

// humanSize renders n bytes with a binary unit: "1 GiB", "1.5 MiB", "512 B".
func humanSize(n uint64) string {
	const units = "KMGTPE"
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n)/1024, 0
	for v >= 1024 && i < len(units)-1 {
		v, i = v/1024, i+1
	}
	if v == float64(uint64(v)) {
		return fmt.Sprintf("%d %ciB", uint64(v), units[i])
	}
	return fmt.Sprintf("%.1f %ciB", v, units[i])
}
