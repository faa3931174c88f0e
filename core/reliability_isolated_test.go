//go:build linux

package core

// Children that run isolated from the test process, for the rows C14-C16:
// in a new user and mount namespace (where they mount small tmpfs
// instances) or as another user.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zerobuffer/zerobuffer-go/internal/testproc"
)

func init() {
	childRoles["rel-isolated"] = roleRelIsolated
}

// Environment variables of internal/testproc (its envRole and envArgs):
// runIsolated starts children with SysProcAttr settings testproc does not
// offer (user namespaces, another uid) but reuses its role dispatch.
const (
	testprocRoleEnv = "ZB_TESTPROC_ROLE"
	testprocArgsEnv = "ZB_TESTPROC_ARGS"
)

// runIsolated runs the rel-isolated role with args in a child started
// with attr and returns its status lines.
func runIsolated(t *testing.T, exe string, attr *syscall.SysProcAttr, args ...string) ([]string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	argv := append(strings.Fields(os.Getenv("ZB_EXEC_PREFIX")), exe, "-test.run=^$")
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), testprocRoleEnv+"=rel-isolated", testprocArgsEnv+"="+strings.Join(args, "\x1f"))
	cmd.SysProcAttr = attr
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	t.Logf("%s: %q", args[0], lines)
	return lines, err
}

// userNS returns the attributes of a child that is root in a new user and
// mount namespace (no privilege needed where unprivileged user namespaces
// are enabled).
func userNS() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
		Pdeathsig:   syscall.SIGKILL,
	}
}

// runInUserNS runs an isolated op in a user namespace, or skips the test
// with the exact reason the kernel gave.
func runInUserNS(t *testing.T, args ...string) map[string]string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	lines, err := runIsolated(t, exe, userNS(), args...)
	if err != nil && len(lines) <= 1 && lines[0] == "" {
		t.Skipf("cannot start a child in a new user+mount namespace (CLONE_NEWUSER|CLONE_NEWNS): %v", err)
	}
	return parseResults(t, lines, err)
}

// parseResults turns "key value..." lines into a map; "skip REASON" skips.
func parseResults(t *testing.T, lines []string, err error) map[string]string {
	t.Helper()
	res := map[string]string{}
	for _, l := range lines {
		k, v, _ := strings.Cut(l, " ")
		if k == "skip" {
			t.Skip(v)
		}
		res[k] = v
	}
	if err != nil {
		t.Fatalf("isolated child failed: %v (%q)", err, lines)
	}
	return res
}

// runAsNobody runs an isolated op as uid/gid 65534 from a copy of the test
// binary that the user can execute, or skips when this process cannot
// switch users (not root).
func runAsNobody(t *testing.T, args ...string) map[string]string {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("needs root to start a child as another user (uid 65534)")
	}
	exe := exeForOthers(t)
	attr := &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}, Pdeathsig: syscall.SIGKILL}
	lines, err := runIsolated(t, exe, attr, args...)
	return parseResults(t, lines, err)
}

// exeForOthers links (or copies) the test binary into a world-readable
// directory.
func exeForOthers(t *testing.T) string {
	t.Helper()
	src, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := worldDir(t, 0o755)
	dst := filepath.Join(dir, "core.test")
	if os.Link(src, dst) == nil && os.Chmod(dst, 0o755) == nil {
		return dst // same file system: no copy needed
	}
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return dst
}

// worldDir makes a temporary directory with the given mode (t.TempDir
// is 0700, unusable by another user).
func worldDir(t *testing.T, mode os.FileMode) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "zbrel")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, mode); err != nil {
		t.Fatal(err)
	}
	return dir
}

