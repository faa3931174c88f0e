package duplex

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zerobuffer/zerobuffer-go/core"
	"github.com/zerobuffer/zerobuffer-go/internal/testproc"
)

// stopChild ends a child gracefully (end of input) and waits for it.
func stopChild(t testing.TB, p *testproc.Proc) {
	t.Helper()
	p.CloseInput()
	for {
		line, err := p.Line(20 * time.Second)
		if err == nil {
			t.Logf("child: %s", line)
			continue
		}
		if !strings.HasSuffix(err.Error(), "exited: <nil>") {
			t.Errorf("child did not exit cleanly: %v", err)
		}
		return
	}
}

func TestRawClient_EchoSizes(t *testing.T) {
	name := testChannel(t, nil)
	p := startServerChild(t, name, "echo", bigBuf, 1)
	c := dial(t, name, WithResponseBuffer(bufCfg(bigBuf)))
	ctx := ctxT(t, 60*time.Second)
	for _, size := range []int{1, 1 << 10, 100 << 10, 1 << 20} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			req := payload(uint64(size), size)
			resp, err := c.Call(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			mustEqual(t, "Call", resp, req)

			b, err := c.Reserve(ctx, size) // zero-copy request
			if err != nil {
				t.Fatal(err)
			}
			copy(b, req)
			if err := c.Commit(); err != nil {
				t.Fatal(err)
			}
			err = c.ReceiveFunc(ctx, func(resp []byte) error { // zero-copy response
				if !bytes.Equal(resp, req) {
					return errors.New("ReceiveFunc: wrong response")
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
	stopChild(t, p)
}

func TestRawClient_Pipelined10000InOrder(t *testing.T) {
	name := testChannel(t, nil)
	p := startServerChild(t, name, "echo", smallBuf, 1)
	c := dial(t, name)
	ctx := ctxT(t, 60*time.Second)
	const n = 10000
	sizes := randSizes(7, n, 300)
	sent := make(chan struct{}, n)
	errc := make(chan error, 1)
	go func() {
		defer close(sent)
		for i := range n {
			if err := c.Send(ctx, payload(uint64(i), sizes[i])); err != nil {
				errc <- err
				return
			}
			sent <- struct{}{}
		}
	}()
	for i := range n {
		if _, ok := <-sent; !ok {
			t.Fatalf("send %d: %v", i, <-errc)
		}
		resp, err := c.Receive(ctx)
		if err != nil {
			t.Fatalf("receive %d: %v", i, err)
		}
		if got := binary.LittleEndian.Uint64(resp); got != uint64(i) {
			t.Fatalf("response %d carries request %d", i, got)
		}
		mustEqual(t, fmt.Sprintf("response %d", i), resp, payload(uint64(i), sizes[i]))
	}
	stopChild(t, p)
}

func TestRawServer_XOR(t *testing.T) {
	name := testChannel(t, nil)
	p := startServerChild(t, name, "xor", smallBuf, 1)
	c := dial(t, name)
	ctx := ctxT(t, 30*time.Second)
	for i, size := range randSizes(3, 200, 8000) {
		req := payload(uint64(i), size)
		resp, err := c.Call(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		mustEqual(t, fmt.Sprintf("call %d", i), resp, xorFF(req))
	}
	stopChild(t, p)
}

func TestRawServer_SlowHandlerStaysOrdered(t *testing.T) {
	for _, workers := range []int{1, 3} {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			name := testChannel(t, nil)
			p := startServerChild(t, name, "sleep", smallBuf, workers)
			c := dial(t, name)
			ctx := ctxT(t, 30*time.Second)
			start := time.Now()
			for i := range 3 {
				if err := c.Send(ctx, payload(uint64(i), 64)); err != nil {
					t.Fatal(err)
				}
			}
			for i := range 3 {
				resp, err := c.Receive(ctx)
				if err != nil {
					t.Fatal(err)
				}
				mustEqual(t, fmt.Sprintf("response %d", i), resp, payload(uint64(i), 64))
			}
			elapsed := time.Since(start)
			t.Logf("3 requests x 100ms with %d worker(s): %v", workers, elapsed)
			if workers == 1 && elapsed < 300*time.Millisecond {
				t.Errorf("3 sequential 100ms requests took %v, want >= 300ms", elapsed)
			}
			stopChild(t, p)
		})
	}
}

// TestRawServer_SmallResponseRing: the client's ring holds one response
// but not two, and the client reads late: the server blocks on the
// second response until the client frees the first, then completes.
func TestRawServer_SmallResponseRing(t *testing.T) {
	name := testChannel(t, nil)
	p := startServerChild(t, name, "report", smallBuf, 1)
	c := dial(t, name, WithResponseBuffer(bufCfg(4096)))
	ctx := ctxT(t, 30*time.Second)
	const size = 3000 // 2 x (16 + 3000) > 4096
	for i := range 3 {
		if err := c.Send(ctx, payload(uint64(i), size)); err != nil {
			t.Fatal(err)
		}
	}
	p.Expect("answered 1", 10*time.Second)
	if line, err := p.Line(300 * time.Millisecond); err == nil {
		t.Fatalf("server wrote a second response into a full ring: %q", line)
	}
	for i := range 3 {
		resp, err := c.Receive(ctx)
		if err != nil {
			t.Fatal(err)
		}
		mustEqual(t, fmt.Sprintf("response %d", i), resp, payload(uint64(i), size))
		if i < 2 {
			p.Expect(fmt.Sprintf("answered %d", i+2), 10*time.Second)
		}
	}
	stopChild(t, p)
}

func TestRawClient_ServerKilled(t *testing.T) {
	t.Run("mid-request", func(t *testing.T) {
		crashed := true
		name := testChannel(t, &crashed)
		p := startServerChild(t, name, "hang", smallBuf, 1)
		c := dial(t, name)
		errc := make(chan error, 1)
		go func() {
			_, err := c.Call(ctxT(t, 30*time.Second), []byte("request"))
			errc <- err
		}()
		p.Expect("busy", 10*time.Second)
		killed := time.Now()
		p.Kill()
		err := <-errc
		took := time.Since(killed)
		t.Logf("client saw the death after %v: %v", took, err)
		if !errors.Is(err, ErrServerDead) || !errors.Is(err, core.ErrWriterDead) {
			t.Errorf("got %v, want ErrServerDead matching core.ErrWriterDead", err)
		}
		if took > time.Second {
			t.Errorf("detection took %v, want < 1s (target 250ms)", took)
		}
		if _, err := c.Call(ctxT(t, time.Second), []byte("x")); !errors.Is(err, ErrServerDead) {
			t.Errorf("next call: %v, want sticky ErrServerDead", err)
		}
	})
	t.Run("idle", func(t *testing.T) {
		crashed := true
		name := testChannel(t, &crashed)
		p := startServerChild(t, name, "echo", smallBuf, 1)
		c := dial(t, name)
		if _, err := c.Call(ctxT(t, 10*time.Second), []byte("hello")); err != nil {
			t.Fatal(err)
		}
		p.Kill()
		time.Sleep(200 * time.Millisecond) // the core's writer notices the dead reader
		start := time.Now()
		_, err := c.Call(ctxT(t, 10*time.Second), []byte("again"))
		if !errors.Is(err, ErrServerDead) || time.Since(start) > time.Second {
			t.Errorf("call after the server died: %v after %v, want ErrServerDead at once", err, time.Since(start))
		}
	})
}

func TestRawServer_ClientKilledThenNewClient(t *testing.T) {
	crashed := true
	name := testChannel(t, &crashed)
	entered, release := make(chan struct{}), make(chan struct{})
	var mu sync.Mutex
	var connects int
	var errs []error
	h := func(ctx context.Context, req []byte, resp *ResponseWriter) error {
		if string(req) == "hang" {
			close(entered)
			<-release
		}
		return echo(ctx, req, resp)
	}
	rawServer(t, name, h,
		WithOnConnect(func([]byte) { mu.Lock(); connects++; mu.Unlock() }),
		WithOnError(func(err error) { mu.Lock(); errs = append(errs, err); mu.Unlock() }))

	first := testproc.Start(t, "client", name, "hang")
	first.Expect("sent", 20*time.Second)
	<-entered
	first.Kill()                       // mid-request, 20 more requests queued
	time.Sleep(200 * time.Millisecond) // the server's writer notices the death
	close(release)

	second := testproc.Start(t, "client", name, "echo", "300")
	second.Expect("ok 300", 30*time.Second)
	stopChild(t, second)

	third := dial(t, name) // after a graceful leave
	for i := range 50 {
		req := payload(uint64(i), 100+i)
		resp, err := third.Call(ctxT(t, 10*time.Second), req)
		if err != nil {
			t.Fatal(err)
		}
		mustEqual(t, "third client", resp, req)
	}
	mu.Lock()
	defer mu.Unlock()
	if connects != 3 {
		t.Errorf("OnConnect called %d times, want 3", connects)
	}
	if len(errs) != 1 || !errors.Is(errs[0], core.ErrReaderDead) {
		t.Errorf("server errors: %v, want one for the dead client", errs)
	}
}

func TestRawClient_ConcurrentCalls(t *testing.T) {
	name := testChannel(t, nil)
	p := startServerChild(t, name, "echo", smallBuf, 1)
	c := dial(t, name)
	ctx := ctxT(t, 60*time.Second)
	const goroutines, calls = 8, 250
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i, size := range randSizes(uint64(g), calls, 2000) {
				req := payload(uint64(g<<32|i), size)
				resp, err := c.Call(ctx, req)
				if err != nil {
					t.Errorf("goroutine %d call %d: %v", g, i, err)
					return
				}
				if !bytes.Equal(resp, req) {
					t.Errorf("goroutine %d call %d: got another caller's response", g, i)
					return
				}
			}
		})
	}
	wg.Wait()
	stopChild(t, p)
}

func TestRawServer_ShutdownDrains(t *testing.T) {
	name := testChannel(t, nil)
	p := startServerChild(t, name, "sleep", smallBuf, 1)
	c := dial(t, name)
	ctx := ctxT(t, 30*time.Second)
	for i := range 3 {
		if err := c.Send(ctx, payload(uint64(i), 32)); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(30 * time.Millisecond) // the first request is being handled
	p.Send("shutdown")
	for i := range 3 {
		resp, err := c.Receive(ctx)
		if err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
		mustEqual(t, "drained response", resp, payload(uint64(i), 32))
	}
	p.Expect("shutdown <nil> serve "+ErrServerClosed.Error(), 10*time.Second)
	if _, err := c.Call(ctx, []byte("late")); !errors.Is(err, ErrServerClosed) {
		t.Errorf("call after shutdown: %v, want ErrServerClosed", err)
	}
	stopChild(t, p)
}
