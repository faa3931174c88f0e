package msgpack_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/zerobuffer/zerobuffer-go/codec"
	"github.com/zerobuffer/zerobuffer-go/codec/msgpack"
	"github.com/zerobuffer/zerobuffer-go/internal/codectest"
	"github.com/zerobuffer/zerobuffer-go/internal/typedmsg"
)

// TestEncodeFrame_IntoReservation: with a MaxFrameWriter the encoding goes
// straight into the reservation and only its bytes are committed; a
// message that outgrows the reflection hint, and a writer that refuses the
// bound, still produce the exact frame through an exact reservation.
func TestEncodeFrame_IntoReservation(t *testing.T) {
	type msg struct {
		Seq  uint64
		Name string
	}
	c := msgpack.New[msg]()
	ctx := context.Background()
	for _, tc := range []struct {
		name      string
		v         msg
		refuse    bool
		wantExact int
	}{
		{"first", msg{1, "a"}, false, 0},
		{"same size", msg{2, "b"}, false, 0},
		{"outgrows the hint", msg{3, string(bytes.Repeat([]byte("x"), 1000))}, false, 1},
		{"bound refused", msg{4, "d"}, true, 1},
	} {
		m := &codectest.MaxSink{RefuseMax: tc.refuse}
		if err := c.EncodeFrame(ctx, m, tc.v); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		want, _ := codec.Marshal[msg](c, tc.v)
		if !bytes.Equal(m.Frame, want) || m.MaxCalls != 1 || m.Exact != tc.wantExact || m.Reserved != 0 {
			t.Fatalf("%s: frame %x (want %x), %d ReserveMax, %d Reserve (want %d), open %d",
				tc.name, m.Frame, want, m.MaxCalls, m.Exact, tc.wantExact, m.Reserved)
		}
		if got, err := c.Decode(m.Frame); err != nil || got != tc.v {
			t.Fatalf("%s: decoded %+v, %v", tc.name, got, err)
		}
	}
}

func TestEncodeFrame_ErrorAborts(t *testing.T) {
	c := msgpack.New[any]()
	m := &codectest.MaxSink{}
	if err := c.EncodeFrame(context.Background(), m, make(chan int)); !errors.Is(err, codec.ErrEncode) {
		t.Fatalf("got %v, want ErrEncode", err)
	}
	if m.Aborts != 1 || m.Frame != nil || m.Reserved != 0 {
		t.Fatalf("%d aborts, frame %x, open %d", m.Aborts, m.Frame, m.Reserved)
	}
}

// TestEncodeFrame_SmallCopied: a generated type whose size bound is small
// is encoded into pooled memory and written with one WriteFrame; a large
// one still goes straight into a reservation.
func TestEncodeFrame_SmallCopied(t *testing.T) {
	c := msgpack.New[typedmsg.Tick]()
	ctx := context.Background()
	small := typedmsg.MakeTick(1)
	large := small
	large.Kind = string(bytes.Repeat([]byte("k"), 1000))
	for _, tc := range []struct {
		name           string
		v              typedmsg.Tick
		writes, maxRes int
	}{
		{"small", small, 1, 0},
		{"large", large, 0, 1},
	} {
		s := &codectest.CopySink{}
		if err := c.EncodeFrame(ctx, s, tc.v); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		want, _ := codec.Marshal[typedmsg.Tick](msgpack.New[typedmsg.Tick](), tc.v)
		if !bytes.Equal(s.Frame, want) || s.Writes != tc.writes || s.MaxCalls != tc.maxRes || s.Reserved != 0 {
			t.Fatalf("%s: frame %x (want %x), %d WriteFrame (want %d), %d ReserveMax (want %d), open %d",
				tc.name, s.Frame, want, s.Writes, tc.writes, s.MaxCalls, tc.maxRes, s.Reserved)
		}
	}
}
