package platform

import (
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
)

// MaxNameLen is the longest buffer name accepted on Linux: the semaphore
// file "sem.sem-w-NAME" reaches NAME_MAX (255) at 246 bytes.
const MaxNameLen = 245

// Default directories on Linux and other Unix systems.
const (
	DefaultShmDir  = "/dev/shm"
	DefaultLockDir = "/tmp/zerobuffer"
)

// Names holds every object path of one buffer.
type Names struct {
	Shm        string // shared-memory segment
	SemW       string // "data available" semaphore (writer posts)
	SemR       string // "space available" semaphore (reader posts)
	Lock       string // reader lifetime lock (C++/Python location)
	WriterLock string // Go writer lifetime lock, ignored by foreign peers
}

// Dirs are the directories the objects live in. The zero value means the
// interoperable defaults ([DefaultShmDir], [DefaultLockDir]).
type Dirs struct {
	Shm  string
	Lock string
}

func (d Dirs) withDefaults() Dirs {
	if d.Shm == "" {
		d.Shm = DefaultShmDir
	}
	if d.Lock == "" {
		d.Lock = DefaultLockDir
	}
	return d
}

// ValidateName checks a buffer name against the rules every peer shares:
// non-empty, at most [MaxNameLen] bytes, no '/', no NUL, not "." or "..".
func ValidateName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty", ErrInvalidName)
	case len(name) > MaxNameLen:
		return fmt.Errorf("%w: %d bytes, at most %d", ErrInvalidName, len(name), MaxNameLen)
	case strings.ContainsAny(name, "/\x00"):
		return fmt.Errorf("%w: %q contains '/' or NUL", ErrInvalidName, name)
	case name == "." || name == "..":
		return fmt.Errorf("%w: %q", ErrInvalidName, name)
	}
	return nil
}

// UnixNames returns the object paths glibc, the C++ and the Python
// implementations use for name (spec section 1): /dev/shm/NAME,
// /dev/shm/sem.sem-w-NAME, /dev/shm/sem.sem-r-NAME and
// /tmp/zerobuffer/NAME.lock. The Go writer lock lives in a subdirectory
// ("writer/NAME.lock") so that it can never collide with a buffer's lock
// and is skipped by the reference implementations' stale-lock scan, which
// looks only at "*.lock" entries of the lock directory itself.
func UnixNames(name string, d Dirs) (Names, error) {
	if err := ValidateName(name); err != nil {
		return Names{}, err
	}
	d = d.withDefaults()
	return Names{
		Shm:        filepath.Join(d.Shm, name),
		SemW:       filepath.Join(d.Shm, "sem.sem-w-"+name),
		SemR:       filepath.Join(d.Shm, "sem.sem-r-"+name),
		Lock:       filepath.Join(d.Lock, name+".lock"),
		WriterLock: filepath.Join(d.Lock, "writer", name+".lock"),
	}, nil
}

// ObjectNames returns the object names of buffer name on the operating
// system this program runs on.
func ObjectNames(name string, d Dirs) (Names, error) { return NamesFor(runtime.GOOS, name, d) }

// NamesFor returns the object names of buffer name on goos. It is a pure
// function so that every operating system's naming can be tested anywhere.
func NamesFor(goos, name string, d Dirs) (Names, error) {
	switch goos {
	default:
		return UnixNames(name, d)
	}
}
