package platform

import (
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/windows"
)

// Windows specifics. These run under wine on Linux (.ci/wine.sh); wine has
// one user and one session and does not check privileges, so the
// access-denied paths (OpenProcess of another user's process, a Global\
// mapping without SeCreateGlobalPrivilege) are not exercised.

// Kernel objects vanish with their last handle: nothing to remove, nothing
// left behind.
func TestWindows_ObjectsVanishWithLastHandle(t *testing.T) {
	n := testObjects(t)
	seg, err := CreateSegment(n.Shm, 4096, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	sem, err := CreateSemaphore(n.SemW, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := Remove(n.Shm); err != nil {
		t.Errorf("Remove: %v", err)
	}
	if o, err := OpenSegment(n.Shm, true); err != nil {
		t.Errorf("Remove is not a no-op: %v", err)
	} else {
		o.Close()
	}
	if !seg.StillLinked() {
		t.Error("StillLinked false")
	}
	seg.Close()
	sem.Close()
	if _, err := OpenSegment(n.Shm, true); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("segment after its last handle: %v, want fs.ErrNotExist", err)
	}
	if _, err := OpenSemaphore(n.SemW); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("semaphore after its last handle: %v, want fs.ErrNotExist", err)
	}
}

// A reader that goes away while a writer still holds the section leaves
// the name taken: the next reader's create fails with fs.ErrExist until
// the writer lets go.
func TestWindows_NameTakenWhileOpenerHolds(t *testing.T) {
	n := testObjects(t)
	seg, err := CreateSegment(n.Shm, 4096, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	held, err := OpenSegment(n.Shm, true)
	if err != nil {
		t.Fatal(err)
	}
	seg.Close()
	if _, err := CreateSegment(n.Shm, 4096, 0o600); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("create while an opener holds the old section: %v, want fs.ErrExist", err)
	}
	held.Close()
	seg, err = CreateSegment(n.Shm, 4096, 0o600)
	if err != nil {
		t.Fatalf("create after the last handle closed: %v", err)
	}
	seg.Close()
}

// The opener cannot learn the exact size: it sees the page-rounded view.
func TestWindows_OpenSizeIsPageRounded(t *testing.T) {
	n := testObjects(t)
	seg, err := CreateSegment(n.Shm, 4224, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	o, err := OpenSegment(n.Shm, false)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	page := os.Getpagesize()
	if got := len(o.Bytes()); got < 4224 || got%page != 0 {
		t.Errorf("opened view is %d bytes, want 4224 rounded up to %d", got, page)
	}
}

func TestWindows_GlobalNamespace(t *testing.T) {
	name := strings.TrimPrefix(testObjects(t).Shm, GlobalPrefix)
	n, err := ObjectNames(name, Dirs{Lock: tempDir(t), GlobalNamespace: true})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(n.Shm, GlobalPrefix) || !strings.HasPrefix(n.SemR, GlobalPrefix) {
		t.Fatalf("names %+v lack %s", n, GlobalPrefix)
	}
	seg, err := CreateSegment(n.Shm, 4096, 0o600)
	if errors.Is(err, windows.ERROR_ACCESS_DENIED) {
		t.Skip("no SeCreateGlobalPrivilege:", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	sem, err := CreateSemaphore(n.SemR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer sem.Close()
	if _, err := OpenSegment(name, false); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the session namespace sees the Global object: %v", err)
	}
	o, err := OpenSemaphore(n.SemR)
	if err != nil {
		t.Fatal(err)
	}
	o.Post(1)
	o.Close()
	if got := sem.TryTake(1); got != 1 {
		t.Errorf("TryTake = %d after a post through the Global name", got)
	}
}

// The lock file exists only while it is held, and its holder can write
// it; nobody else can read it meanwhile.
func TestWindows_LockFileDeletedOnClose(t *testing.T) {
	n := testObjects(t)
	l, err := AcquireLock(n.WriterLock, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.SetContent([]byte("42\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.ReadFile(n.WriterLock); err == nil {
		t.Error("a held lock file is readable by others")
	}
	if err := l.Release(false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(n.WriterLock); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("lock file after Release: %v", err)
	}
	// A lock file of an implementation that does not delete on close
	// (Python's) is reported as existing, unheld, with its content.
	if err := os.WriteFile(n.Lock, []byte("7\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(n.Lock)
	st, err := ProbeLock(n.Lock)
	if err != nil || !st.Exists || st.Held || string(st.Content) != "7\n" {
		t.Errorf("ProbeLock of a plain file = %+v, %v", st, err)
	}
}

// Post reports whether the count was zero, the only hint Windows gives
// about a waiter.
func TestWindows_PostReportsEmpty(t *testing.T) {
	s := newSem(t)
	if !s.Post(1) {
		t.Error("Post to an empty semaphore reports false")
	}
	if s.Post(1) {
		t.Error("Post to a non-empty semaphore reports true")
	}
	if s.Waiters() != 1 {
		t.Errorf("Waiters = %d, want the conservative 1", s.Waiters())
	}
	if s.RawWord() != 2 {
		t.Errorf("RawWord = %d, want the count 2", s.RawWord())
	}
}
