//go:build unix

package platform

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// Lock is an exclusive flock on a lock file, held until Release.
type Lock struct {
	f     *os.File
	path  string
	dir   int    // descriptor of the lock directory; every unlink is relative to it
	base  string // file name inside dir
	owned bool   // the file belongs to this process's euid: it may be rewritten
}

// AcquireLock creates (if needed) and exclusively locks the file at path
// with flock(LOCK_EX|LOCK_NB), the way the C++ and Python readers lock
// /tmp/zerobuffer/NAME.lock. Missing parent directories are created with
// mode 01777.
//
// The directory is opened component by component and must be safe (see
// openDir); the file is opened relative to it with O_NOFOLLOW|O_NONBLOCK
// and must be a regular file with one link owned by this process's euid
// or root, else the error matches [ErrUnsafePath] and names the path and
// the reason. Only a file this call created is chmodded to mode.
//
// A lock held by another process fails with [ErrLocked]; the attempt is
// repeated for a few milliseconds first, because liveness probes take the
// lock briefly. After locking it checks that path still names the locked
// file (a previous holder may have unlinked it in between) and retries if
// not.
func AcquireLock(path string, mode os.FileMode) (*Lock, error) {
	dir, err := openDir(filepath.Dir(path), true)
	if err != nil {
		return nil, err
	}
	base := filepath.Base(path)
	for attempt := 0; ; attempt++ {
		l, err := tryLock(dir, base, path, mode)
		if err == nil {
			return l, nil
		}
		if errors.Is(err, ErrLocked) && attempt < 10 {
			time.Sleep(time.Millisecond)
			continue
		}
		if errors.Is(err, errLockMoved) && attempt < 100 {
			continue
		}
		unix.Close(dir)
		return nil, err
	}
}

var errLockMoved = errors.New("lock file replaced")

const lockOpenFlags = unix.O_NOFOLLOW | unix.O_NONBLOCK | unix.O_CLOEXEC

// openLockFile opens base in dir for writing, creating it with mode if it
// does not exist; created reports whether this call made it.
func openLockFile(dir int, base, path string, mode os.FileMode) (fd int, created bool, err error) {
	for {
		fd, err = openNoIntr(dir, base, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL|lockOpenFlags, uint32(mode.Perm()))
		if err == nil {
			return fd, true, nil
		}
		if !errors.Is(err, unix.EEXIST) {
			break
		}
		fd, err = openNoIntr(dir, base, unix.O_RDWR|lockOpenFlags, 0)
		if !errors.Is(err, unix.ENOENT) { // else removed in between: create again
			break
		}
	}
	if errors.Is(err, unix.ELOOP) {
		return -1, false, fmt.Errorf("%w: %w", unsafePath(path, "is a symbolic link"), unix.ELOOP)
	}
	if err != nil {
		return -1, false, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return fd, false, nil
}

func tryLock(dir int, base, path string, mode os.FileMode) (*Lock, error) {
	fd, created, err := openLockFile(dir, base, path, mode)
	if err != nil {
		return nil, err
	}
	var fst unix.Stat_t
	if err := unix.Fstat(fd, &fst); err != nil {
		unix.Close(fd)
		return nil, &os.PathError{Op: "fstat", Path: path, Err: err}
	}
	if err := checkLockFile(&fst, path); err != nil {
		unix.Close(fd)
		return nil, err
	}
	if err := flock(fd, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		unix.Close(fd)
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s", ErrLocked, path)
		}
		return nil, &os.PathError{Op: "flock", Path: path, Err: err}
	}
	var pst unix.Stat_t
	if err := unix.Fstatat(dir, base, &pst, unix.AT_SYMLINK_NOFOLLOW); err != nil || fst.Ino != pst.Ino || fst.Dev != pst.Dev {
		unix.Close(fd)
		return nil, errLockMoved
	}
	if created {
		_ = unix.Fchmod(fd, uint32(mode.Perm())) // exact mode, whatever the umask
	}
	f := os.NewFile(uintptr(fd), path)
	return &Lock{f: f, path: path, dir: dir, base: base, owned: int(fst.Uid) == unix.Geteuid()}, nil
}

