//go:build !unix && !windows

package platform

import "os"

// Lock is an exclusive lock file. Not supported on this platform yet.
type Lock struct{}

// AcquireLock is not supported on this platform.
func AcquireLock(path string, mode os.FileMode) (*Lock, error) { return nil, ErrNotSupported }

// SetContent replaces the lock file's content.
func (l *Lock) SetContent(b []byte) error { return ErrNotSupported }

// Release unlocks (and optionally unlinks) the lock file.
func (l *Lock) Release(unlink bool) error { return nil }

// LockState is what [ProbeLock] found.
type LockState struct {
	Exists  bool
	Held    bool
	Content []byte
	Owner   uint32
	Links   uint64
}

// RemoveLockFile is not supported on this platform.
func RemoveLockFile(path string) error { return ErrNotSupported }

// ProbeLock is not supported on this platform.
func ProbeLock(path string) (LockState, error) { return LockState{}, ErrNotSupported }

// ProcessAlive is not supported on this platform; it reports false.
func ProcessAlive(pid uint64) bool { return false }

// Getpid returns this process's id.
func Getpid() uint64 { return uint64(os.Getpid()) }

// SetGroup is not supported on this platform.
func (l *Lock) SetGroup(gid int) error { return ErrNotSupported }
