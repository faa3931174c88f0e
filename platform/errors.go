package platform

import "errors"

// ErrNotSupported is returned by every function on an operating system
// this package has no backend for.
var ErrNotSupported = errors.New("zerobuffer: operation not supported on this platform")

// ErrLocked is returned by [AcquireLock] when another process holds the lock.
var ErrLocked = errors.New("zerobuffer: lock is held by another process")

// ErrInvalidName is returned for a buffer name that cannot be mapped to the
// operating system's object names.
var ErrInvalidName = errors.New("zerobuffer: invalid buffer name")

// ErrEmpty is returned by OpenSegment for an object of size zero: its
// creator has not sized it yet.
var ErrEmpty = errors.New("zerobuffer: shared memory object is empty (still being created)")

// ErrUnsafePath is returned for a lock directory or lock file that another
// user could control: a symbolic link, a directory owned by another user
// or writable by others without the sticky bit, a lock file that is not a
// regular file, has more than one link or belongs to another user. The
// error names the path and the reason.
var ErrUnsafePath = errors.New("zerobuffer: unsafe path")
