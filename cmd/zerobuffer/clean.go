package main

import (
	"errors"
	"fmt"

	"github.com/zerobuffer/zerobuffer-go/core"
)

// errInUse is returned for a buffer that a live reader owns.
var errInUse = errors.New("a live reader owns it")

func runClean(e *env, args []string) error {
	f := newFlags("clean", "[NAME...] [--stale] [--force] [--dry-run]", `
Remove buffers: the shared-memory object, both semaphores and the lock
files. A buffer is removed only when no live reader owns it: clean takes
the reader's lock itself first, so a reader can neither hold it nor start
meanwhile, and checks the reader again under it. A live buffer is never
touched; naming one is an error (exit 1). Objects of another user are
refused; root removes them only with --force.

With names, those buffers are cleaned, leftovers of partly created
buffers included. With --stale, a name is removed only when it is a
complete buffer (valid segment, both semaphores of the right size) that
no live reader owns and all of whose objects belong to you; others are
skipped with the reason. With --stale and no names, every such buffer on
the machine is cleaned. Prints one line per buffer.`)
	stale := f.Bool("stale", false, "clean only stale, complete buffers of your own; without names: all of them")
	force := f.Bool("force", false, "as root, also remove other users' objects")
	dry := f.Bool("dry-run", false, "print what would be removed, remove nothing")
	names, err := parse(e, f, args)
	if err != nil {
		return err
	}
	if len(names) == 0 && !*stale {
		return usagef("clean needs buffer names or --stale")
	}
	if len(names) == 0 {
		all, err := discover(e.dirs)
		if err != nil {
			return err
		}
		for _, b := range all {
			if b.Stale {
				names = append(names, b.Name)
			}
		}
	}
	var errs []error
	for _, n := range names {
		err := cleanOne(e, n, *stale, *force, *dry)
		switch {
		case err == nil:
		case *stale && (errors.Is(err, core.ErrReaderExists) || errors.Is(err, core.ErrIncomplete) || errors.Is(err, core.ErrForeignOwner)):
			fmt.Fprintf(e.stdout, "skipped %s: %v\n", displayName(n), inUse(err))
		default:
			errs = append(errs, fmt.Errorf("%s: %w", displayName(n), inUse(err)))
		}
	}
	return errors.Join(errs...)
}

// inUse words a refusal because of a live reader the way clean reports it.
func inUse(err error) error {
	if errors.Is(err, core.ErrReaderExists) {
		return fmt.Errorf("%w (%w)", errInUse, err)
	}
	return err
}

// cleanOne removes one buffer's objects through the core's rules.
func cleanOne(e *env, name string, stale, force, dry bool) error {
	opts := dirOpts(e.dirs)
	if dry {
		b, err := core.Inspect(name, opts...)
		switch {
		case err != nil:
			return err
		case stale:
			err = b.CheckStale(force)
		case !b.Stale:
			err = fmt.Errorf("%w: %q", core.ErrReaderExists, name)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "would remove %s\n", displayName(name))
		return nil
	}
	var err error
	if stale {
		err = core.RemoveStale(name, force, opts...)
	} else {
		err = core.Remove(name, force, opts...)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "removed %s\n", displayName(name))
	return nil
}
