// Package platform wraps the operating-system objects a ZeroBuffer needs:
// shared-memory segments, named semaphores (on Linux binary-compatible with
// glibc's sem_open), lock files and process liveness.
//
// The package knows nothing about the ZeroBuffer layout; the core package
// builds the protocol on top of it. Each concept has one file per operating
// system with identical function signatures (no interfaces): *_linux.go for
// Linux, *_windows.go for Windows (file mappings, Win32 semaphores, lock
// files opened without sharing), *_darwin.go for macOS (POSIX shm_open and
// sem_open through raw system calls), *_unix.go where all Unix systems
// agree, and the stubs other.go and other_nounix.go, which return
// [ErrNotSupported] elsewhere. [NamesFor] gives each system's object names.
//
// # Trust
//
// Lock directories are shared with every local user. [AcquireLock],
// [ProbeLock] and [RemoveLockFile] open them one component at a time
// without following symbolic links and accept only directories owned by
// root or this process's euid whose mode is private or sticky; lock files
// are opened relative to the directory with O_NOFOLLOW|O_NONBLOCK and must
// be regular files with one link ([ErrUnsafePath] otherwise). On Linux a
// [Segment] keeps its descriptor for the liveness range locks
// ([Segment.LockRange], [Segment.RangeHeld]), which no other user can take
// without access to the segment.
//
// # Caveats
//
// A [Semaphore] and a [Segment] are views of memory shared with other
// processes. Their methods are safe for concurrent use, but Close (unmap)
// must not race with other calls; the core package guarantees that.
//
// The systems differ where the protocol cannot see it:
//   - Windows objects have no files. They vanish with their last handle, so
//     [Remove] does nothing and [Segment.StillLinked] is always true; a
//     name stays taken while any process (a writer of a dead reader) holds
//     it. [Semaphore.Waiters] is unknowable and reports 1, and an opener's
//     [Segment.Bytes] is page-rounded.
//   - macOS has no timed or interruptible semaphore wait: [Semaphore.Wait]
//     polls (at most 1ms apart), [Semaphore.Value] is a lower bound, and
//     object names longer than 30 bytes are hashed ([DarwinNames]).
package platform
