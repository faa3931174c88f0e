//go:build !linux

package platform

import "os"

// Owner reports no owner: this system's shared memory has no file this
// package can fstat, or no uids.
func (s *Segment) Owner() (uid, gid uint32, ok bool) { return 0, 0, false }

// Owner reports no owner: this system's semaphores have no file this
// package can fstat, or no uids.
func (s *Semaphore) Owner() (uid, gid uint32, ok bool) { return 0, 0, false }

// Euid reports false: object owners are not checked on this system.
func Euid() (uid uint32, ok bool) { return 0, false }

// SetGroup is not supported on this system.
func SetGroup(path string, gid int) error { return ErrNotSupported }

// StatObject describes the file at path where objects are files (macOS
// and Windows objects have names, not files: it reports none there).
func StatObject(path string) (ObjectStat, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return ObjectStat{}, nil
	}
	return ObjectStat{Exists: true, Regular: fi.Mode().IsRegular(), Size: fi.Size()}, nil
}
