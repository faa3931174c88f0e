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
	f    *os.File
	path string
}

// AcquireLock creates (if needed) and exclusively locks the file at path
// with flock(LOCK_EX|LOCK_NB), the way the C++ and Python readers lock
// /tmp/zerobuffer/NAME.lock. Missing parent directories are created.
// A lock held by another process fails with [ErrLocked]; the attempt is
// repeated for a few milliseconds first, because liveness probes take the
// lock briefly. After locking it checks that path still names the locked
// file (a previous holder may have unlinked it in between) and retries if
// not.
func AcquireLock(path string, mode os.FileMode) (*Lock, error) {
	if err := mkdirShared(filepath.Dir(path)); err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		l, err := tryLock(path, mode)
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
		return nil, err
	}
}

var errLockMoved = errors.New("lock file replaced")

// mkdirShared creates dir (and its parents) like /tmp: world-writable
// with the sticky bit, whatever the umask, so that processes of several
// users can keep lock files there but not remove each other's.
func mkdirShared(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if err := mkdirShared(filepath.Dir(dir)); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o777); err != nil && !errors.Is(err, os.ErrExist) {
		return err
	} else if err == nil {
		_ = os.Chmod(dir, 0o777|os.ModeSticky)
	}
	return nil
}

func tryLock(path string, mode os.FileMode) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_NOFOLLOW|unix.O_CLOEXEC, mode.Perm())
	if err != nil {
		return nil, err
	}
	_ = f.Chmod(mode.Perm()) // exact mode, whatever the umask (fails harmlessly on others' files)
	if err := flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s", ErrLocked, path)
		}
		return nil, &os.PathError{Op: "flock", Path: path, Err: err}
	}
	var fst, pst unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &fst); err != nil {
		f.Close()
		return nil, &os.PathError{Op: "fstat", Path: path, Err: err}
	}
	if err := unix.Lstat(path, &pst); err != nil || fst.Ino != pst.Ino || fst.Dev != pst.Dev {
		f.Close()
		return nil, errLockMoved
	}
	return &Lock{f: f, path: path}, nil
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
// holder's PID), for diagnostics and for peers that probe the lock.
func (l *Lock) SetContent(b []byte) error {
	if err := l.f.Truncate(0); err != nil {
		return err
	}
	_, err := l.f.WriteAt(b, 0)
	return err
}

// Release unlinks the lock file (if unlink is set) and then unlocks it by
// closing it. Unlinking first means a process that opens the path after
// this point creates a fresh file instead of inheriting this one.
func (l *Lock) Release(unlink bool) error {
	if l == nil || l.f == nil {
		return nil
	}
	var err error
	if unlink {
		err = Remove(l.path)
	}
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	return err
}

// LockState is what [ProbeLock] found.
type LockState struct {
	Exists  bool
	Held    bool   // some process holds the flock
	Content []byte // first bytes of the file
}

// ProbeLock reports whether the lock file at path exists and is held by
// a process, without disturbing the holder: it takes a shared lock for an
// instant, which fails while an exclusive lock is held.
func ProbeLock(path string) (LockState, error) {
	// Raw system calls: an idle reader probes several times a second, and
	// os.File would add a netpoll registration and two fcntl calls each
	// time.
	var fd int
	for {
		var err error
		fd, err = unix.Open(path, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err == nil {
			break
		}
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if errors.Is(err, unix.ENOENT) {
			return LockState{}, nil
		}
		return LockState{}, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	st := LockState{Exists: true}
	var buf [64]byte
	if n, err := unix.Pread(fd, buf[:], 0); err == nil && n > 0 {
		st.Content = append([]byte(nil), buf[:n]...)
	}
	err := flock(fd, unix.LOCK_SH|unix.LOCK_NB)
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
