//go:build unix

package platform

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// Lock directories are shared with every local user (/tmp/zerobuffer is
// world-writable), so they are opened the way sshd and systemd open
// theirs: one component at a time from the root, each with
// O_NOFOLLOW|O_DIRECTORY relative to its parent's descriptor, each checked
// with fstat. Every later open and unlink of a lock file is relative to
// the final directory descriptor (openat/unlinkat), so no symlink planted
// anywhere on the path can redirect it.
//
// A component is accepted only if it is a real directory owned by root or
// by this process's effective uid whose mode is either private (not
// writable by group or others) or shared with the sticky bit (01777 like
// /tmp), which stops other users from removing or renaming our entries.

// openDir opens dir safely and returns its descriptor. With create set,
// missing components are created with mode 01777 (shared like /tmp, so
// that processes of other users can keep their own lock files there).
// A symbolic link on the way is followed only if root owns it (macOS's
// /tmp -> private/tmp, /var/run -> /run): other users cannot create those.
// A missing directory without create fails with an error matching
// fs.ErrNotExist.
func openDir(dir string, create bool) (int, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return -1, err
	}
	fd, err := openRoot()
	if err != nil {
		return -1, err
	}
	cur, comps, links := "/", strings.Split(abs, "/"), 0
	for len(comps) > 0 {
		c := comps[0]
		comps = comps[1:]
		if c == "" || c == "." {
			continue
		}
		path := filepath.Join(cur, c)
		next, err := openSubdir(fd, c, path, create)
		if errors.Is(err, errSymlink) {
			target, terr := rootSymlink(fd, c, path)
			if links++; terr == nil && links > 40 {
				terr = unsafePath(path, "too many symbolic links")
			}
			if terr != nil {
				unix.Close(fd)
				return -1, terr
			}
			if filepath.IsAbs(target) {
				unix.Close(fd)
				if fd, err = openRoot(); err != nil {
					return -1, err
				}
				cur = "/"
			}
			comps = append(strings.Split(target, "/"), comps...)
			continue
		}
		unix.Close(fd)
		if err != nil {
			return -1, err
		}
		fd, cur = next, path
	}
	return fd, nil
}

func openRoot() (int, error) {
	fd, err := openNoIntr(unix.AT_FDCWD, "/", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: "/", Err: err}
	}
	if err := checkDir(fd, "/"); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

var errSymlink = errors.New("symbolic link")

// rootSymlink returns the target of the symbolic link name in parent if
// root owns the link.
func rootSymlink(parent int, name, path string) (string, error) {
	var st unix.Stat_t
	if err := unix.Fstatat(parent, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return "", &os.PathError{Op: "lstat", Path: path, Err: err}
	}
	if st.Uid != 0 {
		return "", fmt.Errorf("%w: %w", unsafePath(path, fmt.Sprintf("a symbolic link owned by uid %d, not root", st.Uid)), unix.ELOOP)
	}
	buf := make([]byte, 4096)
	n, err := unix.Readlinkat(parent, name, buf)
	if err != nil {
		return "", &os.PathError{Op: "readlink", Path: path, Err: err}
	}
	return string(buf[:n]), nil
}

func openSubdir(parent int, name, path string, create bool) (int, error) {
	const flags = unix.O_RDONLY | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_NONBLOCK | unix.O_CLOEXEC
	made := false
	fd, err := openNoIntr(parent, name, flags, 0)
	if errors.Is(err, unix.ENOENT) && create {
		if merr := unix.Mkdirat(parent, name, 0o777); merr == nil {
			made = true
		} else if !errors.Is(merr, unix.EEXIST) {
			return -1, &os.PathError{Op: "mkdir", Path: path, Err: merr}
		}
		fd, err = openNoIntr(parent, name, flags, 0)
	}
	if err != nil {
		var st unix.Stat_t
		if (errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR)) && unix.Fstatat(parent, name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil {
			if st.Mode&unix.S_IFMT == unix.S_IFLNK {
				return -1, errSymlink
			}
			return -1, fmt.Errorf("%w: %w", unsafePath(path, "not a directory"), err)
		}
		return -1, &os.PathError{Op: "open", Path: path, Err: err}
	}
	if made {
		// Only a directory we just made and whose owner fstat confirms is
		// chmodded; checkDir below still applies.
		var st unix.Stat_t
		if unix.Fstat(fd, &st) == nil && int(st.Uid) == unix.Geteuid() {
			_ = unix.Fchmod(fd, 0o777|unix.S_ISVTX)
		}
	}
	if err := checkDir(fd, path); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// checkDir applies the ownership and mode rule to an open directory.
func checkDir(fd int, path string) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return &os.PathError{Op: "fstat", Path: path, Err: err}
	}
	euid := unix.Geteuid()
	switch {
	case st.Mode&unix.S_IFMT != unix.S_IFDIR:
		return unsafePath(path, "not a directory")
	case st.Uid != 0 && int(st.Uid) != euid:
		return unsafePath(path, fmt.Sprintf("owned by uid %d, neither root nor this process's uid %d", st.Uid, euid))
	case st.Mode&0o022 != 0 && st.Mode&unix.S_ISVTX == 0:
		return unsafePath(path, fmt.Sprintf("mode %#o is writable by others without the sticky bit", st.Mode&0o7777))
	}
	return nil
}

// checkLockFile applies the lock-file rule to an open file: a regular file
// with one link, owned by this process's euid or root.
func checkLockFile(st *unix.Stat_t, path string) error {
	euid := unix.Geteuid()
	switch {
	case st.Mode&unix.S_IFMT != unix.S_IFREG:
		return unsafePath(path, "not a regular file")
	case st.Nlink != 1:
		return unsafePath(path, fmt.Sprintf("has %d hard links", st.Nlink))
	case st.Uid != 0 && int(st.Uid) != euid:
		return unsafePath(path, fmt.Sprintf("owned by uid %d, neither root nor this process's uid %d", st.Uid, euid))
	}
	return nil
}

func unsafePath(path, why string) error {
	return fmt.Errorf("%w: %s: %s", ErrUnsafePath, path, why)
}

func openNoIntr(dirfd int, name string, flags int, mode uint32) (int, error) {
	for {
		fd, err := unix.Openat(dirfd, name, flags, mode)
		if !errors.Is(err, unix.EINTR) {
			return fd, err
		}
	}
}
