// Package platform wraps the operating-system objects a ZeroBuffer needs:
// shared-memory segments, named semaphores that are binary-compatible with
// glibc's sem_open, advisory lock files and process liveness.
//
// The package knows nothing about the ZeroBuffer layout; the core package
// builds the protocol on top of it. Each concept has one file per operating
// system with identical function signatures (no interfaces): *_linux.go for
// Linux, *_unix.go where all Unix systems agree, and *_other.go stubs that
// return [ErrNotSupported].
//
// # Caveats
//
// A [Semaphore] and a [Segment] are views of memory shared with other
// processes. Their methods are safe for concurrent use, but Close (unmap)
// must not race with other calls; the core package guarantees that.
package platform