func flock(fd, how int) error {
	for {
		err := unix.Flock(fd, how)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

// SetContent replaces the lock file's content (for example with the
// holder's PID), for diagnostics and for peers that probe the lock. Only a
// file owned by this process's euid is rewritten; a root-owned lock file
// taken by another user fails with [ErrUnsafePath].
func (l *Lock) SetContent(b []byte) error {
	if !l.owned {
		return unsafePath(l.path, "not owned by this process's uid; content left alone")
	}
	if err := l.f.Truncate(0); err != nil {
		return err
	}
	_, err := l.f.WriteAt(b, 0)
	return err
}

// Release unlinks the lock file (if unlink is set) and then unlocks it by
// closing it. Unlinking first means a process that opens the path after
// this point creates a fresh file instead of inheriting this one. The
// unlink is relative to the lock directory and happens only while the name
// still denotes the locked file.
func (l *Lock) Release(unlink bool) error {
	if l == nil || l.f == nil {
		return nil
	}
	var err error
	if unlink {
		err = l.unlinkOwn()
	}
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	unix.Close(l.dir)
	l.f = nil
	return err
}

func (l *Lock) unlinkOwn() error {
	var fst, pst unix.Stat_t
	if unix.Fstat(int(l.f.Fd()), &fst) != nil {
		return nil
	}
	if err := unix.Fstatat(l.dir, l.base, &pst, unix.AT_SYMLINK_NOFOLLOW); err != nil || pst.Ino != fst.Ino || pst.Dev != fst.Dev {
		return nil // not ours any more
	}
	if err := unix.Unlinkat(l.dir, l.base, 0); err != nil && !errors.Is(err, unix.ENOENT) {
		return &os.PathError{Op: "unlink", Path: l.path, Err: err}
	}
	return nil
}

// LockState is what [ProbeLock] found.
type LockState struct {
	Exists  bool
	Held    bool   // some process holds the flock
	Content []byte // first bytes of the file
	Owner   uint32 // uid owning the file
	Links   uint64 // hard links to the file
}

// ProbeLock reports whether the lock file at path exists and is held by
// a process, without disturbing the holder: it takes a shared lock for an
// instant, which fails while an exclusive lock is held. The directory is
// opened as [AcquireLock] does (an unsafe one fails with
// [ErrUnsafePath]); a path that is not a regular file (a FIFO, a device)
// fails with [ErrUnsafePath] without blocking. Callers decide from Owner
// and Links whether to trust Content.
func ProbeLock(path string) (LockState, error) {
	dir, err := openDir(filepath.Dir(path), false)
	if errors.Is(err, unix.ENOENT) {
		return LockState{}, nil
	}
	if err != nil {
		return LockState{}, err
	}
	defer unix.Close(dir)
	fd, err := openNoIntr(dir, filepath.Base(path), unix.O_RDONLY|lockOpenFlags, 0)
	switch {
	case errors.Is(err, unix.ENOENT):
		return LockState{}, nil
	case errors.Is(err, unix.ELOOP):
		return LockState{}, fmt.Errorf("%w: %w", unsafePath(path, "is a symbolic link"), unix.ELOOP)
	case err != nil:
		return LockState{}, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	var fst unix.Stat_t
	if err := unix.Fstat(fd, &fst); err != nil {
		return LockState{}, &os.PathError{Op: "fstat", Path: path, Err: err}
	}
	if fst.Mode&unix.S_IFMT != unix.S_IFREG {
		return LockState{}, unsafePath(path, "not a regular file")
	}
	st := LockState{Exists: true, Owner: fst.Uid, Links: uint64(fst.Nlink)}
	var buf [64]byte
	if n, err := unix.Pread(fd, buf[:], 0); err == nil && n > 0 {
		st.Content = append([]byte(nil), buf[:n]...)
	}
	err = flock(fd, unix.LOCK_SH|unix.LOCK_NB)
	switch {
	case err == nil:
		_ = flock(fd, unix.LOCK_UN)
	case errors.Is(err, unix.EWOULDBLOCK):
		st.Held = true
	default:
		return st, &os.PathError{Op: "flock", Path: path, Err: err}
	}
	return st, nil
}

// RemoveLockFile unlinks the lock file at path relative to its safely
// opened directory. A missing file or directory is not an error.
func RemoveLockFile(path string) error {
	dir, err := openDir(filepath.Dir(path), false)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return err
	}
	defer unix.Close(dir)
	if err := unix.Unlinkat(dir, filepath.Base(path), 0); err != nil && !errors.Is(err, unix.ENOENT) {
		return &os.PathError{Op: "unlink", Path: path, Err: err}
	}
	return nil
}

// SetGroup gives the held lock file the group gid (for [AcquireLock]
// callers that share a buffer with a group).
func (l *Lock) SetGroup(gid int) error {
	if err := unix.Fchown(int(l.f.Fd()), -1, gid); err != nil {
		return &os.PathError{Op: "chown", Path: l.path, Err: err}
	}
	return nil
}
