package typed_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/zerobuffer/zerobuffer-go/codec/msgpack"
	"github.com/zerobuffer/zerobuffer-go/core"
	"github.com/zerobuffer/zerobuffer-go/internal/typedmsg"
	"github.com/zerobuffer/zerobuffer-go/typed"
)

// TestCrossProcess_MsgpInterop: a sender whose type has methods generated
// by tinylib/msgp and a receiver that decodes the same layout by
// reflection interoperate, and the other way round: 10^5 messages each
// way across processes, every field equal.
func TestCrossProcess_MsgpInterop(t *testing.T) {
	t.Parallel()
	t.Run("generated-to-reflection", func(t *testing.T) {
		t.Parallel()
		name := bufferName(t)
		rx, err := typed.Listen(name, core.BufferConfig{PayloadSize: testRing}, msgpack.New[typedmsg.TickReflect]())
		if err != nil {
			t.Fatal(err)
		}
		defer rx.Close()
		crossProcess(t, name, "tick-gen", "close", func(ctx context.Context, i int) error {
			v, err := rx.Recv(ctx)
			if err != nil {
				return err
			}
			return sameTick(i, typedmsg.Tick(v))
		})
	})
	t.Run("reflection-to-generated", func(t *testing.T) {
		t.Parallel()
		name := bufferName(t)
		rx, err := typed.Listen(name, core.BufferConfig{PayloadSize: testRing}, msgpack.New[typedmsg.Tick]())
		if err != nil {
			t.Fatal(err)
		}
		defer rx.Close()
		crossProcess(t, name, "tick-refl", "close", func(ctx context.Context, i int) error {
			v, err := rx.Recv(ctx)
			if err != nil {
				return err
			}
			return sameTick(i, v)
		})
	})
}

// sameTick compares v with message i field by field.
func sameTick(i int, v typedmsg.Tick) error {
	w := typedmsg.MakeTick(i)
	switch {
	case v.Seq != w.Seq:
		return fmt.Errorf("%w: Seq %d, want %d", errContent, v.Seq, w.Seq)
	case v.TS != w.TS:
		return fmt.Errorf("%w: TS %d, want %d", errContent, v.TS, w.TS)
	case v.Kind != w.Kind:
		return fmt.Errorf("%w: Kind %q, want %q", errContent, v.Kind, w.Kind)
	case v.X != w.X || v.Y != w.Y:
		return fmt.Errorf("%w: X, Y %v, %v, want %v, %v", errContent, v.X, v.Y, w.X, w.Y)
	}
	return nil
}
