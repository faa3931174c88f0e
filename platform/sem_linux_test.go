package platform

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func tempSem(t *testing.T) (*Semaphore, string) {
	t.Helper()
	name := fmt.Sprintf("sem-w-zbp-%s-%d", strings.ReplaceAll(t.Name(), "/", "-"), os.Getpid())
	path := filepath.Join(DefaultShmDir, "sem."+name)
	s, err := CreateSemaphore(path, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); os.Remove(path) })
	return s, name
}

func TestSemaphore_PostTakeWait(t *testing.T) {
	s, _ := tempSem(t)
	if s.TryTake(1) != 0 {
		t.Fatal("token in a new semaphore")
	}
	s.Post(3)
	if got := s.TryTake(2); got != 2 || s.Value() != 1 {
		t.Fatalf("TryTake(2) = %d, value %d", got, s.Value())
	}
	if got := s.Wait(time.Second, 10, nil); got != 1 {
		t.Fatalf("Wait with one token = %d", got)
	}
	start := time.Now()
	if got := s.Wait(30*time.Millisecond, 1, nil); got != 0 {
		t.Fatalf("Wait on empty = %d", got)
	}
	if d := time.Since(start); d < 25*time.Millisecond || d > 2*time.Second {
		t.Errorf("timeout after %v, want about 30ms", d)
	}
	if s.Waiters() != 0 {
		t.Fatalf("waiter count %d after timeout", s.Waiters())
	}
}

func TestSemaphore_WakesWaiterAndRestoresCount(t *testing.T) {
	s, _ := tempSem(t)
	var wg sync.WaitGroup
	got := make([]uint32, 4)
	for i := range got {
		wg.Add(1)
		go func() { defer wg.Done(); got[i] = s.Wait(5*time.Second, 1, nil) }()
	}
	for deadline := time.Now().Add(time.Second); s.Waiters() < 4 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if s.Waiters() != 4 {
		t.Fatalf("%d waiters registered", s.Waiters())
	}
	if !s.Post(4) {
		t.Fatal("Post did not report a wake-up")
	}
	wg.Wait()
	for i, n := range got {
		if n != 1 {
			t.Errorf("waiter %d took %d", i, n)
		}
	}
	if s.RawWord() != 0 {
		t.Fatalf("data word %#x after all waiters left", s.RawWord())
	}
}

