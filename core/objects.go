package core

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/zerobuffer/zerobuffer-go/platform"
)

// The one home of a buffer's operating-system objects and of the rules
// that decide whether its reader and writer live (docs/PROTOCOL.md
// sections 1 and 10). The Reader, the Writer, Inspect, List and Remove
// all decide through these functions.
//
// Evidence, strongest first:
//  1. A liveness range lock on the segment (Linux, Go peers): held means
//     alive. Only a process that opened the segment can take it, the
//     kernel drops it when its holder dies, and it is visible across PID
//     namespaces.
//  2. A lock file, trusted only when it is a regular file with one link
//     owned by the segment's owner: another user can create, hold or
//     fill a file in the shared lock directory, but not one owned by the
//     segment's owner. For the reader: NAME.lock (C++, Python, Go) and
//     locks/NAME.lock (C#); held means alive, free means dead. For the
//     writer: writer/NAME.lock (Go); held means alive, free and naming
//     writer_pid in this PID namespace means dead.
//  3. The PID: kill(pid, 0), EPERM counting as alive.

// lockContent is what a Go side writes into its lock file: its PID and,
// on the next line, its PID namespace, so that a peer in another
// namespace does not read the number as one of its own processes.
func lockContent() []byte {
	s := strconv.FormatUint(platform.Getpid(), 10) + "\n"
	if ns := platform.PIDNamespace(); ns != "" {
		s += ns + "\n"
	}
	return []byte(s)
}

// lockPID parses a lock file's content: the PID of its first line and
// whether that PID belongs to this process's PID namespace (true when the
// file names no namespace, as foreign implementations write none).
func lockPID(b []byte) (pid uint64, sameNS bool) {
	first, rest, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.ParseUint(strings.TrimSpace(first), 10, 64)
	if err != nil {
		return 0, false
	}
	ns, _, _ := strings.Cut(rest, "\n")
	ns = strings.TrimSpace(ns)
	return pid, ns == "" || ns == platform.PIDNamespace()
}

// trustedLock reports whether a probed lock file may be believed: a
// regular file with one link whose owner is the segment's owner (when
// owners are known).
func trustedLock(st platform.LockState, seg *platform.Segment) bool {
	if !st.Exists || st.Links != 1 {
		return false
	}
	uid, _, known := seg.Owner()
	return !known || st.Owner == uid
}

// rangeHeld reports whether a Go peer holds liveness range r of seg.
func rangeHeld(seg *platform.Segment, r int) bool {
	held, err := seg.RangeHeld(r)
	return err == nil && held
}

// readerAlive decides whether the reader named by reader_pid (pid) of seg
// lives. A graceful close zeroes reader_pid; a replaced or removed buffer
// no longer has seg's inode at its path.
func readerAlive(seg *platform.Segment, names platform.Names, pid uint64) bool {
	if pid == 0 || !seg.StillLinked() {
		return false
	}
	if rangeHeld(seg, platform.ReaderRange) {
		return true
	}
	if held, ok := readerLockHeld(seg, names, true); ok {
		return held
	}
	return platform.ProcessAlive(pid)
}

// readerLockHeld looks at the trusted reader lock files: the first that
// exists decides (ok). With reference false the C++ location (which a new
// Reader holds itself) is skipped.
func readerLockHeld(seg *platform.Segment, names platform.Names, reference bool) (held, ok bool) {
	paths := []string{names.CSharpLock()}
	if reference {
		paths = []string{names.Lock, names.CSharpLock()}
	}
	for _, p := range paths {
		if p == "" {
			continue
		}
		if st, err := platform.ProbeLock(p); err == nil && trustedLock(st, seg) {
			return st.Held, true
		}
	}
	return false, false
}

// writerAlive decides whether the writer named by writer_pid (pid) of seg
// lives.
func writerAlive(seg *platform.Segment, names platform.Names, pid uint64) bool {
	if pid == 0 {
		return false
	}
	if rangeHeld(seg, platform.WriterRange) {
		return true
	}
	st, err := platform.ProbeLock(names.WriterLock)
	if err == nil && trustedLock(st, seg) {
		if st.Held {
			return true
		}
		if p, sameNS := lockPID(st.Content); p == pid && sameNS {
			return false // that Go writer died, whoever has its PID now
		}
	}
	return platform.ProcessAlive(pid)
}