// roleRelIsolated runs one operation in an isolated child and reports
// "key value" lines. Ops: shmfull, lockfull, readonly (in a user
// namespace, which mounts small tmpfs instances) and reader, writer (as
// another user, with the directories given).
func roleRelIsolated(c *testproc.Child, a []string) int {
	op, name := a[0], a[1]
	if strings.HasPrefix(op, "ns-") {
		if err := syscall.Mount("none", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
			c.Printf("skip making mounts private in the user namespace: %v", err)
			return 0
		}
	}
	mount := func(dir, opts string) bool {
		if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, opts); err != nil {
			c.Printf("skip mount tmpfs (%s) on %s in a user namespace: %v", opts, dir, err)
			return false
		}
		return true
	}
	remountRO := func(dir, opts string) bool {
		if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_REMOUNT|syscall.MS_RDONLY, opts); err != nil {
			c.Printf("skip remount %s read-only: %v", dir, err)
			return false
		}
		return true
	}
	report := func(key string, err error, took time.Duration) {
		c.Printf("%s enospc=%v erofs=%v eacces=%v eperm=%v permission=%v took=%dus err=%v", key,
			errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EROFS), errors.Is(err, syscall.EACCES),
			errors.Is(err, syscall.EPERM), errors.Is(err, fs.ErrPermission), took.Microseconds(), err)
	}
	list := func(key string, dirs ...string) {
		var all []string
		for _, d := range dirs {
			ents, _ := os.ReadDir(d)
			for _, e := range ents {
				all = append(all, e.Name())
			}
		}
		c.Printf("%s %q", key, all)
	}
	newReader := func(key, shm, lock string, payload int) *Reader {
		start := time.Now()
		r, err := NewReader(name, BufferConfig{PayloadSize: payload}, WithDirs(shm, lock))
		report(key, err, time.Since(start))
		return r
	}
	switch op {
	case "ns-shmfull": // name shm lock
		shm, lock := a[2], a[3]
		if !mount(shm, "size=256k") {
			return 0
		}
		if r := newReader("create", shm, lock, 1<<20); r != nil {
			r.Close()
		}
		list("left", shm, lock)
		c.Printf("canary %s", sigbusCanary(filepath.Join(shm, "canary"), 1<<20))
	case "ns-lockfull": // name shm lock lock2
		shm, lock, lock2 := a[2], a[3], a[4]
		if !mount(lock, "size=64k,nr_inodes=1") || !mount(lock2, "size=64k,nr_inodes=2") {
			return 0
		}
		if r := newReader("create", shm, lock, 4096); r != nil {
			r.Close()
		}
		list("left", shm, lock)
		r := newReader("create2", shm, lock2, 4096)
		if r == nil {
			return 1
		}
		start := time.Now()
		w, err := NewWriter(name, WithDirs(shm, lock2))
		report("writer", err, time.Since(start))
		if w != nil {
			w.Close()
		}
		c.Printf("writerpid %d", r.v.load(offWriterPID))
		r.Close()
		list("left2", shm, lock2)
	case "ns-readonly": // name shm lock shm2 lock2
		shm, lock, shm2, lock2 := a[2], a[3], a[4], a[5]
		if !mount(lock, "size=64k") || !remountRO(lock, "size=64k") ||
			!mount(shm2, "size=256k") || !remountRO(shm2, "size=256k") {
			return 0
		}
		if r := newReader("lockro", shm, lock, 4096); r != nil {
			r.Close()
		}
		list("left", shm)
		if r := newReader("shmro", shm2, lock2, 4096); r != nil {
			r.Close()
		}
		list("left2", lock2)
	case "reader": // name shm lock
		if r := newReader("create", a[2], a[3], 4096); r != nil {
			r.Close()
		}
		list("left", a[2], a[3])
	case "writer": // name shm lock
		start := time.Now()
		w, err := NewWriter(name, WithDirs(a[2], a[3]))
		report("connect", err, time.Since(start))
		if w != nil {
			w.Close()
		}
	default:
		c.Printf("fail unknown op %s", op)
		return 1
	}
	return 0
}

// sigbusCanary shows what fallocate protects against: a file that is only
// ftruncated on a full tmpfs maps fine and faults on first touch. It
// returns where the fault hit, as an offset into the mapping.
func sigbusCanary(path string, size int) (res string) {
	f, err := os.Create(path)
	if err != nil {
		return "error " + err.Error()
	}
	defer os.Remove(path)
	defer f.Close()
	if err := f.Truncate(int64(size)); err != nil {
		return "error " + err.Error()
	}
	b, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return "error " + err.Error()
	}
	defer syscall.Munmap(b)
	old := debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(old)
	defer func() {
		if e := recover(); e != nil {
			if ae, ok := e.(interface{ Addr() uintptr }); ok {
				base := reflect.ValueOf(b).Pointer()
				res = fmt.Sprintf("fault at offset %d of %d (inside the mapping: %v)", ae.Addr()-base, size,
					ae.Addr() >= base && ae.Addr() < base+uintptr(size))
				return
			}
			res = fmt.Sprintf("panic %v", e)
		}
	}()
	for i := 0; i < size; i += 4096 {
		b[i] = 1
	}
	return "no fault"
}
