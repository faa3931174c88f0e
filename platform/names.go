package platform

import (
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"os"
	"path"
	"runtime"
	"strings"
	"unicode/utf16"
)

// MaxNameLen is the longest buffer name accepted on Linux: the semaphore
// file "sem.sem-w-NAME" reaches NAME_MAX (255) at 246 bytes.
const MaxNameLen = 245

// Default directories on Linux and other Unix systems.
const (
	DefaultShmDir  = "/dev/shm"
	DefaultLockDir = "/tmp/zerobuffer"
)

// Names holds every object path of one buffer. On Windows and macOS the
// shared memory and semaphore fields hold kernel-object names, not paths
// (see [WindowsNames] and [DarwinNames]).
type Names struct {
	Shm        string // shared-memory segment
	SemW       string // "data available" semaphore (writer posts)
	SemR       string // "space available" semaphore (reader posts)
	Lock       string // reader lifetime lock (C++/Python location)
	WriterLock string // Go writer lifetime lock, ignored by foreign peers
}

// Dirs are the directories the objects live in. The zero value means the
// interoperable defaults: [DefaultShmDir] and [DefaultLockDir] on Unix,
// %TEMP%\zerobuffer\locks on Windows (see [WindowsNames]).
type Dirs struct {
	// Shm is the directory of the shared memory and semaphore files on
	// Linux. It is ignored on Windows and macOS, whose objects have names,
	// not paths.
	Shm string
	// Lock is the directory of the lock files.
	Lock string
	// GlobalNamespace (Windows only) puts the shared memory and the
	// semaphores in the Global\ kernel-object namespace, so that processes
	// of other sessions (services in session 0, other logged-on users)
	// find them. Creating a Global\ file mapping from a session other than
	// 0 needs the SeCreateGlobalPrivilege ("Create global objects"), which
	// services and elevated administrators have and ordinary desktop users
	// have not: for them the reader fails with access denied. The default
	// (false) uses the caller's session namespace, which is what the C#
	// implementation uses; no other implementation uses Global\ the same
	// way (see docs/PLATFORMS.md). Ignored on other systems.
	GlobalNamespace bool
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
// non-empty, at most [MaxNameLen] bytes, no '/', not "." or "..", and no
// control characters (bytes below 0x20 and 0x7f, NUL included), which
// would reach terminals raw through listings and logs.
func ValidateName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty", ErrInvalidName)
	case len(name) > MaxNameLen:
		return fmt.Errorf("%w: %d bytes, at most %d", ErrInvalidName, len(name), MaxNameLen)
	case strings.Contains(name, "/"):
		return fmt.Errorf("%w: %q contains '/'", ErrInvalidName, name)
	case name == "." || name == "..":
		return fmt.Errorf("%w: %q", ErrInvalidName, name)
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 0x20 || c == 0x7f {
			return fmt.Errorf("%w: %q contains the control character %#02x", ErrInvalidName, name, c)
		}
	}
	return nil
}

// SemPrefix starts the file name of every glibc named semaphore in
// /dev/shm. A buffer name starting with it would make the buffer's shared
// memory the semaphore file of another buffer ("sem.sem-w-X" is buffer
// X's data semaphore), so Unix systems refuse such names.
const SemPrefix = "sem."

func validateUnixName(name string) error {
	if strings.HasPrefix(name, SemPrefix) {
		return fmt.Errorf("%w: %q starts with %q, the prefix of semaphore files in /dev/shm", ErrInvalidName, name, SemPrefix)
	}
	return nil
}

// UnixNames returns the object paths glibc, the C++ and the Python
// implementations use for name (docs/PROTOCOL.md section 1): /dev/shm/NAME,
// /dev/shm/sem.sem-w-NAME, /dev/shm/sem.sem-r-NAME and
// /tmp/zerobuffer/NAME.lock. Names starting with [SemPrefix] are refused.
// The Go writer lock lives in a subdirectory
// ("writer/NAME.lock") so that it can never collide with a buffer's lock
// and is skipped by the reference implementations' stale-lock scan, which
// looks only at "*.lock" entries of the lock directory itself.
func UnixNames(name string, d Dirs) (Names, error) {
	if err := ValidateName(name); err != nil {
		return Names{}, err
	}
	if err := validateUnixName(name); err != nil {
		return Names{}, err
	}
	d = d.withDefaults()
	return Names{
		Shm:        path.Join(d.Shm, name),
		SemW:       path.Join(d.Shm, "sem.sem-w-"+name),
		SemR:       path.Join(d.Shm, "sem.sem-r-"+name),
		Lock:       path.Join(d.Lock, name+".lock"),
		WriterLock: path.Join(d.Lock, "writer", name+".lock"),
	}, nil
}

