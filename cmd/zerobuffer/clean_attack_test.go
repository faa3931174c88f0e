//go:build linux

package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/zerobuffer/zerobuffer-go/internal/layout"
	"github.com/zerobuffer/zerobuffer-go/platform"
)

const attackerUID = 65534

// sharedDirs returns a shared-memory and a lock directory of mode 01777
// (like /dev/shm and /tmp) and the environment that points the CLI at
// them.
func sharedDirs(t *testing.T) (platform.Dirs, []string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skipf("skipped: files of uid %d need root (running as uid %d)", attackerUID, os.Geteuid())
	}
	root, err := os.MkdirTemp("", "zbcli") // t.TempDir's parent is 0700: closed to other users
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	os.Chmod(root, 0o755)
	d := platform.Dirs{Shm: filepath.Join(root, "shm"), Lock: filepath.Join(root, "lock")}
	for _, p := range []string{d.Shm, d.Lock} {
		if err := os.Mkdir(p, 0o777); err != nil {
			t.Fatal(err)
		}
		os.Chmod(p, 0o777|os.ModeSticky)
	}
	return d, []string{"ZEROBUFFER_SHM_DIR=" + d.Shm, "ZEROBUFFER_LOCK_DIR=" + d.Lock}
}

func writeOwned(t *testing.T, path string, b []byte, uid int) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(path, uid, uid); err != nil {
		t.Fatal(err)
	}
}

// TestClean_StaleSparesForeignObjects: another user touches a lock file
// named after some program's /dev/shm object; root's clean --stale must
// not delete that object. A complete stale buffer of another user is
// removed only with --force.
func TestClean_StaleSparesForeignObjects(t *testing.T) {
	d, env := sharedDirs(t)
	victim := filepath.Join(d.Shm, "other-program-segment")
	data := bytes.Repeat([]byte("not a zerobuffer "), 300)
	writeOwned(t, victim, data, 0)
	writeOwned(t, filepath.Join(d.Lock, "other-program-segment.lock"), nil, attackerUID)
	writeOwned(t, filepath.Join(d.Shm, "sem.sem-w-other-program-segment"), make([]byte, platform.SemFileSize), attackerUID)

	g, _ := layout.NewGeometry(0, 4096)
	img := make([]byte, g.SegmentSize())
	o := layout.Initial(g, 0) // reader gone: stale
	o.Encode(img)
	theirs := "their-stale-buffer"
	writeOwned(t, filepath.Join(d.Shm, theirs), img, attackerUID)
	for _, p := range []string{"sem.sem-w-", "sem.sem-r-"} {
		writeOwned(t, filepath.Join(d.Shm, p+theirs), make([]byte, platform.SemFileSize), attackerUID)
	}

	r := zbEnv(t, env, "", "clean", "--stale")
	if got, err := os.ReadFile(victim); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("clean --stale removed or changed another program's object (%v); stdout %q", err, r.stdout)
	}
	if _, err := os.Stat(filepath.Join(d.Shm, theirs)); err != nil {
		t.Fatalf("clean --stale without --force removed uid %d's buffer: %v", attackerUID, err)
	}
	if !strings.Contains(r.stdout, "skipped "+theirs) {
		t.Errorf("clean --stale: stdout %q, want %s skipped", r.stdout, theirs)
	}
	r = zbEnv(t, env, "", "clean", "--stale", "--force")
	if _, err := os.Stat(filepath.Join(d.Shm, theirs)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("clean --stale --force as root kept %s: %v; stdout %q stderr %q", theirs, err, r.stdout, r.stderr)
	}
	if got, err := os.ReadFile(victim); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("clean --stale --force removed another program's object: %v", err)
	}
	if r := zbEnv(t, env, "", "clean", "sem.sem-w-other-program-segment"); r.code == exitOK {
		t.Errorf("clean of a sem. name: exit 0, stdout %q", r.stdout)
	}
}

// freePID returns a PID no process of this namespace has.
func freePID(t *testing.T) int {
	for p := 32000; p > 20000; p-- {
		if err := syscall.Kill(p, 0); errors.Is(err, syscall.ESRCH) {
			return p
		}
	}
	t.Skip("skipped: no free PID found")
	return 0
}