func TestSemaphore_InterruptCallsStop(t *testing.T) {
	s, _ := tempSem(t)
	var stop sync.Once
	stopped := make(chan struct{})
	done := make(chan uint32)
	go func() {
		done <- s.Wait(10*time.Second, 1, func() bool {
			select {
			case <-stopped:
				return true
			default:
				return false
			}
		})
	}()
	time.Sleep(20 * time.Millisecond)
	stop.Do(func() { close(stopped) })
	start := time.Now()
	s.Interrupt()
	select {
	case n := <-done:
		if n != 0 || s.Value() != 0 || s.Waiters() != 0 {
			t.Fatalf("interrupted wait took %d, word %#x", n, s.RawWord())
		}
		if d := time.Since(start); d > 500*time.Millisecond {
			t.Errorf("interrupt took %v", d)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Interrupt did not wake the waiter")
	}
}

func TestSemaphore_Saturates(t *testing.T) {
	s, _ := tempSem(t)
	s.Post(SemValueMax - 1)
	s.Post(5)
	if s.Value() != SemValueMax {
		t.Fatalf("value %d, want saturation at %d", s.Value(), SemValueMax)
	}
	s.Post(1) // must not fail or wrap
	if s.Value() != SemValueMax {
		t.Fatalf("value %d after post at max", s.Value())
	}
}

func TestSemaphore_CreateExisting(t *testing.T) {
	_, name := tempSem(t)
	if _, err := CreateSemaphore(filepath.Join(DefaultShmDir, "sem."+name), 0o600); !os.IsExist(err) {
		t.Fatalf("create over existing: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(DefaultShmDir, "sem."+name)); err != nil || fi.Mode().Perm() != 0o600 || fi.Size() != SemFileSize {
		t.Fatalf("semaphore file: %v %v", fi, err)
	}
}

// glibcScript drives glibc's sem_open/sem_post/sem_timedwait through
// Python's ctypes, so the Go semaphore is checked against the real glibc
// implementation without cgo.
const glibcScript = `
import ctypes, ctypes.util, sys, time
libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
libc.sem_open.restype = ctypes.c_void_p
libc.sem_open.argtypes = [ctypes.c_char_p, ctypes.c_int]
sem = libc.sem_open(("/" + sys.argv[1]).encode(), 0)
if not sem:
    print("open failed", ctypes.get_errno()); sys.exit(1)
class timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]
def wait(seconds):
    t = time.time() + seconds
    ts = timespec(int(t), int((t - int(t)) * 1e9))
    return libc.sem_timedwait(ctypes.c_void_p(sem), ctypes.byref(ts))
for op in sys.argv[2:]:
    if op == "post":
        assert libc.sem_post(ctypes.c_void_p(sem)) == 0
    elif op == "wait":
        print("waiting", flush=True)
        print("waited", wait(5), flush=True)
print("done", flush=True)
`

// wakeGlibcWaiter starts a glibc waiter (python ctypes sem_timedwait) on
// s, waits until it is registered, wakes it with post and checks that it
// took the token and left the word at zero.
func wakeGlibcWaiter(t *testing.T, py string, s *Semaphore, name, what string, post func(uint32) bool) {
	t.Helper()
	cmd := exec.Command(py, "-c", glibcScript, name, "wait")
	pipe, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	out := bufio.NewScanner(pipe)
	out.Scan() // "waiting"
	for deadline := time.Now().Add(10 * time.Second); s.Waiters() == 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if s.Waiters() != 1 {
		t.Fatalf("glibc waiter not registered: word %#x", s.RawWord())
	}
	if !post(1) {
		t.Fatalf("%s did not wake the glibc waiter", what)
	}
	out.Scan()
	line := out.Text()
	for out.Scan() {
	}
	if err := cmd.Wait(); err != nil || line != "waited 0" {
		t.Fatalf("glibc waiter: %q %v", line, err)
	}
	if s.RawWord() != 0 {
		t.Fatalf("word %#x after glibc wait", s.RawWord())
	}
}

// TestSemaphore_GlibcInterop (docs/PROTOCOL.md section 16, item 144): a glibc waiter blocked
// in sem_timedwait is woken by a Go post, and a Go waiter by glibc's
// sem_post; the waiter count returns to zero.
func TestSemaphore_GlibcInterop(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 (for glibc through ctypes) not installed")
	}
	s, name := tempSem(t)
	wakeGlibcWaiter(t, py, s, name, "Go post", s.Post)

	done := make(chan uint32)
	// Generous bounds: starting python under a loaded CI machine can take
	// seconds, and Wait returns as soon as the token arrives.
	go func() { done <- s.Wait(time.Minute, 1, nil) }()
	for deadline := time.Now().Add(10 * time.Second); s.Waiters() == 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if o, err := exec.Command(py, "-c", glibcScript, name, "post").CombinedOutput(); err != nil {
		t.Fatalf("glibc post: %s %v", o, err)
	}
	if got := <-done; got != 1 || s.RawWord() != 0 {
		t.Fatalf("Go waiter woken by glibc took %d, word %#x", got, s.RawWord())
	}
}

func TestOpenSemaphore_WrongSizeRefused(t *testing.T) {
	n := testObjects(t)
	for _, size := range []int64{SemFileSize - 1, SemFileSize + 1, 4096} {
		if err := os.WriteFile(n.SemW, make([]byte, size), 0o600); err != nil {
			t.Fatal(err)
		}
		if s, err := OpenSemaphore(n.SemW); err == nil {
			s.Close()
			t.Errorf("OpenSemaphore of a %d-byte file succeeded; only %d bytes is a semaphore", size, SemFileSize)
		}
	}
}

// TestSemaphore_PostToOne: PostToOne wakes a waiter when it raises the
// count from 0, a Go waiter and a glibc waiter alike; when the count is
// already positive with a waiter still registered (woken, not yet run),
// it adds its tokens without a wake-up, where Post wakes again.
func TestSemaphore_PostToOne(t *testing.T) {
	s, name := tempSem(t)

	done := make(chan uint32)
	go func() { done <- s.Wait(time.Minute, 1, nil) }()
	for deadline := time.Now().Add(10 * time.Second); s.Waiters() == 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if !s.PostToOne(1) {
		t.Fatal("PostToOne from 0 did not wake the sleeping Go waiter")
	}
	if got := <-done; got != 1 || s.RawWord() != 0 {
		t.Fatalf("Go waiter took %d, word %#x", got, s.RawWord())
	}

	// A waiter counted, one token not yet taken: the state between the
	// wake-up of a waiter and its run.
	atomic.StoreUint64(s.word, 1<<32|1)
	if s.PostToOne(2) {
		t.Fatal("PostToOne woke again with the count positive")
	}
	if got := s.RawWord(); got != 1<<32|3 {
		t.Fatalf("word %#x after PostToOne(2), want %#x", got, uint64(1<<32|3))
	}
	if !s.Post(1) {
		t.Fatal("Post did not wake with a waiter counted")
	}
	atomic.StoreUint64(s.word, 0)

	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 (for glibc through ctypes) not installed")
	}
	wakeGlibcWaiter(t, py, s, name, "PostToOne", s.PostToOne)
}
