package natsx_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zerobuffer/zerobuffer-go/codec/msgpack"
	"github.com/zerobuffer/zerobuffer-go/duplex"
	"github.com/zerobuffer/zerobuffer-go/natsx"
)

type req struct {
	Caller, N int
	Fail      bool
	Wait      bool
}

type resp struct {
	Caller, N   int
	HasDeadline bool
	Left        time.Duration
}

// TestRPC: 8 concurrent callers, each response matches its request; the
// caller's deadline reaches the handler's ctx; handler errors come back as
// duplex.HandlerError.
func TestRPC(t *testing.T) {
	nc := connect(t, server(t).URL())
	subj := subject(t)
	srv, err := natsx.NewServer(nc, subj, msgpack.New[req](), msgpack.New[resp](),
		func(ctx context.Context, r req) (resp, error) {
			if r.Fail {
				return resp{}, fmt.Errorf("refused %d", r.N)
			}
			if r.Wait {
				<-ctx.Done()
				return resp{}, ctx.Err()
			}
			dl, ok := ctx.Deadline()
			return resp{Caller: r.Caller, N: r.N * 2, HasDeadline: ok, Left: time.Until(dl)}, nil
		})
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(context.Background()) }()
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-served; !errors.Is(err, duplex.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})

	cnc := connect(t, server(t).URL())
	cl, err := natsx.DialClient(cnc, subj, msgpack.New[req](), msgpack.New[resp]())
	if err != nil {
		t.Fatal(err)
	}
	calls := 100
	if testing.Short() {
		calls = 20
	}
	var wg sync.WaitGroup
	for c := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range calls {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				r, err := cl.Call(ctx, req{Caller: c, N: i})
				cancel()
				if err != nil {
					t.Errorf("caller %d call %d: %v", c, i, err)
					return
				}
				if r.Caller != c || r.N != 2*i || !r.HasDeadline || r.Left <= 0 || r.Left > 30*time.Second {
					t.Errorf("caller %d call %d: got %+v", c, i, r)
					return
				}
			}
		}()
	}
	wg.Wait()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = cl.Call(ctx, req{N: 5, Fail: true})
	var he *duplex.HandlerError
	if !errors.Is(err, duplex.ErrHandler) || !errors.As(err, &he) || he.Message != "refused 5" {
		t.Fatalf("failing handler: %v", err)
	}

	// The handler's ctx ends with the caller's deadline.
	start := time.Now()
	short, cancel2 := context.WithTimeout(context.Background(), 300*time.Millisecond)
	_, err = cl.Call(short, req{Wait: true})
	cancel2()
	// Either the caller's ctx ends first, or the handler's (which carries
	// the same deadline) and its error reply arrives first.
	if !errors.Is(err, context.DeadlineExceeded) &&
		!(errors.As(err, &he) && strings.Contains(he.Message, context.DeadlineExceeded.Error())) {
		t.Fatalf("call past its deadline: %v", err)
	}
	if el := time.Since(start); el > 10*time.Second {
		t.Fatalf("call past its deadline returned after %v", el)
	}

	// A client of another request codec is refused by the server.
	bad, err := natsx.DialClient(cnc, subj, msgpack.New[req](), msgpack.New[resp](), natsx.WithoutCodecCheck())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.Call(ctx, req{}); !errors.Is(err, duplex.ErrHandler) {
		t.Fatalf("client without codec header: %v, want an error reply", err)
	}
}
