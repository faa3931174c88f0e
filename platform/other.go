//go:build !linux && !windows && !darwin

package platform

import (
	"os"
	"time"
)

// Segment is a mapped shared-memory object. Not supported on this
// platform yet.
type Segment struct{ data []byte }

// CreateSegment is not supported on this platform.
func CreateSegment(path string, size int64, mode os.FileMode) (*Segment, error) {
	return nil, ErrNotSupported
}

// OpenSegment is not supported on this platform.
func OpenSegment(path string, writable bool) (*Segment, error) { return nil, ErrNotSupported }

// Bytes returns the mapping.
func (s *Segment) Bytes() []byte { return s.data }

// Path returns the segment's path.
func (s *Segment) Path() string { return "" }

// Close unmaps the segment.
func (s *Segment) Close() error { return nil }

// StillLinked reports whether the path still names the mapped object.
func (s *Segment) StillLinked() bool { return false }

// Remove is not supported on this platform.
func Remove(path string) error { return ErrNotSupported }

// Semaphore is a named semaphore. Not supported on this platform yet.
type Semaphore struct{}

// CreateSemaphore is not supported on this platform.
func CreateSemaphore(path string, mode os.FileMode) (*Semaphore, error) {
	return nil, ErrNotSupported
}

// OpenSemaphore is not supported on this platform.
func OpenSemaphore(path string) (*Semaphore, error) { return nil, ErrNotSupported }

// Close releases the semaphore.
func (s *Semaphore) Close() error { return nil }

// Value returns the token count.
func (s *Semaphore) Value() uint32 { return 0 }

// Waiters returns the number of registered waiters.
func (s *Semaphore) Waiters() uint32 { return 0 }

// Post adds n tokens.
func (s *Semaphore) Post(n uint32) bool { return false }

// PostToOne is [Semaphore.Post]; on Linux it skips wake-ups that a
// single waiter does not need.
func (s *Semaphore) PostToOne(n uint32) (woke bool) { return s.Post(n) }

// TryTake takes up to max tokens without blocking.
func (s *Semaphore) TryTake(max uint32) uint32 { return 0 }

// Wait takes up to max tokens, sleeping at most d.
func (s *Semaphore) Wait(d time.Duration, max uint32, stop func() bool) uint32 { return 0 }

// Interrupt wakes sleepers without posting.
func (s *Semaphore) Interrupt() {}

// RawWord returns the data word.
func (s *Semaphore) RawWord() uint64 { return 0 }

// Yield gives the CPU to another thread.
func Yield() {}