// ObjectNames returns the object names of buffer name on the operating
// system this program runs on.
func ObjectNames(name string, d Dirs) (Names, error) { return NamesFor(runtime.GOOS, name, d) }

// NamesFor returns the object names of buffer name on goos. It is a pure
// function so that every operating system's naming can be tested anywhere
// (apart from the default Windows lock directory, which depends on
// %TEMP%). See [UnixNames], [WindowsNames] and [DarwinNames].
func NamesFor(goos, name string, d Dirs) (Names, error) {
	switch goos {
	case "windows":
		return WindowsNames(name, d)
	case "darwin", "ios":
		return DarwinNames(name, d)
	default:
		return UnixNames(name, d)
	}
}

// Windows naming (docs/PLATFORMS.md, "Recommended Go behaviour"): the C#
// scheme, shared memory NAME and semaphores sem-w-NAME / sem-r-NAME in the
// session namespace (Global\ with [Dirs.GlobalNamespace]), the lock file
// %TEMP%\zerobuffer\locks\NAME.lock.
const (
	// winMaxPath is MAX_PATH, the limit (with the terminating NUL) of a
	// kernel-object name and of a lock-file path.
	winMaxPath = 260
	// InterruptSuffix is appended to a Windows semaphore name to name the
	// auto-reset event that [Semaphore.Interrupt] signals. A buffer name
	// cannot contain '/', so the event never collides with an object of
	// another buffer, and foreign implementations never open it.
	InterruptSuffix = "/interrupt"
	// GlobalPrefix is the kernel-object namespace prefix selected by
	// [Dirs.GlobalNamespace].
	GlobalPrefix = `Global\`
)

// WindowsNames returns the object names of buffer name on Windows:
// the file mapping NAME, the semaphores sem-w-NAME and sem-r-NAME (all
// prefixed with Global\ if d.GlobalNamespace is set), the lock file
// LOCKDIR\NAME.lock and the Go writer lock LOCKDIR\writer\NAME.lock, where
// LOCKDIR is d.Lock or %TEMP%\zerobuffer\locks (the C# location; on other
// systems, where this function only serves tests, %TEMP% stays literal).
// d.Shm is ignored.
//
// Beyond [ValidateName], the name must not contain characters Windows
// forbids in object or file names (\ < > : " | ? * and control
// characters) or be a reserved device name (CON, NUL, COM1, ...), and the
// longest object name and the writer lock path must stay below MAX_PATH
// (260 UTF-16 units).
func WindowsNames(name string, d Dirs) (Names, error) {
	if err := ValidateName(name); err != nil {
		return Names{}, err
	}
	if err := validateWindowsName(name); err != nil {
		return Names{}, err
	}
	prefix := ""
	if d.GlobalNamespace {
		prefix = GlobalPrefix
	}
	lockDir := d.Lock
	if lockDir == "" {
		lockDir = windowsLockDir()
	}
	lockDir = strings.TrimRight(lockDir, `\/`)
	n := Names{
		Shm:        prefix + name,
		SemW:       prefix + "sem-w-" + name,
		SemR:       prefix + "sem-r-" + name,
		Lock:       lockDir + `\` + name + ".lock",
		WriterLock: lockDir + `\writer\` + name + ".lock",
	}
	for _, s := range []string{n.SemW + InterruptSuffix, n.WriterLock} {
		if l := len(utf16.Encode([]rune(s))); l >= winMaxPath {
			return Names{}, fmt.Errorf("%w: %q gives the %d-character Windows name %q, at most %d", ErrInvalidName, name, l, s, winMaxPath-1)
		}
	}
	return n, nil
}

func windowsLockDir() string {
	tmp := "%TEMP%"
	if runtime.GOOS == "windows" {
		tmp = os.TempDir()
	}
	return strings.TrimRight(tmp, `\/`) + `\zerobuffer\locks`
}

func validateWindowsName(name string) error {
	if i := strings.IndexAny(name, `\<>:"|?*`); i >= 0 {
		return fmt.Errorf("%w: %q contains %q, which Windows forbids in object and file names", ErrInvalidName, name, name[i])
	}
	for _, c := range []byte(name) {
		if c < 0x20 {
			return fmt.Errorf("%w: %q contains a control character", ErrInvalidName, name)
		}
	}
	base, _, _ := strings.Cut(strings.ToUpper(name), ".")
	base = strings.TrimRight(base, " ")
	switch {
	case base == "CON" || base == "PRN" || base == "AUX" || base == "NUL",
		len(base) == 4 && (strings.HasPrefix(base, "COM") || strings.HasPrefix(base, "LPT")) && base[3] >= '0' && base[3] <= '9':
		return fmt.Errorf("%w: %q is a reserved Windows device name", ErrInvalidName, name)
	}
	return nil
}

