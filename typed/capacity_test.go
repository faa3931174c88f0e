package typed_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/zerobuffer/zerobuffer-go/codec"
	"github.com/zerobuffer/zerobuffer-go/core"
	"github.com/zerobuffer/zerobuffer-go/typed"
)

// TestWithCapacity: a buffer sized for 8 messages of 100 bytes takes 8
// such messages without a receive, and the sender blocks on the ninth.
func TestWithCapacity(t *testing.T) {
	ctx := testCtx(t)
	name := bufferName(t)
	rx, err := typed.ListenView(name, core.BufferConfig{}, codec.Raw{}, typed.WithCapacity(8, 100))
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	tx, err := typed.Dial(ctx, name, codec.Raw{})
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	msg := bytes.Repeat([]byte{7}, 100)
	for i := range 8 {
		if err := tx.Send(ctx, msg); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if err := tx.Send(short, msg); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ninth message: %v, want a deadline while the ring is full", err)
	}
	if err := rx.RecvFunc(ctx, func(v []byte) error {
		if !bytes.Equal(v, msg) {
			t.Errorf("got %d bytes", len(v))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
