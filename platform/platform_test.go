//go:build linux || windows || darwin

package platform

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zerobuffer/zerobuffer-go/internal/testproc"
)

// The behaviour every backend shares. Operating-system specifics are in
// *_<goos>_test.go.

const childTimeout = 20 * time.Second // generous: children may run under wine or qemu

func TestSegment_CreateOpen(t *testing.T) {
	n := testObjects(t)
	const size = 4224 // not a page multiple
	s, err := CreateSegment(n.Shm, size, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if len(s.Bytes()) != size {
		t.Fatalf("created segment has %d bytes, want %d", len(s.Bytes()), size)
	}
	for i, b := range s.Bytes() {
		if b != 0 {
			t.Fatalf("byte %d of a new segment is %d", i, b)
		}
	}
	copy(s.Bytes()[size-5:], "hello")

	o, err := OpenSegment(n.Shm, true)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if len(o.Bytes()) < size {
		t.Fatalf("opened segment has %d bytes, want at least %d", len(o.Bytes()), size)
	}
	if got := string(o.Bytes()[size-5 : size]); got != "hello" {
		t.Errorf("opener reads %q", got)
	}
	o.Bytes()[0] = 7
	if s.Bytes()[0] != 7 {
		t.Error("creator does not see the opener's write")
	}
	if o.Path() != n.Shm || !o.StillLinked() {
		t.Errorf("Path %q StillLinked %v", o.Path(), o.StillLinked())
	}

	r, err := OpenSegment(n.Shm, false)
	if err != nil {
		t.Fatal(err)
	}
	if r.Bytes()[0] != 7 {
		t.Error("read-only opener does not see the data")
	}
	r.Close()

	if _, err := CreateSegment(n.Shm, size, 0o600); !errors.Is(err, fs.ErrExist) {
		t.Errorf("second create: %v, want fs.ErrExist", err)
	}
	if err := o.Close(); err != nil {
		t.Error(err)
	}
	if err := o.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestSegment_OpenMissing(t *testing.T) {
	n := testObjects(t)
	if _, err := OpenSegment(n.Shm, true); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("open missing: %v, want fs.ErrNotExist", err)
	}
	if err := Remove(n.Shm); err != nil {
		t.Errorf("Remove missing: %v", err)
	}
	if _, err := CreateSegment(n.Shm, 0, 0o600); err == nil {
		t.Error("size 0 accepted")
	}
}

func TestSemaphore_PostTryTake(t *testing.T) {
	n := testObjects(t)
	s, err := CreateSemaphore(n.SemW, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v := s.Value(); v != 0 {
		t.Fatalf("new semaphore has value %d", v)
	}
	o, err := OpenSemaphore(n.SemW)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	o.Post(3)
	if v := s.Value(); v != 3 && !(runtime.GOOS == "darwin" && v > 0) {
		t.Errorf("value after Post(3) = %d", v)
	}
	if got := s.TryTake(2); got != 2 {
		t.Errorf("TryTake(2) = %d", got)
	}
	if got := s.TryTake(5); got != 1 {
		t.Errorf("TryTake(5) = %d with one token left", got)
	}
	if got := s.TryTake(1); got != 0 {
		t.Errorf("TryTake on an empty semaphore = %d", got)
	}
	if got := s.TryTake(0); got != 0 {
		t.Errorf("TryTake(0) = %d", got)
	}
	if _, err := CreateSemaphore(n.SemW, 0o600); !errors.Is(err, fs.ErrExist) {
		t.Errorf("second create: %v, want fs.ErrExist", err)
	}
	if _, err := OpenSemaphore(n.SemR); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("open missing: %v, want fs.ErrNotExist", err)
	}
}

func TestSemaphore_WaitTakesUpToMax(t *testing.T) {
	s := newSem(t)
	s.Post(5)
	if got := s.Wait(time.Second, 3, nil); got != 3 {
		t.Errorf("Wait(max 3) with 5 tokens = %d", got)
	}
	if got := s.Wait(time.Second, 10, nil); got != 2 {
		t.Errorf("Wait(max 10) with 2 tokens = %d", got)
	}
	s.Post(1)
	if got := s.Wait(time.Second, 0, nil); got != 1 {
		t.Errorf("Wait(max 0) = %d, want 1 (max 0 means 1)", got)
	}
}

func TestSemaphore_WaitTimeout(t *testing.T) {
	s := newSem(t)
	for _, d := range []time.Duration{time.Millisecond, 50 * time.Millisecond} {
		start := time.Now()
		if got := s.Wait(d, 1, nil); got != 0 {
			t.Fatalf("Wait on an empty semaphore took %d", got)
		}
		// Only bounds, no precision: Windows rounds to its timer tick.
		if el := time.Since(start); el < d*8/10 || el > d+2*time.Second {
			t.Errorf("Wait(%v) returned after %v", d, el)
		}
	}
	calls := 0
	if got := s.Wait(time.Hour, 1, func() bool { calls++; return true }); got != 0 || calls == 0 {
		t.Errorf("Wait with a true stop: took %d, stop called %d times", got, calls)
	}
}

func TestSemaphore_WaitWokenByPost(t *testing.T) {
	s, o := newSemPair(t)
	done := make(chan uint32)
	go func() { done <- s.Wait(20*time.Second, 8, nil) }()
	time.Sleep(20 * time.Millisecond)
	start := time.Now()
	o.Post(2)
	select {
	case got := <-done:
		if got < 1 || got > 2 {
			t.Errorf("woken Wait took %d", got)
		}
		if el := time.Since(start); el > 2*time.Second {
			t.Errorf("woken after %v", el)
		}
	case <-time.After(childTimeout):
		t.Fatal("Wait not woken by Post")
	}
}

// Interrupt from another handle wakes every sleeper of this process
// without posting a token.
func TestSemaphore_Interrupt(t *testing.T) {
	s, o := newSemPair(t)
	var stopped atomic.Bool
	const waiters = 3
	var wg sync.WaitGroup
	took := make(chan uint32, waiters)
	for range waiters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			took <- s.Wait(20*time.Second, 1, stopped.Load)
		}()
	}
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	stopped.Store(true)
	o.Interrupt()
	wg.Wait()
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("interrupted waiters returned after %v", el)
	}
	for range waiters {
		if got := <-took; got != 0 {
			t.Errorf("interrupted Wait took %d", got)
		}
	}
	if v := s.Value(); v != 0 {
		t.Errorf("Interrupt left value %d", v)
	}
}

