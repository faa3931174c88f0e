package platform

import (
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	futexWait = 0 // FUTEX_WAIT, shared (no FUTEX_PRIVATE_FLAG: glibc sem_t is process-shared)
	futexWake = 1 // FUTEX_WAKE
)

// futexWaitTimeout sleeps while *addr == val, at most d. It returns nil on
// a wake-up (or when the value already differs), unix.ETIMEDOUT or
// unix.EINTR.
func futexWaitTimeout(addr *uint32, val uint32, d time.Duration) error {
	ts := unix.NsecToTimespec(int64(d))
	_, _, e := unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), futexWait, uintptr(val),
		uintptr(unsafe.Pointer(&ts)), 0, 0)
	switch e {
	case 0, unix.EAGAIN:
		return nil
	default:
		return e
	}
}

// futexWakeN wakes up to n waiters on addr.
func futexWakeN(addr *uint32, n int) {
	_, _, _ = unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), futexWake, uintptr(n), 0, 0, 0)
}

// Yield gives the CPU to another runnable thread, typically the peer
// process just woken by a post (sched_yield).
func Yield() { _, _, _ = unix.RawSyscall(unix.SYS_SCHED_YIELD, 0, 0, 0) }