// DarwinMaxObjectName is the longest shared-memory or semaphore name macOS
// accepts: 30 bytes, as sem_open rejects names whose length with the
// terminating NUL exceeds PSEMNAMLEN (31) with ENAMETOOLONG (older kernels
// apply the same limit to shm_open).
const DarwinMaxObjectName = 30

// DarwinNames returns the object names of buffer name on macOS. They are
// the strings the Linux implementations pass to shm_open and sem_open,
// shared memory NAME and semaphores /sem-w-NAME and /sem-r-NAME, and the
// lock files LOCKDIR/NAME.lock and LOCKDIR/writer/NAME.lock with LOCKDIR =
// d.Lock or /tmp/zerobuffer. d.Shm is ignored: macOS objects live in a
// kernel name table, not in a directory. No other ZeroBuffer
// implementation works on macOS (docs/PLATFORMS.md), so there is no peer
// to match beyond these strings.
//
// Hashing rule. macOS limits these names to [DarwinMaxObjectName] (30)
// bytes, which leaves only 23 bytes of NAME for a semaphore. A longer
// object name is made deterministic and short: NAME is replaced by '#'
// followed by the lower-case, unpadded base32 encoding of SHA-256(NAME),
// cut to fill the name to exactly 30 bytes:
//
//	shm   NAME         if len(NAME) <= 30, else "#" + hash[:29]
//	sem   /sem-w-NAME  if len(NAME) <= 23, else "/sem-w-#" + hash[:22]
//	sem   /sem-r-NAME  if len(NAME) <= 23, else "/sem-r-#" + hash[:22]
//
// 22 base32 characters carry 110 bits, so distinct names do not collide;
// a literal NAME could only collide with a hashed one by being exactly 30
// (23) bytes long, starting with '#' and continuing with that hash.
//
// The forms are told apart by [Remove]: a shared-memory name contains no
// '/', a semaphore name contains only its leading '/', and a lock path
// always has a '/' after its first byte (LOCKDIR is cleaned and joined
// with '/', so the root directory gives "//NAME.lock").
func DarwinNames(name string, d Dirs) (Names, error) {
	if err := ValidateName(name); err != nil {
		return Names{}, err
	}
	if err := validateUnixName(name); err != nil {
		return Names{}, err
	}
	lockDir := d.Lock
	if lockDir == "" {
		lockDir = DefaultLockDir
	}
	lockDir = path.Clean(lockDir)
	return Names{
		Shm:        darwinObjectName("", name),
		SemW:       darwinObjectName("/sem-w-", name),
		SemR:       darwinObjectName("/sem-r-", name),
		Lock:       lockDir + "/" + name + ".lock",
		WriterLock: lockDir + "/writer/" + name + ".lock",
	}, nil
}

func darwinObjectName(prefix, name string) string {
	if len(prefix)+len(name) <= DarwinMaxObjectName {
		return prefix + name
	}
	sum := sha256.Sum256([]byte(name))
	h := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:]))
	return prefix + "#" + h[:DarwinMaxObjectName-len(prefix)-1]
}

// CSharpLock returns the lock file a C# reader of the same buffer holds
// on Unix systems, LOCKDIR/locks/NAME.lock (docs/PROTOCOL.md section 1),
// so that Go peers can see that reader too. It is "" on Windows, where
// [Names.Lock] already is the C# location.
func (n Names) CSharpLock() string {
	if runtime.GOOS == "windows" || n.Lock == "" {
		return ""
	}
	return path.Join(path.Dir(n.Lock), "locks", path.Base(n.Lock))
}
