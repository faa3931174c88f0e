package platform

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// Owner returns the uid and group of the segment's file as fstat saw them
// when it was opened; ok is false where the system has no owners to
// report.
func (s *Segment) Owner() (uid, gid uint32, ok bool) { return s.uid, s.gid, true }

// Owner returns the uid and group of the semaphore's file as fstat saw
// them when it was opened; ok is false where the system has no owners to
// report.
func (s *Semaphore) Owner() (uid, gid uint32, ok bool) { return s.uid, s.gid, true }

// Euid returns this process's effective uid; ok is false where the system
// has no uids (Windows) or this package cannot report object owners.
func Euid() (uid uint32, ok bool) { return uint32(unix.Geteuid()), true }

// SetGroup gives the object at path (a segment or semaphore file this
// process just created) the group gid, without following a symbolic link.
func SetGroup(path string, gid int) error {
	err := unix.Fchownat(unix.AT_FDCWD, path, -1, gid, unix.AT_SYMLINK_NOFOLLOW)
	if err != nil && !errors.Is(err, unix.ENOENT) {
		return &os.PathError{Op: "chown", Path: path, Err: err}
	}
	return err
}

// StatObject describes the file at path (lstat). A missing file is not
// an error.
func StatObject(path string) (ObjectStat, error) {
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return ObjectStat{}, nil
		}
		return ObjectStat{}, &os.PathError{Op: "lstat", Path: path, Err: err}
	}
	return ObjectStat{Exists: true, Regular: st.Mode&unix.S_IFMT == unix.S_IFREG, Size: st.Size, Owner: st.Uid, Known: true}, nil
}
