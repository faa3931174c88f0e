package typed_test

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/zerobuffer/zerobuffer-go/codec/msgpack"
	"github.com/zerobuffer/zerobuffer-go/core"
	"github.com/zerobuffer/zerobuffer-go/internal/typedmsg"
	"github.com/zerobuffer/zerobuffer-go/typed"
)

// TestAllocs: sending allocates nothing (generated, reflection and raw),
// receiving a msgpack struct with one string field allocates the string
// only, and a raw view receive nothing (per message and with
// SendAll/RecvBatch); with the receive batch path in
// play (several messages committed before each receive).
func TestAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race")
	}
	ctx := testCtx(t)
	tick := typedmsg.MakeTick(1)
	measure := func(name string, send func(), recv func()) {
		t.Helper()
		for range 8 { // warm up pools, and leave frames committed
			send()
		}
		s := testing.AllocsPerRun(2000, send)
		r := testing.AllocsPerRun(2000, recv)
		t.Logf("%s: send %v, recv %v allocs/message", name, s, r)
		want := 1.0
		if strings.HasPrefix(name, "raw-view") {
			want = 0
		}
		if s != 0 || r > want {
			t.Errorf("%s: send %v allocs (want 0), recv %v (want <= %v)", name, s, r, want)
		}
	}

	name := bufferName(t)
	rx, err := typed.Listen(name, core.BufferConfig{PayloadSize: 1 << 20}, msgpack.New[typedmsg.Tick]())
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	tx, err := typed.Dial(ctx, name, msgpack.New[typedmsg.Tick]())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	measure("msgpack-generated", func() { _ = tx.Send(ctx, tick) }, func() { _, _ = rx.Recv(ctx) })

	name = bufferName(t)
	rx2, err := typed.Listen(name, core.BufferConfig{PayloadSize: 1 << 20}, msgpack.New[typedmsg.TickReflect]())
	if err != nil {
		t.Fatal(err)
	}
	defer rx2.Close()
	tx2, err := typed.Dial(ctx, name, msgpack.New[typedmsg.TickReflect]())
	if err != nil {
		t.Fatal(err)
	}
	defer tx2.Close()
	measure("msgpack-reflection", func() { _ = tx2.Send(ctx, typedmsg.TickReflect(tick)) }, func() { _, _ = rx2.Recv(ctx) })

	rx3, tx3 := rawViewPair(t, 1<<20)
	msg := make([]byte, 64)
	var sink byte
	fn := func(p []byte) error { sink += p[0]; return nil }
	measure("raw-view", func() { _ = tx3.Send(ctx, msg) }, func() { _ = rx3.RecvFunc(ctx, fn) })

	// Batches of four each way: SendAll and RecvBatch.
	batch := [][]byte{msg, msg, msg, msg}
	measure("raw-view-batch", func() { _, _ = tx3.SendAll(ctx, batch) }, func() { _, _ = rx3.RecvBatch(ctx, len(batch), fn) })
}

// TestAllocs_Waiting: a raw view receive that waits for its message and a
// send that waits for room allocate nothing either, with the test's
// cancellable context passed to every call (its registration is kept
// across calls; see core's ctxWake).
func TestAllocs_Waiting(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race")
	}
	if runtime.GOOS != "linux" && runtime.GOOS != "windows" {
		t.Skip("the semaphore's sleep is checked for allocations on Linux and Windows only")
	}
	ctx := testCtx(t)
	rx, tx := rawViewPair(t, 4096)
	const runs = 50
	msg := make([]byte, 1000)
	var sink byte
	fn := func(p []byte) error { sink += p[0]; return nil }

	// Each message comes 300µs after the receive started waiting, beyond
	// the 20µs spin.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range runs + 1 {
			time.Sleep(300 * time.Microsecond)
			_ = tx.Send(ctx, msg[:64])
		}
	}()
	n := testing.AllocsPerRun(runs, func() {
		if err := rx.RecvFunc(ctx, fn); err != nil {
			t.Fatal(err)
		}
	})
	<-done
	if n != 0 {
		t.Errorf("raw view receive that waits: %v allocs, want 0", n)
	}

	// The ring full: each send waits for the receiver, which takes a
	// message every 300µs.
	for {
		full, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
		err := tx.Send(full, msg)
		cancel()
		if err != nil {
			break
		}
	}
	done = make(chan struct{})
	go func() {
		defer close(done)
		for range runs + 1 {
			time.Sleep(300 * time.Microsecond)
			_ = rx.RecvFunc(ctx, fn)
		}
	}()
	n = testing.AllocsPerRun(runs, func() {
		if err := tx.Send(ctx, msg); err != nil {
			t.Fatal(err)
		}
	})
	<-done
	if n != 0 {
		t.Errorf("send that waits for room: %v allocs, want 0", n)
	}
}
