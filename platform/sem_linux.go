package platform

import (
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Semaphore is a glibc-compatible named semaphore mapped into this
// process. All methods are safe for concurrent use until Close.
type Semaphore struct {
	path string
	mem  []byte
	word *uint64 // the data word at offset 0, 8-aligned (page-aligned mapping)
	uid  uint32  // owner and group from fstat at open
	gid  uint32
}

// CreateSemaphore creates a semaphore file at path with value 0 the way
// glibc does: a uniquely named temporary file in the same directory holds
// the complete image before it is linked to path, so no peer ever sees a
// half-written semaphore. An existing path fails with an error matching
// fs.ErrExist.
func CreateSemaphore(path string, mode os.FileMode) (*Semaphore, error) {
	dir, tmp := splitDir(path), ""
	var fd int
	for try := 0; ; try++ {
		var rnd [6]byte
		_, _ = rand.Read(rnd[:])
		const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
		for i := range rnd {
			rnd[i] = alphabet[int(rnd[i])%len(alphabet)]
		}
		tmp = dir + "/sem." + string(rnd[:])
		var err error
		fd, err = openRetry(tmp, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, uint32(mode.Perm()))
		if err == nil {
			break
		}
		if !errors.Is(err, unix.EEXIST) || try > 100 {
			return nil, &os.PathError{Op: "create", Path: tmp, Err: err}
		}
	}
	defer unix.Close(fd)
	defer unix.Unlink(tmp)
	if err := unix.Fchmod(fd, uint32(mode.Perm())); err != nil {
		return nil, &os.PathError{Op: "fchmod", Path: tmp, Err: err}
	}
	if _, err := unix.Write(fd, SemImage(0)); err != nil {
		return nil, &os.PathError{Op: "write", Path: tmp, Err: err}
	}
	s, err := mapSem(fd, path)
	if err != nil {
		return nil, err
	}
	if err := unix.Link(tmp, path); err != nil {
		s.Close()
		return nil, &os.PathError{Op: "link", Path: path, Err: err}
	}
	return s, nil
}

// OpenSemaphore maps an existing semaphore file.
func OpenSemaphore(path string) (*Semaphore, error) {
	fd, err := openRetry(path, unix.O_RDWR|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	return mapSem(fd, path)
}

func mapSem(fd int, path string) (*Semaphore, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, &os.PathError{Op: "fstat", Path: path, Err: err}
	}
	// Exactly glibc's size: anything else (a buffer's segment under a
	// look-alike name, a truncated file) is not a semaphore.
	if st.Mode&unix.S_IFMT != unix.S_IFREG || st.Size != SemFileSize {
		return nil, &os.PathError{Op: "open", Path: path, Err: fmt.Errorf("not a semaphore file (size %d): %w", st.Size, unix.EINVAL)}
	}
	mem, err := unix.Mmap(fd, 0, SemFileSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, &os.PathError{Op: "mmap", Path: path, Err: err}
	}
	return &Semaphore{path: path, mem: mem, word: (*uint64)(unsafe.Pointer(&mem[0])), uid: st.Uid, gid: st.Gid}, nil
}

func splitDir(path string) string {
	for i := len(path) - 1; i >= 0; i-- {
		if path[i] == '/' {
			if i == 0 {
				return "/"
			}
			return path[:i]
		}
	}
	return "."
}

// Close unmaps the semaphore. It does not unlink the file.
func (s *Semaphore) Close() error {
	if s.mem == nil {
		return nil
	}
	err := unix.Munmap(s.mem)
	s.mem, s.word = nil, nil
	if err != nil {
		return os.NewSyscallError("munmap", err)
	}
	return nil
}

// futexWord is the 32-bit value half of the data word (little-endian).
func (s *Semaphore) futexWord() *uint32 { return (*uint32)(unsafe.Pointer(s.word)) }

// Value returns the current token count.
func (s *Semaphore) Value() uint32 { return uint32(atomic.LoadUint64(s.word)) }

// Waiters returns the number of registered waiters (any process).
func (s *Semaphore) Waiters() uint32 { return uint32(atomic.LoadUint64(s.word) >> 32) }

// Post adds n tokens, saturating at [SemValueMax] instead of failing
// (glibc returns EOVERFLOW there, which aborts the C++ reader: docs/PROTOCOL.md W2).
// It wakes up to n registered waiters and reports whether it had to.
func (s *Semaphore) Post(n uint32) (woke bool) { return s.post(n, false) }

// PostToOne is Post for a semaphore that at most one thread sleeps on at a
// time (sem-r: only the writer waits there, one goroutine or thread at a
// time). A waiter sleeps only while the count is 0, so when the count
// was already positive, the post that raised it from 0 woke the waiter
// (or found it awake), and this one skips the futex call: a writer that
// was woken but has not run yet stays counted as a waiter, and without
// this every release until it runs would pay a wake-up system call.
func (s *Semaphore) PostToOne(n uint32) (woke bool) { return s.post(n, true) }

func (s *Semaphore) post(n uint32, one bool) (woke bool) {
	if n == 0 {
		return false
	}
	for {
		d := atomic.LoadUint64(s.word)
		v := uint32(d)
		if v >= SemValueMax {
			return false // saturated, or a corrupt word above the maximum: never lower it
		}
		nv := min(uint64(v)+uint64(n), SemValueMax)
		if atomic.CompareAndSwapUint64(s.word, d, d-uint64(v)+nv) {
			if d>>32 == 0 || one && v > 0 {
				return false
			}
			futexWakeN(s.futexWord(), int(nv-uint64(v)))
			return true
		}
	}
}

// TryTake takes up to max tokens without blocking and returns how many it
// took. TryTake(1) is sem_trywait.
func (s *Semaphore) TryTake(max uint32) uint32 {
	for {
		d := atomic.LoadUint64(s.word)
		v := uint32(d)
		if v == 0 || max == 0 {
			return 0
		}
		t := min(v, max)
		if atomic.CompareAndSwapUint64(s.word, d, d-uint64(t)) {
			return t
		}
	}
}

// Wait takes up to max (at least one) tokens, sleeping for at most d. It
// follows glibc's waiter protocol exactly: register in the waiter count
// before sleeping, take a token and deregister in one compare-and-swap,
// and deregister on timeout, so that a glibc sem_post wakes this waiter and
// the count never stays raised. EINTR is retried with the remaining time.
//
// stop, if not nil, is called after every wake-up; when it returns true
// Wait returns (0, nil) at once. [Semaphore.Interrupt] wakes sleepers so
// that they call stop. Wait returns (0, nil) on timeout as well: the caller
// re-checks its own state either way.
func (s *Semaphore) Wait(d time.Duration, max uint32, stop func() bool) uint32 {
	if max == 0 {
		max = 1
	}
	if t := s.TryTake(max); t > 0 {
		return t
	}
	deadline := time.Now().Add(d)
	atomic.AddUint64(s.word, semWaiterUnit)
	for {
		w := atomic.LoadUint64(s.word)
		if v := uint32(w); v > 0 {
			t := min(v, max)
			if atomic.CompareAndSwapUint64(s.word, w, w-uint64(t)-semWaiterUnit) {
				return t
			}
			continue
		}
		if stop != nil && stop() {
			break
		}
		rem := time.Until(deadline)
		if rem <= 0 {
			break
		}
		if err := futexWaitTimeout(s.futexWord(), 0, rem); err != nil && err != unix.EINTR && err != unix.ETIMEDOUT {
			break // unexpected (EFAULT, ENOSYS): give up this slice, caller re-checks
		}
	}
	atomic.AddUint64(s.word, ^(semWaiterUnit - 1))
	return 0
}

// Interrupt wakes every thread sleeping on the semaphore without posting a
// token. Go waiters call their stop function; glibc waiters see no token
// and go back to sleep.
func (s *Semaphore) Interrupt() { futexWakeN(s.futexWord(), 1<<30) }

// RawWord returns the data word; for diagnostics and tests.
func (s *Semaphore) RawWord() uint64 { return atomic.LoadUint64(s.word) }
