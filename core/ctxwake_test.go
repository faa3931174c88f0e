package core

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"
	"weak"
)

// ctxWakeInterval is the peer-check interval of the ctxWake tests: a
// sleep lasts up to this long (four times that for an idle reader), so a
// cancelled call that returns well within it was woken by its context's
// registration, not by the end of a sleep slice.
const ctxWakeInterval = 20 * time.Second

// returnsWithin runs call in a goroutine, cancels it with cancel once it
// has had time to fall asleep, and fails unless it returns an error
// wrapping context.Canceled within 5s of the cancel.
func returnsWithin(t *testing.T, what string, cancel context.CancelFunc, call func() error) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- call() }()
	time.Sleep(50 * time.Millisecond) // past the spin: asleep on the semaphore
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("%s: %v, want context.Canceled", what, err)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: still blocked %v after its context was cancelled", what, time.Since(start))
	}
}

// TestCtxWake_Reader: the context of a ReadFrame that slept keeps its
// registration for the later calls; cancelling it still wakes a sleeping
// read at once, a call with another context while the kept one lives is
// woken by its own registration, and once the kept context has ended the
// next one takes its place.
func TestCtxWake_Reader(t *testing.T) {
	name := testName(t)
	r := mustReader(t, name, 0, 1<<16, WithPeerCheckInterval(ctxWakeInterval))
	w := mustWriter(t, name, WithPeerCheckInterval(ctxWakeInterval))
	bg := context.Background()
	read := func(ctx context.Context) error {
		f, err := r.ReadFrame(ctx)
		if err == nil {
			f.Release()
		}
		return err
	}
	// sleepRead reads one frame that arrives after read has fallen asleep.
	sleepRead := func(ctx context.Context) {
		t.Helper()
		go func() {
			time.Sleep(20 * time.Millisecond)
			_ = w.WriteFrame(bg, []byte("x"))
		}()
		if err := read(ctx); err != nil {
			t.Fatal(err)
		}
	}

	a, cancelA := context.WithCancel(bg)
	sleepRead(a) // a's registration is kept
	sleepRead(a)
	returnsWithin(t, "read with the kept context", cancelA, func() error { return read(a) })

	b, cancelB := context.WithCancel(bg)
	defer cancelB()
	sleepRead(b) // a has ended: b is kept now
	c, cancelC := context.WithCancel(bg)
	// A read with b sleeps while one with c is cancelled: c's own
	// registration wakes it, and the read with b goes on sleeping until a
	// frame comes.
	bDone := make(chan error, 1)
	go func() { bDone <- read(b) }()
	returnsWithin(t, "read with a second context", cancelC, func() error { return read(c) })
	select {
	case err := <-bDone:
		t.Fatalf("read with the kept context returned %v when another context was cancelled", err)
	case <-time.After(20 * time.Millisecond):
	}
	if err := w.WriteFrame(bg, []byte("y")); err != nil {
		t.Fatal(err)
	}
	if err := <-bDone; err != nil {
		t.Fatalf("read with the kept context: %v", err)
	}
}

// TestCtxWake_Writer: the same for a writer waiting for space.
func TestCtxWake_Writer(t *testing.T) {
	name := testName(t)
	r := mustReader(t, name, 0, 4096, WithPeerCheckInterval(ctxWakeInterval))
	w := mustWriter(t, name, WithPeerCheckInterval(ctxWakeInterval))
	bg := context.Background()
	frame := make([]byte, 1000)
	for w.WriteFrame(ctxT(t, 10*time.Millisecond), frame) == nil { // fill the ring
	}
	// sleepWrite writes one frame once the reader frees space, after the
	// write has fallen asleep.
	sleepWrite := func(ctx context.Context) {
		t.Helper()
		go func() {
			time.Sleep(20 * time.Millisecond)
			if f, err := r.ReadFrame(bg); err == nil {
				f.Release()
			}
		}()
		if err := w.WriteFrame(ctx, frame); err != nil {
			t.Fatal(err)
		}
	}
	a, cancelA := context.WithCancel(bg)
	sleepWrite(a)
	sleepWrite(a)
	returnsWithin(t, "write with the kept context", cancelA, func() error { return w.WriteFrame(a, frame) })
	b, cancelB := context.WithCancel(bg)
	sleepWrite(b)
	returnsWithin(t, "write with the next context", cancelB, func() error { return w.WriteFrame(b, frame) })
}

