package platform

import (
	"os"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// Semaphore is a named Win32 semaphore (maximum count [SemValueMax], as
// the C# and C++ implementations create it) together with a named
// auto-reset event, NAME+[InterruptSuffix], through which
// [Semaphore.Interrupt] wakes Go waiters in this and in the peer process
// without posting a token. All methods are safe for concurrent use until
// Close; Interrupt is also safe after Close (it does nothing then).
type Semaphore struct {
	name string
	h    windows.Handle // the semaphore
	ev   windows.Handle // the shared interrupt event

	mu      sync.Mutex
	closed  bool
	waiters map[windows.Handle]struct{} // private events of sleeping Wait calls
	idle    []windows.Handle            // private events kept for reuse
}

// CreateSemaphore creates the named semaphore with count 0. An existing
// one (a live buffer's, or one a crashed reader left to a connected
// writer) fails with an error matching fs.ErrExist rather than being
// adopted. mode is ignored: the default security descriptor applies.
func CreateSemaphore(path string, mode os.FileMode) (*Semaphore, error) {
	name, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return nil, &os.PathError{Op: "create", Path: path, Err: err}
	}
	h, err := createSemaphore(nil, 0, SemValueMax, name)
	if err != nil {
		if h != 0 {
			windows.CloseHandle(h)
		}
		return nil, &os.PathError{Op: "create", Path: path, Err: err}
	}
	return withEvent(h, path)
}

// OpenSemaphore opens an existing named semaphore for waiting, posting and
// querying. A missing name fails with an error matching fs.ErrNotExist.
func OpenSemaphore(path string) (*Semaphore, error) {
	name, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	const access = windows.SYNCHRONIZE | windows.SEMAPHORE_MODIFY_STATE
	h, err := openSemaphore(access|semaphoreQueryState, false, name)
	if err == windows.ERROR_ACCESS_DENIED {
		h, err = openSemaphore(access, false, name) // Value then reports 0
	}
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return withEvent(h, path)
}

// withEvent opens (or creates) the interrupt event that belongs to the
// semaphore h.
func withEvent(h windows.Handle, path string) (*Semaphore, error) {
	evName := path + InterruptSuffix
	name, err := windows.UTF16PtrFromString(evName)
	if err != nil {
		windows.CloseHandle(h)
		return nil, &os.PathError{Op: "CreateEvent", Path: evName, Err: err}
	}
	ev, err := windows.CreateEvent(nil, 0, 0, name)
	if err != nil && !(ev != 0 && err == windows.ERROR_ALREADY_EXISTS) {
		if ev != 0 {
			windows.CloseHandle(ev)
		}
		windows.CloseHandle(h)
		return nil, &os.PathError{Op: "CreateEvent", Path: evName, Err: err}
	}
	return &Semaphore{name: path, h: h, ev: ev}, nil
}

// Close closes the handles. The semaphore vanishes when no other process
// holds it.
func (s *Semaphore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	for _, e := range s.idle {
		windows.CloseHandle(e)
	}
	s.idle = nil
	windows.CloseHandle(s.ev)
	if err := windows.CloseHandle(s.h); err != nil {
		return os.NewSyscallError("CloseHandle", err)
	}
	return nil
}

// Value returns the current count (NtQuerySemaphore), or 0 if it cannot
// be queried.
func (s *Semaphore) Value() uint32 {
	var info semaphoreBasicInformation
	if err := ntQuerySemaphore(s.h, 0, &info, uint32(unsafe.Sizeof(info)), nil); err != nil || info.CurrentCount < 0 {
		return 0
	}
	return uint32(info.CurrentCount)
}

// Waiters cannot be known on Windows. It returns 1, so that callers that
// publish only when someone waits (the core reader returning space)
// always publish at once.
func (s *Semaphore) Waiters() uint32 { return 1 }

// Post adds n tokens, saturating at [SemValueMax] instead of failing
// (ReleaseSemaphore fails with ERROR_TOO_MANY_POSTS there). It reports
// whether the count was 0 before, that is whether a waiter may have been
// woken; Windows does not tell whether one was.
func (s *Semaphore) Post(n uint32) (woke bool) {
	for attempt := 0; n > 0 && attempt < 4; attempt++ {
		var prev int32
		err := releaseSemaphore(s.h, int32(min(n, SemValueMax)), &prev)
		if err == nil {
			return prev == 0
		}
		if err != windows.ERROR_TOO_MANY_POSTS {
			return false
		}
		n = SemValueMax - min(s.Value(), SemValueMax) // what still fits
	}
	return false
}

