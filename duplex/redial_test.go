package duplex

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/zerobuffer/zerobuffer-go/core"
)

// TestDialRaw_WaitsForPreviousResponseBuffer: a client dials while the
// server still holds the previous client's response buffer (its handler is
// busy with that client's request, so the session has not ended). On
// Windows the old section exists until the server's writer lets go of it,
// and Dial must wait for that within its ctx rather than fail with "already
// exists"; on Linux the name is free at once.
func TestDialRaw_WaitsForPreviousResponseBuffer(t *testing.T) {
	name := testChannel(t, nil)
	entered, release := make(chan struct{}), make(chan struct{})
	rawServer(t, name, func(ctx context.Context, req []byte, resp *ResponseWriter) error {
		if string(req) == "hang" {
			close(entered)
			<-release
		}
		return echo(ctx, req, resp)
	})
	first := dial(t, name)
	errc := make(chan error, 1)
	go func() {
		_, err := first.Call(ctxT(t, 10*time.Second), []byte("hang"))
		errc <- err
	}()
	<-entered
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, core.ErrClosed) {
		t.Fatalf("call of the closed client: %v, want core.ErrClosed", err)
	}
	go func() {
		time.Sleep(100 * time.Millisecond) // Dial is waiting by now on Windows
		close(release)
	}()
	second := dial(t, name)
	resp, err := second.Call(ctxT(t, 10*time.Second), []byte("hello"))
	if err != nil || string(resp) != "hello" {
		t.Fatalf("second client: %q, %v", resp, err)
	}
}
