//go:build linux || darwin

package platform

import (
	"os"

	"golang.org/x/sys/unix"
)

// Bytes returns the whole mapping. The slice is valid until [Segment.Close].
func (s *Segment) Bytes() []byte { return s.data }

// Path returns the path (Linux) or object name (macOS) the segment was
// opened by.
func (s *Segment) Path() string { return s.path }

// Close unmaps the segment. It does not unlink it.
func (s *Segment) Close() error {
	if s.data == nil {
		return nil
	}
	err := unix.Munmap(s.data)
	s.data = nil
	s.closeFD()
	if err != nil {
		return os.NewSyscallError("munmap", err)
	}
	return nil
}
