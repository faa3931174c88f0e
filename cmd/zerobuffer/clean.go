package main

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/zerobuffer/zerobuffer-go/platform"
)

// errInUse is returned for a buffer that a live reader owns.
var errInUse = errors.New("a live reader owns it")

func runClean(e *env, args []string) error {
	f := newFlags("clean", "[NAME...] [--stale] [--dry-run]", `
Remove buffers: the shared-memory object, both semaphores and the lock
files. A buffer is removed only when no live reader owns it: clean takes
the reader's lock itself first, so a reader can neither hold it nor start
meanwhile, and it also refuses while the recorded reader PID lives.
A live buffer is never touched; naming one is an error (exit 1).

With names, those buffers are cleaned (with --stale: only those that are
stale, the others are skipped silently). With --stale and no names, every
stale buffer on the machine is cleaned. Prints one line per buffer.`)
	stale := f.Bool("stale", false, "clean only stale buffers (no live reader); without names: all of them")
	dry := f.Bool("dry-run", false, "print what would be removed, remove nothing")
	names, err := parse(e, f, args)
	if err != nil {
		return err
	}
	if len(names) == 0 && !*stale {
		return usagef("clean needs buffer names or --stale")
	}
	var targets []bufferInfo
	if len(names) == 0 {
		all, err := discover(e.dirs)
		if err != nil {
			return err
		}
		for _, b := range all {
			if b.Stale {
				targets = append(targets, b)
			}
		}
	}
	var errs []error
	for _, n := range names {
		b, err := probe(n, e.dirs)
		switch {
		case err != nil:
			errs = append(errs, err)
		case *stale && !b.Stale:
			fmt.Fprintf(e.stdout, "skipped %s: %v\n", n, errInUse)
		default:
			targets = append(targets, b)
		}
	}
	for _, b := range targets {
		if err := cleanOne(e, b, *dry); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", b.Name, err))
		}
	}
	return errors.Join(errs...)
}

// cleanOne removes one buffer's objects unless a live reader owns it.
func cleanOne(e *env, b bufferInfo, dry bool) error {
	names, err := platform.ObjectNames(b.Name, e.dirs)
	if err != nil {
		return err
	}
	if dry {
		if !b.Stale {
			return errInUse
		}
		fmt.Fprintf(e.stdout, "would remove %s\n", b.Name)
		return nil
	}
	// Holding the reader lock keeps every Go, C++ and Python reader out
	// while the objects go, and proves that none holds it now.
	lock, err := platform.AcquireLock(names.Lock, 0o600)
	if errors.Is(err, platform.ErrLocked) {
		return errInUse
	}
	if err != nil {
		return err
	}
	// Re-check under the lock: a reader that locks elsewhere (C#) or
	// started just before we locked is still seen by its PID.
	now, err := probe(b.Name, e.dirs)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		_ = lock.Release(true)
		return err
	}
	if err == nil && now.ReaderPID != 0 && platform.ProcessAlive(now.ReaderPID) {
		_ = lock.Release(false)
		return fmt.Errorf("%w (reader pid %d)", errInUse, now.ReaderPID)
	}
	for _, p := range []string{names.Shm, names.SemW, names.SemR} {
		if err := platform.Remove(p); err != nil {
			_ = lock.Release(false)
			return err
		}
	}
	if st, err := platform.ProbeLock(names.WriterLock); err == nil && st.Exists && !st.Held {
		_ = platform.Remove(names.WriterLock)
	}
	if err := lock.Release(true); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "removed %s\n", b.Name)
	return nil
}
