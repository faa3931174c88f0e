package platform

import (
	"os"
	"runtime"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Semaphore is a POSIX named semaphore (sem_open) on macOS. All methods
// are safe for concurrent use until Close.
//
// macOS has no sem_timedwait, no sem_getvalue and no way to wake a thread
// blocked in sem_wait without posting, so Wait never blocks in the kernel:
// it polls sem_trywait with a backoff from 10µs to 1ms, calling stop
// between polls. A token posted while the waiter sleeps is therefore
// noticed within 1ms (callers that expect back-to-back frames spin first).
// Value is answered by moving at most one token from the kernel into a
// stash of this Semaphore, which TryTake and Wait hand out first and Close
// posts back.
type Semaphore struct {
	name  string
	sem   uintptr // the descriptor sem_open returned (macOS's sem_t* is an index)
	open  bool
	stash atomic.Uint32 // tokens taken from the kernel by Value, not yet handed out
	wake  chan struct{} // Interrupt's nudge to one sleeping waiter
}

const (
	pollMin = 10 * time.Microsecond
	pollMax = time.Millisecond
)

// CreateSemaphore creates the named semaphore with value 0 (O_CREAT|
// O_EXCL). An existing name fails with an error matching fs.ErrExist.
func CreateSemaphore(path string, mode os.FileMode) (*Semaphore, error) {
	return semOpen(path, unix.O_CREAT|unix.O_EXCL, uint32(mode.Perm()))
}

// OpenSemaphore opens an existing named semaphore. A missing name fails
// with an error matching fs.ErrNotExist.
func OpenSemaphore(path string) (*Semaphore, error) { return semOpen(path, 0, 0) }

func semOpen(path string, flags int, mode uint32) (*Semaphore, error) {
	p, err := unix.BytePtrFromString(path)
	if err != nil {
		return nil, &os.PathError{Op: "sem_open", Path: path, Err: err}
	}
	for {
		// The kernel takes (name, oflag, mode, value) as plain arguments;
		// only libSystem's wrapper is variadic.
		r, _, e := unix.Syscall6(unix.SYS_SEM_OPEN, uintptr(unsafe.Pointer(p)), uintptr(flags), uintptr(mode), 0, 0, 0)
		switch e {
		case 0:
			_, _ = unix.FcntlInt(r, unix.F_SETFD, unix.FD_CLOEXEC)
			return &Semaphore{name: path, sem: r, open: true, wake: make(chan struct{}, 1)}, nil
		case unix.EINTR:
			continue
		default:
			return nil, &os.PathError{Op: "sem_open", Path: path, Err: e}
		}
	}
}

// Close posts any stashed tokens back and closes the descriptor. It does
// not unlink the name.
func (s *Semaphore) Close() error {
	if !s.open {
		return nil
	}
	s.open = false
	for n := s.stash.Swap(0); n > 0; n-- {
		s.post()
	}
	_, _, e := unix.Syscall(unix.SYS_SEM_CLOSE, s.sem, 0, 0)
	if e != 0 {
		return os.NewSyscallError("sem_close", e)
	}
	return nil
}

// Value reports the stashed tokens, or 1 after moving one token from the
// kernel into the stash, or 0: a lower bound that is non-zero exactly when
// a token is available.
func (s *Semaphore) Value() uint32 {
	if v := s.stash.Load(); v > 0 {
		return v
	}
	if !s.tryWait() {
		return 0
	}
	return s.stash.Add(1)
}

// Waiters cannot be known on macOS. It returns 1, so that callers that
// publish only when someone waits (the core reader returning space)
// always publish at once.
func (s *Semaphore) Waiters() uint32 { return 1 }

// Post adds n tokens (one sem_post each). The kernel does not report
// waking a waiter, and waiters poll, so it always reports false.
func (s *Semaphore) Post(n uint32) (woke bool) {
	for ; n > 0; n-- {
		if !s.post() {
			break
		}
	}
	return false
}

// PostToOne is [Semaphore.Post]; on Linux it skips wake-ups that a
// single waiter does not need.
func (s *Semaphore) PostToOne(n uint32) (woke bool) { return s.Post(n) }

func (s *Semaphore) post() bool {
	_, _, e := unix.Syscall(unix.SYS_SEM_POST, s.sem, 0, 0)
	return e == 0
}

// tryWait takes one token from the kernel without blocking.
func (s *Semaphore) tryWait() bool {
	for {
		_, _, e := unix.Syscall(unix.SYS_SEM_TRYWAIT, s.sem, 0, 0)
		if e != unix.EINTR {
			return e == 0
		}
	}
}

// TryTake takes up to max tokens without blocking (the stash first, then
// one sem_trywait per token) and returns how many it took.
func (s *Semaphore) TryTake(max uint32) uint32 {
	n := s.takeStash(max)
	for n < max && s.tryWait() {
		n++
	}
	return n
}

func (s *Semaphore) takeStash(max uint32) uint32 {
	for {
		v := s.stash.Load()
		t := min(v, max)
		if t == 0 || s.stash.CompareAndSwap(v, v-t) {
			return t
		}
	}
}

// Wait takes up to max (at least one) tokens, polling for at most d.
// stop, if not nil, is called between polls; when it returns true Wait
// returns 0 at once. [Semaphore.Interrupt] cuts a poll interval short.
// Wait returns 0 on timeout as well.
func (s *Semaphore) Wait(d time.Duration, max uint32, stop func() bool) uint32 {
	if max == 0 {
		max = 1
	}
	if t := s.TryTake(max); t > 0 {
		return t
	}
	deadline := time.Now().Add(d)
	timer := time.NewTimer(pollMin)
	defer timer.Stop()
	for backoff := pollMin; ; backoff = min(2*backoff, pollMax) {
		if stop != nil && stop() {
			return 0
		}
		rem := time.Until(deadline)
		if rem <= 0 {
			return 0
		}
		timer.Reset(min(backoff, rem))
		select {
		case <-timer.C:
		case <-s.wake:
		}
		if t := s.TryTake(max); t > 0 {
			return t
		}
	}
}

// Interrupt wakes one sleeping Wait of this process at once; the others,
// and waiters in other processes, call their stop function within the
// poll interval (at most 1ms) anyway. No token is posted.
func (s *Semaphore) Interrupt() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// RawWord returns the stashed token count; for diagnostics and tests.
func (s *Semaphore) RawWord() uint64 { return uint64(s.stash.Load()) }

// Yield lets other goroutines run. (sched_yield is a Mach trap on macOS,
// which unix.Syscall cannot issue.)
func Yield() { runtime.Gosched() }