// PostToOne is [Semaphore.Post]; on Linux it skips wake-ups that a
// single waiter does not need.
func (s *Semaphore) PostToOne(n uint32) (woke bool) { return s.Post(n) }

// TryTake takes up to max tokens without blocking and returns how many it
// took (one WaitForSingleObject(h, 0) per token).
func (s *Semaphore) TryTake(max uint32) uint32 {
	var n uint32
	for n < max {
		ev, err := windows.WaitForSingleObject(s.h, 0)
		if err != nil || ev != windows.WAIT_OBJECT_0 {
			break
		}
		n++
	}
	return n
}

// Wait takes up to max (at least one) tokens, sleeping for at most d: it
// waits for one token together with the interrupt events, then takes the
// rest without blocking. stop, if not nil, is called before every sleep;
// when it returns true Wait returns 0 at once. [Semaphore.Interrupt] wakes
// sleepers so that they call stop. Wait returns 0 on timeout as well.
// Windows rounds the timeout up to whole milliseconds (and to the system
// timer tick, 15.6ms by default on real Windows).
func (s *Semaphore) Wait(d time.Duration, max uint32, stop func() bool) uint32 {
	if max == 0 {
		max = 1
	}
	if t := s.TryTake(max); t > 0 {
		return t
	}
	var hs [3]windows.Handle // on the stack: a Wait allocates nothing
	handles := append(hs[:0], s.h, s.ev)
	if own := s.register(); own != 0 {
		defer s.unregister(own)
		handles = append(handles, own)
	}
	deadline := time.Now().Add(d)
	for {
		if stop != nil && stop() {
			return 0
		}
		rem := time.Until(deadline)
		if rem <= 0 {
			return 0
		}
		ev, err := windows.WaitForMultipleObjects(handles, false, waitMillis(rem))
		switch {
		case err != nil:
			return 0 // WAIT_FAILED: the caller re-checks its state
		case ev == windows.WAIT_OBJECT_0:
			return 1 + s.TryTake(max-1)
		case ev == windows.WAIT_OBJECT_0+1 && len(handles) > 2:
			s.forward(handles[2]) // a shared interrupt: wake this process's other sleepers too
		}
	}
}

func waitMillis(d time.Duration) uint32 {
	ms := (d + time.Millisecond - 1) / time.Millisecond
	return uint32(min(ms, windows.INFINITE-1))
}

// register returns a private auto-reset event for one Wait call, or 0.
func (s *Semaphore) register() windows.Handle {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0
	}
	var e windows.Handle
	if n := len(s.idle); n > 0 {
		e, s.idle = s.idle[n-1], s.idle[:n-1]
	} else {
		var err error
		if e, err = windows.CreateEvent(nil, 0, 0, nil); err != nil {
			return 0
		}
	}
	if s.waiters == nil {
		s.waiters = make(map[windows.Handle]struct{})
	}
	s.waiters[e] = struct{}{}
	return e
}

func (s *Semaphore) unregister(e windows.Handle) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.waiters, e)
	if s.closed {
		windows.CloseHandle(e)
		return
	}
	windows.ResetEvent(e) // an interrupt that came too late must not wake the next Wait
	s.idle = append(s.idle, e)
}

// forward wakes every sleeping Wait call of this process except self.
func (s *Semaphore) forward(self windows.Handle) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for e := range s.waiters {
		if e != self {
			windows.SetEvent(e)
		}
	}
}

// Interrupt wakes every Go goroutine sleeping in Wait on this semaphore,
// in this process directly and in the peer process through the shared
// event, without posting a token; they call their stop function. If no
// peer sleeps, the event stays set and the peer's next Wait wakes once for
// nothing, which is harmless: waiters always re-check their state.
// Foreign (C#) waiters are not woken; they see no token and keep waiting.
func (s *Semaphore) Interrupt() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	windows.SetEvent(s.ev)
	for e := range s.waiters {
		windows.SetEvent(e)
	}
}

// RawWord returns the current count; for diagnostics and tests.
func (s *Semaphore) RawWord() uint64 { return uint64(s.Value()) }

// Yield gives the CPU to another ready thread (SwitchToThread).
func Yield() { switchToThread() }
