package typed_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/zerobuffer/zerobuffer-go/codec"
	"github.com/zerobuffer/zerobuffer-go/codec/msgpack"
	"github.com/zerobuffer/zerobuffer-go/core"
	"github.com/zerobuffer/zerobuffer-go/internal/typedmsg"
	"github.com/zerobuffer/zerobuffer-go/typed"
)

// TestCrossProcess_TypeMismatch: a child process sends typedmsg.Tick; a
// receiver of another struct type fails at the first message with
// ErrCodecMismatch naming both types (before, it decoded zero values
// without an error), and keeps failing.
func TestCrossProcess_TypeMismatch(t *testing.T) {
	t.Parallel()
	name := bufferName(t)
	rx, err := typed.Listen(name, core.BufferConfig{PayloadSize: testRing}, msgpack.New[Small]())
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p := startPeer(t, child{role: "send", codec: "tick-gen", size: "var", end: "close", count: 10}, name)
	for range 2 {
		_, err := rx.Recv(ctx)
		var me *codec.MismatchError
		if !errors.Is(err, typed.ErrCodecMismatch) || !errors.As(err, &me) ||
			!strings.Contains(me.Want, "Small@") || !strings.Contains(me.Got, "typedmsg.Tick@") {
			t.Fatalf("Recv = %v, want ErrCodecMismatch naming Small and typedmsg.Tick", err)
		}
	}
	p.kill(t)
}

// TestTypeCheck_SameLayoutAndForeign: a sender of another Go type with the
// same layout is accepted, and so is a sender that declares no type (as a
// C++ or Python producer); a Go sender of another layout is refused by
// Dial when the buffer already declares a type.
func TestTypeCheck_SameLayoutAndForeign(t *testing.T) {
	ctx := testCtx(t)
	name := bufferName(t)
	rx, err := typed.Listen(name, core.BufferConfig{PayloadSize: 4096}, msgpack.New[typedmsg.Tick]())
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	tx, err := typed.Dial(ctx, name, msgpack.New[typedmsg.TickReflect]())
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Send(ctx, typedmsg.TickReflect(typedmsg.MakeTick(3))); err != nil {
		t.Fatal(err)
	}
	if v, err := rx.Recv(ctx); err != nil || v != typedmsg.MakeTick(3) {
		t.Fatalf("Recv = %+v, %v", v, err)
	}
	if err := tx.Close(); err != nil {
		t.Fatal(err)
	}
	// The metadata (write-once) now declares Tick's layout.
	if _, err := typed.Dial(ctx, name, msgpack.New[Small]()); !errors.Is(err, typed.ErrCodecMismatch) {
		t.Fatalf("Dial of another type = %v, want ErrCodecMismatch", err)
	}

	name = bufferName(t)
	rx2, err := typed.Listen(name, core.BufferConfig{PayloadSize: 4096}, msgpack.New[typedmsg.Tick]())
	if err != nil {
		t.Fatal(err)
	}
	defer rx2.Close()
	w, err := core.NewWriter(name) // declares the codec but no type
	if err != nil {
		t.Fatal(err)
	}
	md, _ := codec.AppendMetadata(nil, msgpack.Name, nil)
	frame, _ := codec.Marshal[typedmsg.Tick](msgpack.New[typedmsg.Tick](), typedmsg.MakeTick(5))
	if err := errors.Join(w.SetMetadata(md), w.WriteFrame(ctx, frame), w.Close()); err != nil {
		t.Fatal(err)
	}
	if v, err := rx2.Recv(ctx); err != nil || v != typedmsg.MakeTick(5) {
		t.Fatalf("Recv from a sender without a type = %+v, %v", v, err)
	}
}