// TestClean_StaleKeepsReaderInOtherPIDNamespace: a reader in another PID
// namespace with a private lock directory (its own /tmp) is alive though
// neither its PID nor its lock is visible here.
func TestClean_StaleKeepsReaderInOtherPIDNamespace(t *testing.T) {
	d, env := sharedDirs(t)
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("skipped: unshare(1) not installed")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	name := uniqueName(t)
	pid := freePID(t)
	script := fmt.Sprintf(`mount -t tmpfs tmpfs %q || exit 97
echo %d > /proc/sys/kernel/ns_last_pid || exit 98
"$0" recv %q
true`, d.Lock, pid-1, name)
	cmd := exec.Command("unshare", "--pid", "--kill-child", "--mount-proc", "--propagation", "private", "sh", "-c", script, exe)
	cmd.Env = append(append(os.Environ(), helperEnv+"=1"), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Skipf("skipped: unshare: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
		removeObjects(t, name, d)
	})
	waitFor(t, "the namespaced reader", func() bool {
		select {
		case err := <-done:
			done <- err
			t.Skipf("skipped: the reader in a new PID namespace exited: %v: %s", err, errb.String())
		default:
		}
		b, err := probe(name, d)
		return err == nil && b.Valid && b.ReaderPID != 0
	})
	b, _ := probe(name, d)
	t.Logf("reader pid in its namespace: %d (free here: %d); lock here: %s", b.ReaderPID, pid, b.ReaderLock)
	if b.ReaderLock != "missing" {
		t.Skipf("skipped: the lock directory is not private (%s)", b.ReaderLock)
	}
	r := zbEnv(t, env, "", "clean", "--stale")
	if left := objectsLeft(t, name, d); len(left) != 3 {
		t.Fatalf("clean --stale removed a live reader's buffer in another PID namespace: left %v; stdout %q", left, r.stdout)
	}
	if !b.ReaderAlive || b.Stale {
		t.Errorf("probe of a live namespaced reader: %+v", b)
	}
}

// TestLs_FIFOsNeverHang: FIFOs planted at a lock path and at a segment
// path make ls, inspect and clean fail or skip, never hang.
func TestLs_FIFOsNeverHang(t *testing.T) {
	d, env := sharedDirs(t)
	for _, p := range []string{filepath.Join(d.Lock, "fifo.lock"), filepath.Join(d.Shm, "fifo2"), filepath.Join(d.Lock, "fifo2.lock")} {
		if err := syscall.Mkfifo(p, 0o666); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{{"ls"}, {"inspect", "fifo"}, {"inspect", "fifo2"}, {"clean", "--stale"}, {"clean", "fifo"}} {
		r := zbEnv(t, env, "", args...) // fails the test after 60s
		t.Logf("%v: exit %d, %q %q", args, r.code, r.stdout, r.stderr)
	}
}

// TestSend_AllowOwner: send refuses another user's buffer unless that
// user is named with --allow-owner.
func TestSend_AllowOwner(t *testing.T) {
	d, env := sharedDirs(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	binDir := filepath.Join(filepath.Dir(d.Shm), "bin")
	os.Mkdir(binDir, 0o755)
	bin := filepath.Join(binDir, "zerobuffer.test")
	if err := os.Link(exe, bin); err != nil {
		t.Skipf("skipped: cannot link the test binary where uid %d can run it: %v", attackerUID, err)
	}
	name := uniqueName(t)
	cmd := exec.Command(bin, "recv", "--count", "1", name)
	cmd.Env = append(append(os.Environ(), helperEnv+"=1"), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL,
		Credential: &syscall.Credential{Uid: attackerUID, Gid: attackerUID, Groups: []uint32{}}}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill(); <-done; removeObjects(t, name, d) })
	waitFor(t, "the other user's reader", func() bool {
		b, err := probe(name, d)
		return err == nil && b.Valid && b.ReaderAlive
	})
	if r := zbEnv(t, env, "refused\n", "send", name); r.code == exitOK || !strings.Contains(r.stderr, "untrusted user") {
		t.Fatalf("send to uid %d's buffer: exit %d, stderr %q", attackerUID, r.code, r.stderr)
	}
	if r := zbEnv(t, env, "hello\n", "send", "--allow-owner", fmt.Sprint(attackerUID), name); r.code != exitOK {
		t.Fatalf("send --allow-owner %d: exit %d, stderr %q", attackerUID, r.code, r.stderr)
	}
	if err := <-done; err != nil || out.String() != "hello\n" {
		t.Errorf("recv as uid %d: %v, stdout %q, stderr %q", attackerUID, err, out.String(), errb.String())
	}
	done <- nil
}
