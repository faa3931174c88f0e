package platform

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Liveness ranges. A Go reader and a Go writer each hold an open file
// description (OFD) write lock on one byte of the segment file, far past
// its end, for as long as they are attached: the kernel drops the lock
// when the holder closes or dies, in every PID namespace that shares the
// segment, and only a process that can open the segment can take it. No
// lock file in a shared directory is involved, so no other user can forge
// or squat it. Foreign implementations take no advisory locks and ignore
// these bytes (docs/PROTOCOL.md section 10).
const (
	rangeBase = 1 << 62
	// ReaderRange is the byte a Go reader locks.
	ReaderRange = 0
	// WriterRange is the byte a Go writer locks.
	WriterRange = 1
)

func (s *Segment) closeFD() {
	if s.fd >= 0 {
		unix.Close(s.fd)
		s.fd = -1
	}
}

// LockRange takes the liveness range r (ReaderRange or WriterRange) for
// this segment's open file description, until [Segment.Close]. A range
// another description holds fails with [ErrLocked]. The segment must be
// open for writing.
func (s *Segment) LockRange(r int) error {
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0, Start: rangeBase + int64(r), Len: 1}
	for {
		err := unix.FcntlFlock(uintptr(s.fd), unix.F_OFD_SETLK, &lk)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EACCES):
			return fmt.Errorf("%w: %s range %d", ErrLocked, s.path, r)
		default:
			return &os.PathError{Op: "fcntl(F_OFD_SETLK)", Path: s.path, Err: err}
		}
	}
}

// RangeHeld reports whether another open file description holds the
// liveness range r of this segment.
func (s *Segment) RangeHeld(r int) (bool, error) {
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0, Start: rangeBase + int64(r), Len: 1}
	for {
		err := unix.FcntlFlock(uintptr(s.fd), unix.F_OFD_GETLK, &lk)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return false, &os.PathError{Op: "fcntl(F_OFD_GETLK)", Path: s.path, Err: err}
		}
		return lk.Type != unix.F_UNLCK, nil
	}
}
