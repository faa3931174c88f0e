package duplex

import (
	"context"
	"errors"
	"io/fs"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zerobuffer/zerobuffer-go/core"
	"github.com/zerobuffer/zerobuffer-go/internal/testproc"
)

// These tests run server and client in one process: the buffers and the
// protocol are the same, only liveness is not exercised.

func TestRawServer_Lifecycle(t *testing.T) {
	t.Run("serve twice", func(t *testing.T) {
		name := testChannel(t, nil)
		s := rawServer(t, name, echo)
		time.Sleep(10 * time.Millisecond)
		if err := s.Serve(context.Background()); !errors.Is(err, ErrServing) {
			t.Errorf("second Serve: %v, want ErrServing", err)
		}
	})
	t.Run("close without serve", func(t *testing.T) {
		name := testChannel(t, nil)
		s, err := NewRawServer(name, echo, WithRequestBuffer(bufCfg(smallBuf)))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		if err := s.Serve(context.Background()); !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve after Close: %v, want ErrServerClosed", err)
		}
	})
	t.Run("ctx ends serve", func(t *testing.T) {
		name := testChannel(t, nil)
		s, err := NewRawServer(name, echo, WithRequestBuffer(bufCfg(smallBuf)))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		if err := s.Serve(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Serve: %v, want the ctx error", err)
		}
		if len(testproc.Leftovers(RequestName(name))) != 0 {
			t.Error("the request buffer survived Serve")
		}
	})
	t.Run("second server refused", func(t *testing.T) {
		name := testChannel(t, nil)
		rawServer(t, name, echo)
		if _, err := NewRawServer(name, echo); !errors.Is(err, fs.ErrExist) {
			t.Errorf("second server: %v, want fs.ErrExist", err)
		}
	})
	t.Run("invalid options", func(t *testing.T) {
		for _, o := range []Option{WithWorkers(0), WithConnectTimeout(0), WithRequestBuffer(core.BufferConfig{PayloadSize: -1})} {
			if _, err := NewRawServer("x", echo, o); err == nil {
				t.Error("invalid option accepted")
			}
		}
		if _, err := NewRawServer(strings.Repeat("n", MaxNameLen+1), echo); !errors.Is(err, core.ErrInvalidName) {
			t.Errorf("long name: %v, want core.ErrInvalidName", err)
		}
	})
}

func TestRawServer_HandlerErrors(t *testing.T) {
	name := testChannel(t, nil)
	var mu sync.Mutex
	var reported []error
	h := func(ctx context.Context, req []byte, resp *ResponseWriter) error {
		switch string(req) {
		case "fail":
			return errors.New("boom")
		case "farewell-text": // a proxy passing on an upstream's disconnection
			return ErrClientDisconnected
		case "nothing":
			return nil
		case "reserve-big", "reserve-small":
			n := map[string]int{"reserve-big": 100, "reserve-small": 3}[string(req)]
			if _, err := resp.Reserve(ctx, n); err != nil {
				return err
			}
			return errors.New("gave up after reserve")
		case "panic":
			panic("handler bug")
		case "twice":
			if err := resp.Write(ctx, []byte("first")); err != nil {
				return err
			}
			if err := resp.Write(ctx, []byte("second")); !errors.Is(err, ErrResponseWritten) {
				return errors.New("second Write did not fail")
			}
			return nil
		case "too-large":
			_, err := resp.Reserve(ctx, 2*smallBuf)
			return err
		}
		return echo(ctx, req, resp)
	}
	rawServer(t, name, h, WithOnError(func(err error) { mu.Lock(); reported = append(reported, err); mu.Unlock() }))
	c := dial(t, name)
	ctx := ctxT(t, 10*time.Second)
	cases := []struct{ req, msg string }{
		{"fail", "boom"},
		{"farewell-text", ErrClientDisconnected.Error()}, // an answer, not this client's disconnection
		{"nothing", ErrNoResponse.Error()},
		{"reserve-big", "gave up after reserve"},
		{"reserve-small", "gave up after reserve"},
		{"panic", ErrHandlerPanic.Error()},
		{"too-large", core.ErrFrameTooLarge.Error()},
	}
	for _, tc := range cases {
		_, err := c.Call(ctx, []byte(tc.req))
		var he *HandlerError
		if !errors.As(err, &he) || !errors.Is(err, ErrHandler) || !strings.Contains(he.Message, tc.msg) {
			t.Errorf("%s: got %v, want a HandlerError containing %q", tc.req, err, tc.msg)
		}
	}
	if resp, err := c.Call(ctx, []byte("twice")); err != nil || string(resp) != "first" {
		t.Errorf("twice: %q, %v", resp, err)
	}
	if resp, err := c.Call(ctx, []byte("still works")); err != nil || string(resp) != "still works" {
		t.Errorf("after errors: %q, %v", resp, err)
	}
	mu.Lock()
	defer mu.Unlock()
	var sawPanicStack, sawNoResponse bool
	for _, err := range reported {
		sawPanicStack = sawPanicStack || (errors.Is(err, ErrHandlerPanic) && strings.Contains(err.Error(), "handler bug"))
		sawNoResponse = sawNoResponse || errors.Is(err, ErrNoResponse)
	}
	if !sawPanicStack || !sawNoResponse {
		t.Errorf("error hook got %v", reported)
	}
}

