//go:build !linux

package platform

// Liveness ranges exist only on Linux (open file description locks).
const (
	// ReaderRange is the byte a Go reader locks.
	ReaderRange = 0
	// WriterRange is the byte a Go writer locks.
	WriterRange = 1
)

// LockRange is not supported on this system: peers fall back to lock
// files and PIDs.
func (s *Segment) LockRange(r int) error { return ErrNotSupported }

// RangeHeld is not supported on this system.
func (s *Segment) RangeHeld(r int) (bool, error) { return false, ErrNotSupported }
