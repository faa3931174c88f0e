package typed_test

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/zerobuffer/zerobuffer-go/codec/msgpack"
	"github.com/zerobuffer/zerobuffer-go/core"
	"github.com/zerobuffer/zerobuffer-go/typed"
)

// TestReceiver_CCancelLosesNothing: a child process sends 10^5 messages;
// the parent receives through C with a ctx that it cancels mid-stream
// while C holds a message nobody takes, then continues with Recv. Every
// sequence number arrives exactly once, in order.
func TestReceiver_CCancelLosesNothing(t *testing.T) {
	t.Parallel()
	name := bufferName(t)
	rx, err := typed.Listen(name, core.BufferConfig{PayloadSize: testRing}, msgpack.New[Small]())
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	p := startPeer(t, child{role: "send", codec: "msgpack", size: "var", end: "close", count: crossCount}, name)

	cctx, stop := context.WithCancel(ctx)
	ch := rx.C(cctx)
	next := 0
	for next < crossCount/2 {
		v, ok := <-ch
		if !ok {
			t.Fatalf("C closed early at %d: %v", next, rx.Err())
		}
		if err := checkSmall(next, v); err != nil {
			t.Fatalf("C message %d: %v", next, err)
		}
		next++
	}
	// The pump now holds the next message (the sender is far ahead) and
	// blocks on the unbuffered channel: cancel it there.
	time.Sleep(10 * time.Millisecond)
	stop()
	for v := range ch { // a value the pump delivered before it saw the cancel
		if err := checkSmall(next, v); err != nil {
			t.Fatalf("C message %d: %v", next, err)
		}
		next++
	}
	if err := rx.Err(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Err() = %v, want context.Canceled", err)
	}
	for {
		v, err := rx.Recv(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("Recv after C, message %d: %v", next, err)
		}
		if err := checkSmall(next, v); err != nil {
			t.Fatalf("Recv message %d: %v", next, err)
		}
		next++
	}
	if next != crossCount {
		t.Fatalf("received %d messages, want %d", next, crossCount)
	}
	p.wait(t)
}
