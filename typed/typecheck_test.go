package typed_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	vmsgpack "github.com/vmihailenco/msgpack/v5"

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

// TestTypeCheck_SameTypeSkipsFieldCheck: once the first message showed
// that the sender declared the receiver's own type (layout digest), the
// receiver decodes with the codec's same-type form, which does not look
// for unknown fields (an honest sender of that layout has none); a sender
// that declared no type still gets them refused.
func TestTypeCheck_SameTypeSkipsFieldCheck(t *testing.T) {
	ctx := testCtx(t)
	extra, err := vmsgpack.Marshal(map[string]any{"Seq": 7, "Kind": "bid", "Extra": 1})
	if err != nil {
		t.Fatal(err)
	}
	send := func(name string, md []byte, frames int) {
		t.Helper()
		w, err := core.NewWriter(name)
		if err != nil {
			t.Fatal(err)
		}
		err = w.SetMetadata(md)
		for range frames {
			err = errors.Join(err, w.WriteFrame(ctx, extra))
		}
		if err := errors.Join(err, w.Close()); err != nil {
			t.Fatal(err)
		}
	}
	dec := msgpack.New[typedmsg.Tick]()
	typeLine, err := codec.AppendType(nil, dec.Fingerprint())
	if err != nil {
		t.Fatal(err)
	}
	declared, _ := codec.AppendMetadata(nil, msgpack.Name, typeLine)
	untyped, _ := codec.AppendMetadata(nil, msgpack.Name, nil)

	name := bufferName(t)
	rx, err := typed.Listen(name, core.BufferConfig{PayloadSize: 4096}, dec)
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	send(name, declared, 3) // the first through the checking path, the rest in a batch
	for i := range 3 {
		if v, err := rx.Recv(ctx); err != nil || v.Seq != 7 || v.Kind != "bid" {
			t.Fatalf("message %d from a sender of the same type: %+v, %v", i, v, err)
		}
	}

	name = bufferName(t)
	rx2, err := typed.Listen(name, core.BufferConfig{PayloadSize: 4096}, dec)
	if err != nil {
		t.Fatal(err)
	}
	defer rx2.Close()
	send(name, untyped, 2)
	for i := range 2 {
		if _, err := rx2.Recv(ctx); !errors.Is(err, codec.ErrInvalid) {
			t.Fatalf("message %d from a sender without a type: %v, want codec.ErrInvalid", i, err)
		}
	}
}

// TestFanIn_TypeCheck: each lane of a ManyReceiver checks its sender's
// type fingerprint as a Receiver does: a sender of another struct type is
// refused with ErrCodecMismatch, a sender that declared the receiver's
// type goes through the same-type decoder (an unknown key passes), and a
// lane whose sender declared no type keeps the checked decoder.
func TestFanIn_TypeCheck(t *testing.T) {
	ctx := testCtx(t)
	type other struct{ A, B int }
	dec := msgpack.New[typedmsg.Tick]()
	name := bufferName(t)
	rx, err := typed.ListenMany(name, core.BufferConfig{PayloadSize: 4096}, core.FanInConfig{}, dec)
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()

	bad, err := typed.DialMany(ctx, name, msgpack.New[other]())
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	if err := bad.Send(ctx, other{1, 2}); err != nil {
		t.Fatal(err)
	}
	_, err = rx.Recv(ctx)
	if !errors.Is(err, typed.ErrCodecMismatch) || !strings.Contains(err.Error(), "other") {
		t.Fatalf("sender of another type: %v, want ErrCodecMismatch naming it", err)
	}

	extra, err := vmsgpack.Marshal(map[string]any{"Seq": 7, "Kind": "bid", "Extra": 1})
	if err != nil {
		t.Fatal(err)
	}
	typeLine, err := codec.AppendType(nil, dec.Fingerprint())
	if err != nil {
		t.Fatal(err)
	}
	declared, _ := codec.AppendMetadata(nil, msgpack.Name, typeLine)
	untyped, _ := codec.AppendMetadata(nil, msgpack.Name, nil)
	send := func(md []byte) {
		t.Helper()
		lane, err := core.ClaimLane(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { lane.Close() })
		if err := lane.Writer().SetMetadata(md); err != nil {
			t.Fatal(err)
		}
		if err := lane.Writer().WriteFrame(ctx, extra); err != nil {
			t.Fatal(err)
		}
	}
	send(declared)
	if v, err := rx.Recv(ctx); err != nil || v.Seq != 7 || v.Kind != "bid" {
		t.Fatalf("lane of a sender of the same type: %+v, %v", v, err)
	}
	send(untyped)
	if _, err := rx.Recv(ctx); !errors.Is(err, codec.ErrInvalid) {
		t.Fatalf("lane of a sender without a type: %v, want codec.ErrInvalid", err)
	}
}