// liveReaderAt reports whether an existing segment at names.Shm names a
// reader that still lives, for a new Reader that holds names.Lock itself:
// a Go reader with another lock directory holds the segment's reader
// range, a C# reader its own lock file.
func liveReaderAt(names platform.Names) bool {
	seg, err := platform.OpenSegment(names.Shm, false)
	if err != nil {
		// Missing, empty, a symbolic link or not a regular file: no
		// reader's segment. One we may not open is not ours to remove
		// either, which the removal that follows finds out.
		return false
	}
	defer seg.Close()
	head, ok := segmentHead(seg)
	if !ok || head.ReaderPID == 0 {
		return false
	}
	if rangeHeld(seg, platform.ReaderRange) {
		return true
	}
	held, _ := readerLockHeld(seg, names, false)
	return held
}

// removeObjects unlinks a buffer's shared memory and semaphores, then the
// Go writer lock if no writer holds it, in the order every remover uses
// (the reader lock, held by the caller, goes last). It returns the first
// error and still tries the rest.
func removeObjects(names platform.Names) error {
	var first error
	for _, p := range []string{names.Shm, names.SemW, names.SemR} {
		if err := platform.Remove(p); err != nil && first == nil {
			first = err
		}
	}
	if st, err := platform.ProbeLock(names.WriterLock); err == nil && st.Exists && !st.Held {
		_ = platform.RemoveLockFile(names.WriterLock)
	}
	return first
}

// checkStale says whether b may be removed as stale by a caller that does
// not know it: no live reader, a valid segment, both semaphores of the
// right size and every object owned by this process's euid (root with
// force may remove other users' objects).
func (b Buffer) checkStale(force bool) error {
	switch {
	case !b.Stale:
		return fmt.Errorf("%w: %q", ErrReaderExists, b.Name)
	case !b.Valid:
		why := b.Problem
		if !b.Exists {
			why = "no shared memory"
		}
		return fmt.Errorf("%w: %q: %s", ErrIncomplete, b.Name, why)
	case !b.SemaphoresValid:
		return fmt.Errorf("%w: %q: %d of 2 semaphores of the right size", ErrIncomplete, b.Name, b.Semaphores)
	}
	return checkOwners(b, force)
}

// CheckStale reports why [RemoveStale] would refuse b, or nil.
func (b Buffer) CheckStale(force bool) error { return b.checkStale(force) }

func checkOwners(b Buffer, force bool) error {
	euid, ok := platform.Euid()
	if !ok {
		return nil
	}
	for _, u := range b.Owners {
		if u != euid && !(force && euid == 0) {
			return fmt.Errorf("%w: %q has objects of uid %d (root needs force to remove them)", ErrForeignOwner, b.Name, u)
		}
	}
	return nil
}

// Remove removes buffer name's objects (shared memory, semaphores, lock
// files) unless a live reader owns it ([ErrReaderExists]). It also
// removes the leftovers of a partly created or partly removed buffer.
// Objects of another user are refused ([ErrForeignOwner]) unless force is
// set and the caller is root. It takes the reader lock first, so that no
// C++, Python or Go reader of the reference lock path can start
// meanwhile, and checks again under it. [WithDirs] places the objects.
func Remove(name string, force bool, opts ...Option) error {
	b, err := Inspect(name, opts...)
	if err != nil {
		return err
	}
	if !b.Stale {
		return fmt.Errorf("%w: %q", ErrReaderExists, name)
	}
	if err := checkOwners(b, force); err != nil {
		return err
	}
	return removeLocked(name, force, opts)
}

// RemoveStale removes buffer name only if it is a complete buffer that
// no live reader owns and whose objects all belong to the caller (see
// [Buffer.CheckStale]); a name that does not qualify is left alone and
// the error says why.
func RemoveStale(name string, force bool, opts ...Option) error {
	b, err := Inspect(name, opts...)
	if err != nil {
		return err
	}
	if err := b.checkStale(force); err != nil {
		return err
	}
	return removeLocked(name, force, opts)
}

func removeLocked(name string, force bool, opts []Option) error {
	o, err := buildOptions(opts)
	if err != nil {
		return err
	}
	names, err := platform.ObjectNames(name, o.dirs)
	if err != nil {
		return err
	}
	lock, err := platform.AcquireLock(names.Lock, 0o600)
	switch {
	case errors.Is(err, platform.ErrLocked):
		return fmt.Errorf("%w: %q", ErrReaderExists, name)
	case errors.Is(err, platform.ErrUnsafePath) && force:
		lock = nil // another user's lock file: root removes it with the rest
	case err != nil:
		return fmt.Errorf("zerobuffer: lock %q: %w", name, err)
	}
	if liveReaderAt(names) {
		_ = lock.Release(false)
		return fmt.Errorf("%w: %q", ErrReaderExists, name)
	}
	err = removeObjects(names)
	if lock == nil {
		if rerr := platform.RemoveLockFile(names.Lock); err == nil {
			err = rerr
		}
		return err
	}
	if rerr := lock.Release(true); err == nil {
		err = rerr
	}
	return err
}