func TestSemaphore_InterruptAfterClose(t *testing.T) {
	s := newSem(t)
	s.Close()
	s.Interrupt() // must not touch a closed (or reused) handle
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestSemaphore_PostSaturates(t *testing.T) {
	if runtime.GOOS == "darwin" {
		t.Skip("macOS posts one token per call: 2^31 posts take too long")
	}
	s := newSem(t)
	s.Post(SemValueMax - 1)
	s.Post(10)
	if v := s.Value(); v != SemValueMax {
		t.Errorf("value %d, want the maximum %d", v, uint32(SemValueMax))
	}
	s.Post(1)
	if v := s.Value(); v != SemValueMax {
		t.Errorf("value %d after a post at the maximum", v)
	}
}

func TestLock_Exclusive(t *testing.T) {
	n := testObjects(t)
	l, err := AcquireLock(n.Lock, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.SetContent([]byte("123\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := AcquireLock(n.Lock, 0o600); !errors.Is(err, ErrLocked) {
		t.Fatalf("second AcquireLock: %v, want ErrLocked", err)
	}
	st, err := ProbeLock(n.Lock)
	if err != nil || !st.Exists || !st.Held {
		t.Fatalf("ProbeLock of a held lock = %+v, %v", st, err)
	}
	if err := l.Release(true); err != nil {
		t.Fatal(err)
	}
	if err := l.Release(true); err != nil {
		t.Errorf("second Release: %v", err)
	}
	if st, err := ProbeLock(n.Lock); err != nil || st.Exists || st.Held {
		t.Errorf("ProbeLock after Release = %+v, %v", st, err)
	}
	l, err = AcquireLock(n.Lock, 0o600)
	if err != nil {
		t.Fatalf("AcquireLock after Release: %v", err)
	}
	l.Release(true)
	if st, err := ProbeLock(n.WriterLock); err != nil || st.Exists {
		t.Errorf("ProbeLock of a missing file = %+v, %v", st, err)
	}
}

func TestLock_CrossProcess(t *testing.T) {
	n := testObjects(t)
	p := testproc.Start(t, "hold-lock", n.Lock)
	line := p.Expect("locked ", childTimeout)
	pid, _ := strconv.ParseUint(strings.TrimPrefix(line, "locked "), 10, 64)
	if _, err := AcquireLock(n.Lock, 0o600); !errors.Is(err, ErrLocked) {
		t.Fatalf("AcquireLock of a child's lock: %v, want ErrLocked", err)
	}
	st, err := ProbeLock(n.Lock)
	if err != nil || !st.Exists || !st.Held {
		t.Fatalf("ProbeLock = %+v, %v", st, err)
	}
	// The probe must not disturb the holder.
	if _, err := AcquireLock(n.Lock, 0o600); !errors.Is(err, ErrLocked) {
		t.Fatalf("AcquireLock after a probe: %v, want ErrLocked", err)
	}
	p.Kill()
	st, err = ProbeLock(n.Lock)
	if err != nil || st.Held {
		t.Fatalf("ProbeLock after the holder died = %+v, %v", st, err)
	}
	switch runtime.GOOS {
	case "windows": // DELETE_ON_CLOSE
		if st.Exists {
			t.Errorf("lock file survived its holder: %+v", st)
		}
	default: // flock: the file stays, with the dead holder's PID
		if !st.Exists || string(st.Content) != fmt.Sprintf("%d\n", pid) {
			t.Errorf("ProbeLock = %+v, want the file with content %d", st, pid)
		}
	}
	l, err := AcquireLock(n.Lock, 0o600)
	if err != nil {
		t.Fatalf("AcquireLock after the holder died: %v", err)
	}
	l.Release(true)
}

func TestProcessAlive(t *testing.T) {
	if !ProcessAlive(Getpid()) {
		t.Error("this process counts as dead")
	}
	if Getpid() != uint64(os.Getpid()) {
		t.Errorf("Getpid %d, os.Getpid %d", Getpid(), os.Getpid())
	}
	for _, pid := range []uint64{0, 1 << 40, ^uint64(0)} {
		if ProcessAlive(pid) {
			t.Errorf("pid %d counts as alive", pid)
		}
	}
	p := testproc.Start(t, "idle")
	p.Expect("pid ", childTimeout)
	pid := uint64(p.Pid())
	if !ProcessAlive(pid) {
		t.Fatal("running child counts as dead")
	}
	p.Kill()
	if ProcessAlive(pid) {
		t.Error("killed child counts as alive")
	}
}

func TestSegment_CrossProcess(t *testing.T) {
	n := testObjects(t)
	s, err := CreateSegment(n.Shm, 100, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p := testproc.Start(t, "write-segment", n.Shm, "from the child")
	line := p.Expect("written ", childTimeout)
	if size, _ := strconv.Atoi(strings.TrimPrefix(line, "written ")); size < 100 {
		t.Errorf("child mapped %d bytes", size)
	}
	if got := string(s.Bytes()[:14]); got != "from the child" {
		t.Errorf("parent reads %q", got)
	}
}

func TestSemaphore_CrossProcess(t *testing.T) {
	n := testObjects(t)
	s, err := CreateSemaphore(n.SemW, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	seg, err := CreateSegment(n.Shm, 64, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()

	// Child waits, parent posts.
	p := testproc.Start(t, "wait", n.SemW, n.Shm)
	p.Expect("waiting", childTimeout)
	time.Sleep(20 * time.Millisecond)
	s.Post(1)
	if line := p.Expect("took ", childTimeout); !strings.HasPrefix(line, "took 1 ") {
		t.Errorf("child: %q", line)
	}

	// Child posts, parent waits.
	p = testproc.Start(t, "post", n.SemW, "3")
	got := uint32(0)
	for deadline := time.Now().Add(childTimeout); got < 3 && time.Now().Before(deadline); {
		got += s.Wait(time.Second, 3-got, nil)
	}
	if got != 3 {
		t.Errorf("parent took %d of the child's 3 tokens", got)
	}
	p.Expect("posted", childTimeout)
}

// Interrupt wakes a Go waiter in another process without posting.
func TestSemaphore_InterruptCrossProcess(t *testing.T) {
	n := testObjects(t)
	s, err := CreateSemaphore(n.SemR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	seg, err := CreateSegment(n.Shm, 64, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	p := testproc.Start(t, "wait", n.SemR, n.Shm)
	p.Expect("waiting", childTimeout)
	time.Sleep(50 * time.Millisecond)
	atomic.StoreUint32(segmentWord(seg), 1)
	s.Interrupt()
	line := p.Expect("took ", childTimeout)
	var took, ms int
	fmt.Sscanf(line, "took %d after %dms", &took, &ms)
	if took != 0 || ms > 5000 {
		t.Errorf("interrupted child: %q", line)
	}
	if v := s.Value(); v != 0 {
		t.Errorf("Interrupt posted: value %d", v)
	}
}

func newSem(t testing.TB) *Semaphore {
	t.Helper()
	s, err := CreateSemaphore(testObjects(t).SemW, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// newSemPair returns a new semaphore and a second handle on it.
func newSemPair(t testing.TB) (*Semaphore, *Semaphore) {
	t.Helper()
	n := testObjects(t)
	s, err := CreateSemaphore(n.SemW, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	o, err := OpenSemaphore(n.SemW)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Close() })
	return s, o
}
