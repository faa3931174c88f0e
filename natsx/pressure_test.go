package natsx_test

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/zerobuffer/zerobuffer-go/codec/msgpack"
	"github.com/zerobuffer/zerobuffer-go/natsx"
)

// TestBackPressure: a JetStream channel bounded to 10 unacknowledged
// messages holds the sender's announcement and 9 messages, and refuses the
// 10th message while nobody receives: Send waits, then fails
// with ErrFull and its ctx error; once a receiver takes messages, sending
// goes on, and nothing is lost.
func TestBackPressure(t *testing.T) {
	ctx, _, nc, subj := testChannel(t, 60*time.Second)
	c := msgpack.New[event]()
	tx, err := natsx.Dial(ctx, nc, subj, c, natsx.WithMaxPending(10), natsx.WithMemoryStorage())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 9 {
		if err := tx.Send(ctx, event{Seq: i}); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	short, cancelShort := context.WithTimeout(ctx, 2*time.Second) // the server's first "full" answer must come in time (300 ms ran out under -race on the loaded machine)
	err = tx.Send(short, event{Seq: 9})
	cancelShort()
	if !errors.Is(err, natsx.ErrFull) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("10th message into a full channel: %v, want ErrFull and DeadlineExceeded", err)
	}
	if el := time.Since(start); el < 2*time.Second {
		t.Fatalf("Send gave up after %v, before its ctx ended", el)
	}
	rx, err := natsx.Listen(ctx, connect(t, server(t).URL()), subj, c, natsx.WithMaxPending(10))
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	done := make(chan error, 1)
	go func() {
		for i := 9; i < 50; i++ { // blocks until the receiver frees places
			if err := tx.Send(ctx, event{Seq: i}); err != nil {
				done <- err
				return
			}
		}
		done <- tx.Close()
	}()
	n := 0
	for v, err := range rx.All(ctx) {
		if err != nil || v.Seq != n {
			t.Fatalf("message %d: %v %v", n, v, err)
		}
		n++
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n != 50 {
		t.Fatalf("received %d of 50", n)
	}
}

// TestCoreDropped: a core-mode receiver that falls behind its bound of
// pending messages loses messages (core NATS has no back-pressure) and is
// told so once with ErrDropped; what it receives stays in order.
func TestCoreDropped(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	nc := connect(t, server(t).URL())
	subj := subject(t)
	c := msgpack.New[event]()
	rx, err := natsx.Listen(ctx, nc, subj, c, natsx.WithMode(natsx.Core), natsx.WithMaxPending(10))
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	// One message per Send, so that 200 sends overrun a pending limit of 10
	// messages.
	tx, err := natsx.Dial(ctx, connect(t, server(t).URL()), subj, c, natsx.WithMode(natsx.Core), natsx.WithoutCoalescing())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		if err := tx.Send(ctx, event{Seq: i}); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Close(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // let the client library queue (and drop)
	// The end-of-stream message may be among the lost ones: receive
	// until nothing comes for a second.
	got, drops, last := 0, 0, -1
	for {
		rctx, rcancel := context.WithTimeout(ctx, time.Second)
		v, err := rx.Recv(rctx)
		rcancel()
		if errors.Is(err, natsx.ErrDropped) {
			drops++
			continue
		}
		if err == io.EOF || errors.Is(err, context.DeadlineExceeded) {
			break
		}
		if err != nil {
			t.Fatalf("after %d: %v", got, err)
		}
		if v.Seq <= last {
			t.Fatalf("message %d after %d", v.Seq, last)
		}
		last = v.Seq
		got++
	}
	if drops == 0 || got >= 200 || got == 0 {
		t.Fatalf("received %d of 200 with %d drop reports; want some lost and reported", got, drops)
	}
	t.Logf("received %d of 200, %d drop report(s)", got, drops)
}
