package platform

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Segment is a shared-memory object mapped read-write (or read-only) into
// this process.
type Segment struct {
	path string
	data []byte // exactly what mmap returned, kept for munmap
	dev  uint64
	ino  uint64
	uid  uint32 // owner and group from fstat at open
	gid  uint32
	fd   int // kept open for the liveness range locks (ranges_linux.go); -1 after Close
}

// fallocate is a variable so tests can inject ENOSPC or EINTR.
var fallocate = unix.Fallocate

// CreateSegment creates the object at path with O_EXCL and O_NOFOLLOW,
// sets its mode exactly (independent of the umask), reserves size bytes
// with fallocate so that a full file system fails here with ENOSPC instead
// of a SIGBUS on first touch, and maps it. The new segment reads as zeros.
// On error nothing is left behind.
func CreateSegment(path string, size int64, mode os.FileMode) (*Segment, error) {
	if size <= 0 {
		return nil, fmt.Errorf("zerobuffer: create %s: invalid size %d", path, size)
	}
	fd, err := openRetry(path, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, uint32(mode.Perm()))
	if err != nil {
		return nil, &os.PathError{Op: "create", Path: path, Err: err}
	}
	defer unix.Close(fd)
	s, err := func() (*Segment, error) {
		if err := unix.Fchmod(fd, uint32(mode.Perm())); err != nil {
			return nil, &os.PathError{Op: "fchmod", Path: path, Err: err}
		}
		if err := reserve(fd, size); err != nil {
			return nil, &os.PathError{Op: "fallocate", Path: path, Err: err}
		}
		return mapFD(fd, path, true)
	}()
	if err != nil {
		_ = unix.Unlink(path)
		return nil, err
	}
	return s, nil
}

func reserve(fd int, size int64) error {
	for {
		err := fallocate(fd, 0, 0, size)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOSYS):
			return unix.Ftruncate(fd, size)
		default:
			return err
		}
	}
}

// OpenSegment maps an existing object. Its length is taken from fstat at
// open time and never changes afterwards; callers bounds-check against
// [Segment.Bytes]. A file of size zero fails with an
// error wrapping [ErrEmpty], since it cannot be mapped.
func OpenSegment(path string, writable bool) (*Segment, error) {
	flags := unix.O_RDONLY
	if writable {
		flags = unix.O_RDWR
	}
	fd, err := openRetry(path, flags|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0) // O_NONBLOCK: a FIFO planted here must not hang the open
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	return mapFD(fd, path, writable)
}

func mapFD(fd int, path string, writable bool) (*Segment, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, &os.PathError{Op: "fstat", Path: path, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, &os.PathError{Op: "open", Path: path, Err: unix.EINVAL}
	}
	if st.Size <= 0 {
		return nil, &os.PathError{Op: "mmap", Path: path, Err: ErrEmpty}
	}
	prot := unix.PROT_READ
	if writable {
		prot |= unix.PROT_WRITE
	}
	data, err := unix.Mmap(fd, 0, int(st.Size), prot, unix.MAP_SHARED)
	if err != nil {
		return nil, &os.PathError{Op: "mmap", Path: path, Err: err}
	}
	keep, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 3)
	if err != nil {
		unix.Munmap(data)
		return nil, &os.PathError{Op: "dup", Path: path, Err: err}
	}
	return &Segment{fd: keep, path: path, data: data, dev: uint64(st.Dev), ino: uint64(st.Ino), uid: st.Uid, gid: st.Gid}, nil
}

// StillLinked reports whether the segment's path still names the object
// that was mapped (same device and inode). It is false once a new reader
// replaced the buffer or the owner unlinked it.
func (s *Segment) StillLinked() bool {
	var st unix.Stat_t
	if err := unix.Stat(s.path, &st); err != nil {
		return false
	}
	return uint64(st.Dev) == s.dev && uint64(st.Ino) == s.ino
}

// Remove unlinks path. A missing file is not an error.
func Remove(path string) error {
	err := unix.Unlink(path)
	if err != nil && !errors.Is(err, unix.ENOENT) {
		return &os.PathError{Op: "unlink", Path: path, Err: err}
	}
	return nil
}

func openRetry(path string, flags int, mode uint32) (int, error) {
	for {
		fd, err := unix.Open(path, flags, mode)
		if !errors.Is(err, unix.EINTR) {
			return fd, err
		}
	}
}