// TestCtxWake_Allocs: on Linux and Windows, a read or a write that has
// to wait allocates nothing, whether it spins or sleeps, with
// context.Background or with one cancellable context passed to every
// call. (Elsewhere the figure is logged: the macOS semaphore's sleep is
// not checked.)
func TestCtxWake_Allocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	name := testName(t)
	r := mustReader(t, name, 0, 4096)
	w := mustWriter(t, name)
	bg := context.Background()
	ctx, cancel := context.WithCancel(bg)
	defer cancel()
	const runs = 50
	frame := make([]byte, 1000)
	for _, c := range []struct {
		name string
		ctx  context.Context
	}{{"background", bg}, {"cancellable", ctx}} {
		// The peer acts after 300µs, beyond the default 20µs spin: most
		// waits sleep; on a loaded machine some are served by the spin.
		feed := make(chan struct{})
		go func() {
			defer close(feed)
			for range runs + 1 {
				time.Sleep(300 * time.Microsecond)
				_ = w.WriteFrame(bg, frame[:64])
			}
		}()
		n := testing.AllocsPerRun(runs, func() {
			f, err := r.ReadFrame(c.ctx)
			if err != nil {
				t.Fatal(err)
			}
			f.Release()
		})
		<-feed
		allocs(t, n, "%s: %.1f allocations per ReadFrame that waits, want 0", c.name, n)

		for w.WriteFrame(ctxT(t, 10*time.Millisecond), frame) == nil { // fill the ring
		}
		drain := make(chan struct{})
		go func() {
			defer close(drain)
			for range runs + 1 {
				time.Sleep(300 * time.Microsecond)
				if f, err := r.ReadFrame(bg); err == nil {
					f.Release()
				}
			}
		}()
		n = testing.AllocsPerRun(runs, func() {
			if err := w.WriteFrame(c.ctx, frame); err != nil {
				t.Fatal(err)
			}
		})
		<-drain
		allocs(t, n, "%s: %.1f allocations per WriteFrame that waits for space, want 0", c.name, n)
		for { // empty the ring for the next case
			f, err := r.ReadFrame(ctxT(t, 10*time.Millisecond))
			if err != nil {
				break
			}
			f.Release()
		}
	}
}

// allocs fails t with the message unless n is 0; it only logs it off
// Linux and Windows.
func allocs(t *testing.T, n float64, format string, args ...any) {
	t.Helper()
	switch {
	case n == 0:
	case runtime.GOOS == "linux" || runtime.GOOS == "windows":
		t.Errorf(format, args...)
	default:
		t.Logf(format, args...)
	}
}

// TestCtxWake_DroppedReader: a registration kept for a context that never
// ends does not keep an unclosed Reader from being collected.
func TestCtxWake_DroppedReader(t *testing.T) {
	name := testName(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wr := func() weak.Pointer[Reader] {
		r, err := NewReader(name, BufferConfig{PayloadSize: 4096})
		if err != nil {
			t.Fatal(err)
		}
		w, err := NewWriter(name)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		go func() {
			time.Sleep(20 * time.Millisecond)
			_ = w.WriteFrame(context.Background(), []byte("x"))
		}()
		f, err := r.ReadFrame(ctx) // sleeps: ctx's registration is kept
		if err != nil {
			t.Fatal(err)
		}
		f.Release()
		return weak.Make(r)
	}()
	for deadline := time.Now().Add(5 * time.Second); wr.Value() != nil; time.Sleep(5 * time.Millisecond) {
		runtime.GC()
		if time.Now().After(deadline) {
			t.Fatal("a Reader dropped without Close is still reachable 5s later: the kept registration holds it")
		}
	}
	// Its cleanup ran: a new reader of the name can be created.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		r2, err := NewReader(name, BufferConfig{PayloadSize: 4096})
		if err == nil {
			r2.Close()
			break
		}
		if !errors.Is(err, ErrReaderExists) || time.Now().After(deadline) {
			t.Fatalf("a new reader after the drop: %v", err)
		}
		runtime.GC()
	}
}

// TestCtxWake_Register: the bookkeeping of ctxWake on its own. The first
// cancellable context is kept (register returns nil, also when asked
// again); another live one gets a registration of its own; a context
// that ended frees the slot; after release every call gets its own; a
// context that cannot end needs nothing. Each registration calls the
// side's wake-up when its context ends.
func TestCtxWake_Register(t *testing.T) {
	type side struct{ woken chan struct{} }
	s := &side{woken: make(chan struct{}, 8)}
	c := newCtxWake(s, func(s *side) { s.woken <- struct{}{} })
	woken := func(what string) {
		t.Helper()
		select {
		case <-s.woken:
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: no wake-up 5s after its context ended", what)
		}
	}
	bg := context.Background()
	if u := c.register(bg); u != nil {
		t.Fatal("context.Background got a registration")
	}
	a, cancelA := context.WithCancel(bg)
	if u := c.register(a); u != nil {
		t.Fatal("the first context was not kept")
	}
	if u := c.register(a); u != nil {
		t.Fatal("the kept context registered again")
	}
	b, cancelB := context.WithCancel(bg)
	ub := c.register(b)
	if ub == nil {
		t.Fatal("a second live context got no registration of its own")
	}
	cancelB()
	woken("second context")
	cancelA()
	woken("kept context")
	d, cancelD := context.WithCancel(bg)
	defer cancelD()
	if u := c.register(d); u != nil {
		t.Fatal("the slot of an ended context was not taken over")
	}
	c.release()
	e, cancelE := context.WithCancel(bg)
	ue := c.register(e)
	if ue == nil {
		t.Fatal("after release a context was kept")
	}
	if !ue() {
		t.Fatal("the registration after release had already run")
	}
	cancelD()
	cancelE()
	select {
	case <-s.woken:
		t.Fatal("a released or unregistered registration woke the side")
	case <-time.After(50 * time.Millisecond):
	}
}
