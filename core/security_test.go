//go:build linux

package core

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zerobuffer/zerobuffer-go/internal/hostile"
	"github.com/zerobuffer/zerobuffer-go/internal/layout"
	"github.com/zerobuffer/zerobuffer-go/internal/testproc"
	"github.com/zerobuffer/zerobuffer-go/platform"
)

// Attacks by another local user. The attacker runs as uid and
// gid 65534 in a child process; shared directories are 01777 like /tmp
// and /dev/shm.

const attackerUID = 65534

// secTimeout bounds every wait for a child's line; generous for a loaded
// machine.
const secTimeout = 20 * time.Second

func init() {
	childRoles["sec-reader"] = roleSecReader
}

// roleSecReader (args: name shm lock) creates a buffer that every user
// may open and reports each frame until its input closes.
func roleSecReader(c *testproc.Child, a []string) int {
	r, err := NewReader(a[0], BufferConfig{PayloadSize: 4096}, WithDirs(a[1], a[2]), WithFileMode(0o666))
	if err != nil {
		c.Printf("fail %v", err)
		return 1
	}
	defer r.Close()
	c.Printf("ready %d", os.Getpid())
	go func() {
		for {
			if _, ok := c.Next(); !ok {
				r.Close()
				return
			}
		}
	}()
	for {
		f, err := r.ReadFrame(context.Background())
		if err != nil {
			c.Printf("end %v", err)
			return 0
		}
		c.Printf("frame %s", f.Data())
		f.Release()
	}
}

// asAttacker starts role as uid 65534, or skips with the reason.
func asAttacker(t *testing.T, role string, args ...string) *testproc.Proc {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skipf("skipped: starting a child as uid %d needs root (running as uid %d)", attackerUID, os.Geteuid())
	}
	p := testproc.StartAs(t, exeForOthers(t), attackerUID, attackerUID, role, args...)
	if l := p.Expect("", secTimeout); !strings.HasPrefix(l, "ready") {
		t.Fatalf("attacker's %s: %s", role, l)
	}
	return p
}

// sharedDirs returns a shared-memory and a lock directory with mode
// 01777, like /dev/shm and /tmp.
func sharedDirs(t *testing.T) (shm, lock string) {
	return worldDir(t, os.ModeSticky|0o777), worldDir(t, os.ModeSticky|0o777)
}

func TestWriter_RefusesForeignOwnedBuffer(t *testing.T) {
	name := testName(t)
	shm, lock := sharedDirs(t)
	p := asAttacker(t, "sec-reader", name, shm, lock)
	_, err := NewWriter(name, WithDirs(shm, lock))
	if !errors.Is(err, ErrForeignOwner) || !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("NewWriter to a buffer of uid %d: %v, want ErrForeignOwner", attackerUID, err)
	}
	t.Logf("refused: %v", err)
	// Deliberate sharing still works.
	w, err := NewWriter(name, WithDirs(shm, lock), WithAllowedOwners(attackerUID))
	if err != nil {
		t.Fatalf("NewWriter with WithAllowedOwners(%d): %v", attackerUID, err)
	}
	if err := w.WriteFrame(context.Background(), []byte("shared")); err != nil {
		t.Fatal(err)
	}
	if l := p.Expect("frame", secTimeout); l != "frame shared" {
		t.Errorf("attacker's reader got %q", l)
	}
	w.Close()
	p.CloseInput()
	p.Expect("end", secTimeout)
}

func TestWriter_WithGroupSharing(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipped: giving objects another group needs root")
	}
	name := testName(t)
	shm, lock := sharedDirs(t)
	const gid = 65534
	r, err := NewReader(name, BufferConfig{PayloadSize: 4096}, WithDirs(shm, lock), WithGroup(gid))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, p := range []string{r.names.Shm, r.names.SemW, r.names.SemR, r.names.Lock} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		if st.Gid != gid || fi.Mode().Perm() != 0o660 {
			t.Errorf("%s: group %d mode %v, want group %d mode 0660", p, st.Gid, fi.Mode().Perm(), gid)
		}
	}
	w, err := NewWriter(name, WithDirs(shm, lock))
	if err != nil {
		t.Fatalf("own writer: %v", err)
	}
	w.Close()
}

// foreignWriterBuffer returns a reader in shared directories whose
// writer_pid names a live process without any lock (as a C++ writer
// would), and the path of the Go writer lock.
func foreignWriterBuffer(t *testing.T, pid uint64) (*Reader, string) {
	t.Helper()
	name := testName(t)
	shm, lock := sharedDirs(t)
	r := mustReader(t, name, 0, 4096, WithDirs(shm, lock), fastPeer)
	h, err := hostile.Open(name, platform.Dirs{Shm: shm, Lock: lock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	if err := h.PokeName("writer_pid", pid); err != nil {
		t.Fatal(err)
	}
	return r, r.names.WriterLock
}

// plantLock creates path (and its directory, mode 01777) as the attacker:
// a file of uid 65534 holding content.
func plantLock(t *testing.T, path, content string) *os.File {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skipf("skipped: creating a file of uid %d needs root", attackerUID)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Dir(path), 0o777|os.ModeSticky)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o666)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close(); os.Remove(path) })
	if _, err := f.WriteString(content); err != nil {
		t.Fatal(err)
	}
	if err := f.Chown(attackerUID, attackerUID); err != nil {
		t.Fatal(err)
	}
	return f
}

func sleeperPID(t *testing.T) uint64 {
	s := testproc.Start(t, "rel-sleeper")
	pid, _ := strconv.ParseUint(strings.TrimPrefix(s.Expect("pid ", secTimeout), "pid "), 10, 64)
	return pid
}

