package platform

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/windows"
)

// Lock is a lock file held open without sharing, the way the C# and C++
// readers lock: no other handle can open it while this one is open, and
// FILE_FLAG_DELETE_ON_CLOSE removes it when the holder closes it or dies.
type Lock struct {
	f    *os.File
	path string
}

// AcquireLock creates (if needed) and opens the file at path with share
// mode 0 and FILE_FLAG_DELETE_ON_CLOSE. Missing parent directories are
// created. A file another process has open fails with [ErrLocked]; the
// attempt is repeated for a few milliseconds first, because probes open
// an unheld file briefly. mode is ignored (the directory's inherited ACL
// applies).
func AcquireLock(path string, mode os.FileMode) (*Lock, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o777); err != nil {
		return nil, err
	}
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	for attempt := 0; ; attempt++ {
		h, err := windows.CreateFile(p, windows.GENERIC_READ|windows.GENERIC_WRITE, 0, nil,
			windows.OPEN_ALWAYS, windows.FILE_ATTRIBUTE_NORMAL|windows.FILE_FLAG_DELETE_ON_CLOSE, 0)
		if err == nil {
			return &Lock{f: os.NewFile(uintptr(h), path), path: path}, nil
		}
		// A held file gives ERROR_SHARING_VIOLATION; one whose holder
		// just closed it can be delete-pending for an instant, which
		// gives ERROR_ACCESS_DENIED.
		busy := err == windows.ERROR_SHARING_VIOLATION || err == windows.ERROR_ACCESS_DENIED
		if busy && attempt < 10 {
			time.Sleep(time.Millisecond)
			continue
		}
		if err == windows.ERROR_SHARING_VIOLATION {
			return nil, fmt.Errorf("%w: %s", ErrLocked, path)
		}
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
}

// SetContent replaces the lock file's content (for example with the
// holder's PID). Other processes cannot read it while the lock is held.
func (l *Lock) SetContent(b []byte) error {
	if err := l.f.Truncate(0); err != nil {
		return err
	}
	_, err := l.f.WriteAt(b, 0)
	return err
}

// Release closes the lock file, which deletes it (FILE_FLAG_DELETE_ON_CLOSE)
// whatever unlink says.
func (l *Lock) Release(unlink bool) error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

// LockState is what [ProbeLock] found.
type LockState struct {
	Exists  bool
	Held    bool   // some process has the file open exclusively
	Content []byte // first bytes of the file; empty while it is held
	Owner   uint32 // always 0: Windows files have no uid
	Links   uint64 // always 1
}

// RemoveLockFile removes the lock file at path. Lock files delete
// themselves when their holder closes them; a leftover of a foreign
// implementation is removed here. A missing file is not an error.
func RemoveLockFile(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// ProbeLock reports whether the lock file at path exists and is held,
// without disturbing the holder: it opens the file for reading with full
// sharing, which fails with a sharing violation while a holder has it
// open with share mode 0. An unheld file (a lock of an implementation
// that does not delete on close) is read and closed at once.
func ProbeLock(path string) (LockState, error) {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return LockState{}, &os.PathError{Op: "open", Path: path, Err: err}
	}
	const share = windows.FILE_SHARE_READ | windows.FILE_SHARE_WRITE | windows.FILE_SHARE_DELETE
	h, err := windows.CreateFile(p, windows.GENERIC_READ, share, nil, windows.OPEN_EXISTING, windows.FILE_ATTRIBUTE_NORMAL, 0)
	switch {
	case err == windows.ERROR_SHARING_VIOLATION:
		return LockState{Exists: true, Held: true, Links: 1}, nil
	case errors.Is(err, os.ErrNotExist):
		return LockState{}, nil
	case err != nil:
		return LockState{}, &os.PathError{Op: "open", Path: path, Err: err}
	}
	f := os.NewFile(uintptr(h), path)
	defer f.Close()
	buf := make([]byte, 64)
	n, _ := io.ReadFull(f, buf)
	return LockState{Exists: true, Content: buf[:n], Links: 1}, nil
}

// SetGroup is not supported on Windows: lock files inherit the
// directory's ACL.
func (l *Lock) SetGroup(gid int) error { return ErrNotSupported }