func TestRawServer_WorkersKeepOrder(t *testing.T) {
	name := testChannel(t, nil)
	h := func(ctx context.Context, req []byte, resp *ResponseWriter) error {
		time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
		if req[0]%5 == 0 {
			return errors.New("every fifth fails")
		}
		return resp.Write(ctx, xorFF(req))
	}
	rawServer(t, name, h, WithWorkers(8))
	c := dial(t, name)
	ctx := ctxT(t, 30*time.Second)
	const n = 300
	for i := range n {
		if err := c.Send(ctx, payload(uint64(i), 16+i%50)); err != nil {
			t.Fatal(err)
		}
		if i >= 64 { // keep the rings from filling
			checkWorkerResponse(t, c, ctx, i-64)
		}
	}
	for i := n - 64; i < n; i++ {
		checkWorkerResponse(t, c, ctx, i)
	}
}

func checkWorkerResponse(t *testing.T, c *RawClient, ctx context.Context, i int) {
	t.Helper()
	resp, err := c.Receive(ctx)
	if byte(i)%5 == 0 {
		if !errors.Is(err, ErrHandler) {
			t.Fatalf("response %d: %v, want a handler error", i, err)
		}
		return
	}
	if err != nil {
		t.Fatalf("response %d: %v", i, err)
	}
	mustEqual(t, "worker response", resp, xorFF(payload(uint64(i), 16+i%50)))
}

func TestRawClient_CancelledCallKeepsStep(t *testing.T) {
	name := testChannel(t, nil)
	release := make(chan struct{})
	h := func(ctx context.Context, req []byte, resp *ResponseWriter) error {
		if string(req) == "slow" {
			<-release
		}
		return echo(ctx, req, resp)
	}
	rawServer(t, name, h)
	c := dial(t, name)
	short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.Call(short, []byte("slow")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("slow call: %v, want DeadlineExceeded", err)
	}
	close(release)
	ctx := ctxT(t, 10*time.Second)
	for _, req := range []string{"next", "and next"} {
		if resp, err := c.Call(ctx, []byte(req)); err != nil || string(resp) != req {
			t.Fatalf("call %q: %q, %v (the discarded response must not leak)", req, resp, err)
		}
	}
}

func TestRawClient_Misuse(t *testing.T) {
	name := testChannel(t, nil)
	rawServer(t, name, echo)
	c := dial(t, name)
	ctx := ctxT(t, 10*time.Second)
	if _, err := c.Receive(ctx); !errors.Is(err, ErrNoPending) {
		t.Errorf("Receive with nothing sent: %v", err)
	}
	if err := c.Commit(); !errors.Is(err, core.ErrNoReservation) {
		t.Errorf("Commit without Reserve: %v", err)
	}
	if err := c.Send(ctx, nil); !errors.Is(err, core.ErrInvalidFrameSize) {
		t.Errorf("empty request: %v", err)
	}
	if _, err := DialRaw(ctx, name, WithResponseBuffer(bufCfg(smallBuf))); !errors.Is(err, fs.ErrExist) {
		t.Errorf("second client: %v, want fs.ErrExist", err)
	}
	c.Close()
	if _, err := c.Call(ctx, []byte("x")); !errors.Is(err, core.ErrClosed) {
		t.Errorf("Call after Close: %v, want core.ErrClosed", err)
	}
}

func TestRawClient_CloseWakesCallers(t *testing.T) {
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
	c := dial(t, name)
	errc := make(chan error, 1)
	go func() {
		_, err := c.Call(ctxT(t, 10*time.Second), []byte("wait"))
		errc <- err
	}()
	time.Sleep(50 * time.Millisecond)
	c.Close()
	if err := <-errc; !errors.Is(err, core.ErrClosed) {
		t.Errorf("waiting call after Close: %v, want core.ErrClosed", err)
	}
}

func TestDialRaw_WaitsForServer(t *testing.T) {
	name := testChannel(t, nil)
	short, cancel := context.WithTimeout(context.Background(), 60*time.Millisecond)
	defer cancel()
	if _, err := DialRaw(short, name); !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("dial without server: %v, want the ctx error and fs.ErrNotExist", err)
	}
	go func() {
		time.Sleep(50 * time.Millisecond)
		rawServer(t, name, echo)
	}()
	c := dial(t, name)
	if resp, err := c.Call(ctxT(t, 10*time.Second), []byte("late server")); err != nil || string(resp) != "late server" {
		t.Errorf("call: %q, %v", resp, err)
	}
}

func TestRawServer_Metadata(t *testing.T) {
	name := testChannel(t, nil)
	got := make(chan string, 4)
	rawServer(t, name, echo, WithOnConnect(func(md []byte) { got <- string(md) }))
	ctx := ctxT(t, 10*time.Second)
	for range 2 { // the second client declares the same bytes
		c := dial(t, name, WithMetadata([]byte("client v1")))
		if _, err := c.Call(ctx, []byte("hi")); err != nil {
			t.Fatal(err)
		}
		if md := <-got; md != "client v1" {
			t.Errorf("OnConnect got %q", md)
		}
		c.Close()
	}
	_, err := DialRaw(ctx, name, WithMetadata([]byte("client v2")), WithResponseBuffer(bufCfg(smallBuf)))
	if !errors.Is(err, ErrMetadataConflict) {
		t.Errorf("different metadata: %v, want ErrMetadataConflict", err)
	}
}

func TestRawClient_CallFuncMayCallAgain(t *testing.T) {
	name := testChannel(t, nil)
	rawServer(t, name, echo)
	c := dial(t, name)
	ctx := ctxT(t, 10*time.Second)
	err := c.CallFunc(ctx, []byte("outer"), func(outer []byte) error {
		inner, err := c.Call(ctx, []byte("inner")) // the outer frame is still held
		if err != nil || string(inner) != "inner" || string(outer) != "outer" {
			return errors.New("nested call failed")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