// TestReader_ForgedWriterLockIgnored: another user writes a live foreign
// writer's PID into the Go writer lock path; the reader must not declare
// that writer dead.
func TestReader_ForgedWriterLockIgnored(t *testing.T) {
	live := sleeperPID(t)
	r, wl := foreignWriterBuffer(t, live)
	plantLock(t, wl, fmt.Sprintf("%d\n", live))
	_, err := r.ReadFrame(ctxT(t, 300*time.Millisecond))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ReadFrame with a forged writer lock naming live pid %d: %v, want a timeout (writer alive)", live, err)
	}
	if !r.WriterConnected() {
		t.Error("WriterConnected false for a live foreign writer behind a forged lock")
	}
}

// TestWriter_SquattedWriterLockIgnored: another user holds a file at the Go
// writer lock path. A Go writer still connects, and a dead foreign writer
// is still detected.
func TestWriter_SquattedWriterLockIgnored(t *testing.T) {
	t.Run("writer connects", func(t *testing.T) {
		r, wl := foreignWriterBuffer(t, 0)
		f := plantLock(t, wl, "1\n")
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			t.Fatal(err)
		}
		w, err := NewWriter(r.name, WithDirs(filepath.Dir(r.names.Shm), filepath.Dir(r.names.Lock)))
		if err != nil {
			t.Fatalf("NewWriter with a squatted writer lock: %v", err)
		}
		if err := w.WriteFrame(ctxT(t, secTimeout), []byte("x")); err != nil {
			t.Fatal(err)
		}
		w.Close()
		if fr, err := r.ReadFrame(ctxT(t, secTimeout)); err != nil || string(fr.Data()) != "x" {
			t.Fatalf("ReadFrame: %v", err)
		} else {
			fr.Release()
		}
	})
	t.Run("dead foreign writer detected", func(t *testing.T) {
		s := testproc.Start(t, "rel-sleeper")
		pid, _ := strconv.ParseUint(strings.TrimPrefix(s.Expect("pid ", secTimeout), "pid "), 10, 64)
		s.Kill()
		s.Wait(secTimeout)
		r, wl := foreignWriterBuffer(t, pid)
		f := plantLock(t, wl, "1\n")
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			t.Fatal(err)
		}
		if _, err := r.ReadFrame(ctxT(t, secTimeout)); !errors.Is(err, ErrWriterDead) {
			t.Fatalf("ReadFrame with dead writer pid %d behind a squatted lock: %v, want ErrWriterDead", pid, err)
		}
	})
}

// TestNewReader_RefusesLiveReaderOfOtherLockPath: a second NewReader with
// another lock directory, or facing a C# reader's lock, must not replace
// a live buffer.
func TestNewReader_RefusesLiveReaderOfOtherLockPath(t *testing.T) {
	t.Run("Go reader, other lock directory", func(t *testing.T) {
		name := testName(t)
		shm := t.TempDir()
		r := mustReader(t, name, 0, 4096, WithDirs(shm, t.TempDir()))
		_, err := NewReader(name, BufferConfig{PayloadSize: 4096}, WithDirs(shm, t.TempDir()))
		if !errors.Is(err, ErrReaderExists) {
			t.Fatalf("second NewReader with another lock directory: %v, want ErrReaderExists", err)
		}
		w := mustWriter(t, name, WithDirs(shm, filepath.Dir(r.names.Lock)))
		if err := w.WriteFrame(ctxT(t, secTimeout), []byte("kept")); err != nil {
			t.Fatal(err)
		}
		if fr, err := r.ReadFrame(ctxT(t, secTimeout)); err != nil || string(fr.Data()) != "kept" {
			t.Fatalf("the first reader lost its buffer: %v", err)
		} else {
			fr.Release()
		}
	})
	t.Run("C# reader lock", func(t *testing.T) {
		name := testName(t)
		shm, lock := t.TempDir(), t.TempDir()
		g, _ := layout.NewGeometry(0, 4096)
		b := make([]byte, g.SegmentSize())
		o := layout.Initial(g, uint64(os.Getpid()))
		o.Encode(b)
		seg := filepath.Join(shm, name)
		if err := os.WriteFile(seg, b, 0o600); err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Join(lock, "locks"), 0o755)
		f, err := os.OpenFile(filepath.Join(lock, "locks", name+".lock"), os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			t.Fatal(err)
		}
		_, err = NewReader(name, BufferConfig{PayloadSize: 4096}, WithDirs(shm, lock))
		if !errors.Is(err, ErrReaderExists) {
			t.Fatalf("NewReader over a live C# reader: %v, want ErrReaderExists", err)
		}
		if got, _ := os.ReadFile(seg); !bytes.Equal(got, b) {
			t.Fatal("the C# reader's segment was replaced")
		}
	})
}

// TestReader_WriterLockOfOtherPIDNamespace: a free Go writer lock that
// names writer_pid in another PID namespace says nothing about the
// process with that number here: it counts as unknown, i.e. alive.
func TestReader_WriterLockOfOtherPIDNamespace(t *testing.T) {
	live := sleeperPID(t)
	r, wl := foreignWriterBuffer(t, live)
	if err := os.MkdirAll(filepath.Dir(wl), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(wl, []byte(fmt.Sprintf("%d\npid:[1]\n", live)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ReadFrame(ctxT(t, 300*time.Millisecond)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ReadFrame, writer lock naming pid %d of another namespace: %v, want a timeout (alive)", live, err)
	}
}
