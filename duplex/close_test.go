//go:build linux

package duplex

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/zerobuffer/zerobuffer-go/core"
	"github.com/zerobuffer/zerobuffer-go/internal/testproc"
	"github.com/zerobuffer/zerobuffer-go/platform"
)

// TestRawClient_ConcurrentCloseReturnsAfterCleanup: two goroutines close a
// client while a Call waits for its response. Each Close, and the Call
// failing with core.ErrClosed, returns only after the client's response
// buffer is removed and its writer lock on the request buffer is released.
func TestRawClient_ConcurrentCloseReturnsAfterCleanup(t *testing.T) {
	name := testChannel(t, nil)
	release := make(chan struct{})
	defer close(release)
	rawServer(t, name, func(ctx context.Context, req []byte, resp *ResponseWriter) error {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return echo(ctx, req, resp)
	})
	writerLock := filepath.Join(platform.DefaultLockDir, "writer", RequestName(name)+".lock")
	serverLock := filepath.Join(platform.DefaultLockDir, "writer", ResponseName(name)+".lock")
	clientObjects := func() []string { // the server's writer lock on the response buffer is not the client's
		left := slices.DeleteFunc(testproc.Leftovers(ResponseName(name)), func(p string) bool { return p == serverLock })
		if slices.Contains(testproc.Leftovers(RequestName(name)), writerLock) {
			left = append(left, writerLock)
		}
		return left
	}
	for i := range 10 {
		c := dial(t, name)
		entered := make(chan struct{})
		var mu sync.Mutex
		var bad []string
		check := func(who string) {
			if left := clientObjects(); len(left) > 0 {
				mu.Lock()
				bad = append(bad, who+": "+left[0])
				mu.Unlock()
			}
		}
		var wg sync.WaitGroup
		wg.Go(func() {
			close(entered)
			_, err := c.Call(ctxT(t, 10*time.Second), []byte("wait"))
			if errors.Is(err, core.ErrClosed) {
				check("Call returning ErrClosed")
			}
		})
		<-entered
		for range 2 {
			wg.Go(func() {
				if err := c.Close(); err != nil {
					t.Error(err)
				}
				check("Close")
			})
		}
		wg.Wait()
		for _, b := range bad {
			t.Errorf("run %d: %s still existed when the call returned", i, b)
		}
	}
}
