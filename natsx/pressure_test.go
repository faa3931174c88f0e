package natsx_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/zerobuffer/zerobuffer-go/codec/msgpack"
	"github.com/zerobuffer/zerobuffer-go/natsx"
)

// TestBackPressure: a JetStream channel bounded to 10 unacknowledged
// messages refuses the 11th while nobody receives: Send waits, then fails
// with ErrFull and its ctx error; once a receiver takes messages, sending
// goes on, and nothing is lost.
func TestBackPressure(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	nc := connect(t, server(t).URL())
	subj := subject(t)
	defer natsx.Remove(context.Background(), nc, subj)
	c := msgpack.New[event]()
	tx, err := natsx.Dial(ctx, nc, subj, c, natsx.WithMaxPending(10), natsx.WithMemoryStorage())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if err := tx.Send(ctx, event{Seq: i}); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	short, cancelShort := context.WithTimeout(ctx, 300*time.Millisecond)
	err = tx.Send(short, event{Seq: 10})
	cancelShort()
	if !errors.Is(err, natsx.ErrFull) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("11th message into a full channel: %v, want ErrFull and DeadlineExceeded", err)
	}
	if el := time.Since(start); el < 300*time.Millisecond {
		t.Fatalf("Send gave up after %v, before its ctx ended", el)
	}
	rx, err := natsx.Listen(ctx, connect(t, server(t).URL()), subj, c, natsx.WithMaxPending(10))
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	done := make(chan error, 1)
	go func() {
		for i := 10; i < 50; i++ { // blocks until the receiver frees places
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
