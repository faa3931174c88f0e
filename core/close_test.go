//go:build linux

package core

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/zerobuffer/zerobuffer-go/internal/testproc"
)

// TestClose_ConcurrentCallsReturnAfterCleanup: of two concurrent Close
// calls on a Reader (and on a Writer), neither returns before the objects
// are gone, and a ReadFrame blocked at the time returns ErrClosed only
// after the reader's objects are gone. Each caller looks at the file
// system the moment its call returns.
func TestClose_ConcurrentCallsReturnAfterCleanup(t *testing.T) {
	runs := 30
	if testing.Short() {
		runs = 10
	}
	for i := range runs {
		name := testName(t)
		r := mustReader(t, name, 0, 4096)
		w := mustWriter(t, name)
		readerObjects := func(paths []string) []string {
			return slices.DeleteFunc(paths, func(p string) bool { return p == writerLockPath(name) })
		}
		writerObjects := func(paths []string) []string {
			return slices.DeleteFunc(paths, func(p string) bool { return p != writerLockPath(name) })
		}
		var mu sync.Mutex
		var bad []string
		report := func(who string, left []string) {
			if len(left) > 0 {
				mu.Lock()
				bad = append(bad, who+": "+left[0])
				mu.Unlock()
			}
		}
		blocked := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			close(blocked)
			_, err := r.ReadFrame(context.Background())
			if errors.Is(err, ErrClosed) {
				report("ReadFrame returning ErrClosed", readerObjects(testproc.Leftovers(name)))
			}
		})
		<-blocked
		for range 2 {
			wg.Go(func() {
				if err := r.Close(); err != nil {
					t.Error(err)
				}
				report("Reader.Close", readerObjects(testproc.Leftovers(name)))
			})
			wg.Go(func() {
				if err := w.Close(); err != nil {
					t.Error(err)
				}
				report("Writer.Close", writerObjects(testproc.Leftovers(name)))
			})
		}
		wg.Wait()
		for _, b := range bad {
			t.Errorf("run %d: %s still existed when the call returned", i, b)
		}
	}
}
