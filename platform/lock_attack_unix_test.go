//go:build unix

package platform

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// otherUID is the unprivileged uid the attacker's objects belong to.
const otherUID = 65534

// needRoot skips a test that must create objects owned by another uid.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skipf("skipped: creating files owned by uid %d needs root (running as uid %d)", otherUID, os.Geteuid())
	}
}

// sharedDir returns a fresh 01777 directory, like /tmp.
func sharedDir(t *testing.T) string {
	t.Helper()
	d := filepath.Join(t.TempDir(), "shared")
	if err := os.Mkdir(d, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(d, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	return d
}

// noHang fails the test if f does not return within a generous bound.
func noHang(t *testing.T, what string, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatalf("%s hangs", what)
		return nil
	}
}

func TestLock_SymlinkedDirectoryRefused(t *testing.T) {
	d := sharedDir(t)
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.Mkdir(victim, 0o755); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(victim, "x.lock")
	if err := os.WriteFile(target, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(d, "writer")
	if err := os.Symlink(victim, link); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		// The attacker's link: root-owned links are followed (macOS /tmp).
		if err := os.Lchown(link, otherUID, otherUID); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(d, "writer", "x.lock")
	if _, err := AcquireLock(path, 0o666); !errors.Is(err, ErrUnsafePath) {
		t.Fatalf("AcquireLock through a symlinked directory: %v, want ErrUnsafePath", err)
	}
	if _, err := ProbeLock(path); !errors.Is(err, ErrUnsafePath) {
		t.Errorf("ProbeLock through a symlinked directory: %v, want ErrUnsafePath", err)
	}
	if err := RemoveLockFile(path); !errors.Is(err, ErrUnsafePath) {
		t.Errorf("RemoveLockFile through a symlinked directory: %v, want ErrUnsafePath", err)
	}
	b, err := os.ReadFile(target)
	fi, _ := os.Stat(target)
	if err != nil || string(b) != "precious" || fi.Mode().Perm() != 0o644 {
		t.Errorf("the symlink target was touched: %q %v %v", b, fi.Mode(), err)
	}
}

func TestLock_ForeignOwnedDirectoryRefused(t *testing.T) {
	needRoot(t)
	d := filepath.Join(sharedDir(t), "zerobuffer")
	if err := os.Mkdir(d, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(d, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(d, otherUID, otherUID); err != nil {
		t.Fatal(err)
	}
	_, err := AcquireLock(filepath.Join(d, "x.lock"), 0o600)
	if !errors.Is(err, ErrUnsafePath) {
		t.Fatalf("AcquireLock in a directory of uid %d: %v, want ErrUnsafePath", otherUID, err)
	}
	t.Logf("refused: %v", err)
}

func TestLock_WorldWritableWithoutStickyRefused(t *testing.T) {
	d := filepath.Join(t.TempDir(), "open")
	if err := os.Mkdir(d, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(d, 0o777); err != nil {
		t.Fatal(err)
	}
	if _, err := AcquireLock(filepath.Join(d, "x.lock"), 0o600); !errors.Is(err, ErrUnsafePath) {
		t.Fatalf("AcquireLock in a 0777 directory: %v, want ErrUnsafePath", err)
	}
}

func TestLock_HardLinkRefused(t *testing.T) {
	d := sharedDir(t)
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(d, "x.lock")
	if err := os.Link(victim, path); err != nil {
		t.Skipf("skipped: the kernel forbids the hard link (%v)", err)
	}
	if _, err := AcquireLock(path, 0o600); !errors.Is(err, ErrUnsafePath) {
		t.Fatalf("AcquireLock of a hard link: %v, want ErrUnsafePath", err)
	}
	b, _ := os.ReadFile(victim)
	fi, _ := os.Stat(victim)
	if string(b) != "precious" || fi.Mode().Perm() != 0o644 {
		t.Errorf("the linked file was changed: %q %v", b, fi.Mode())
	}
}

func TestLock_FIFONeverHangs(t *testing.T) {
	d := sharedDir(t)
	path := filepath.Join(d, "x.lock")
	if err := syscall.Mkfifo(path, 0o666); err != nil {
		t.Fatal(err)
	}
	err := noHang(t, "AcquireLock of a FIFO", func() error { _, err := AcquireLock(path, 0o600); return err })
	if !errors.Is(err, ErrUnsafePath) {
		t.Errorf("AcquireLock of a FIFO: %v, want ErrUnsafePath", err)
	}
	err = noHang(t, "ProbeLock of a FIFO", func() error { _, err := ProbeLock(path); return err })
	if !errors.Is(err, ErrUnsafePath) {
		t.Errorf("ProbeLock of a FIFO: %v, want ErrUnsafePath", err)
	}
}

func TestLock_ForeignOwnedFileRefusedAndUnchanged(t *testing.T) {
	needRoot(t)
	d := sharedDir(t)
	path := filepath.Join(d, "x.lock")
	if err := os.WriteFile(path, []byte("4242\n"), 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(path, otherUID, otherUID); err != nil {
		t.Fatal(err)
	}
	if _, err := AcquireLock(path, 0o600); !errors.Is(err, ErrUnsafePath) {
		t.Fatalf("AcquireLock of a file of uid %d: %v, want ErrUnsafePath", otherUID, err)
	}
	b, _ := os.ReadFile(path)
	fi, _ := os.Stat(path)
	if string(b) != "4242\n" || fi.Mode().Perm() != 0o666 {
		t.Errorf("the foreign file was changed: %q %v", b, fi.Mode())
	}
	st, err := ProbeLock(path)
	if err != nil || !st.Exists || st.Owner != otherUID {
		t.Errorf("ProbeLock = %+v, %v; want the owner reported", st, err)
	}
}

func TestLock_HeldLockNotChmodded(t *testing.T) {
	d := sharedDir(t)
	path := filepath.Join(d, "x.lock")
	l, err := AcquireLock(path, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release(true)
	if _, err := AcquireLock(path, 0o600); !errors.Is(err, ErrLocked) {
		t.Fatalf("second AcquireLock: %v, want ErrLocked", err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 {
		t.Errorf("a failed lock attempt changed the mode to %v", fi.Mode())
	}
}

// TestLock_RootSymlinkFollowed: a root-owned link on the way (macOS's
// /tmp -> private/tmp) is followed.
func TestLock_RootSymlinkFollowed(t *testing.T) {
	needRoot(t)
	base := t.TempDir()
	real := filepath.Join(base, "private")
	if err := os.Mkdir(real, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("private", filepath.Join(base, "tmp")); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(base, "tmp", "zerobuffer", "x.lock")
	l, err := AcquireLock(path, 0o600)
	if err != nil {
		t.Fatalf("AcquireLock through a root-owned link: %v", err)
	}
	defer l.Release(true)
	if _, err := os.Stat(filepath.Join(real, "zerobuffer", "x.lock")); err != nil {
		t.Errorf("lock file not in the link's target: %v", err)
	}
}
