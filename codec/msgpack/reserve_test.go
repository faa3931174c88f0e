package msgpack_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/zerobuffer/zerobuffer-go/codec"
	"github.com/zerobuffer/zerobuffer-go/codec/msgpack"
)

// maxSink is a codec.MaxFrameWriter over one in-memory frame that records
// how the encoder used it.
type maxSink struct {
	ring      [4096]byte
	frame     []byte // the published frame
	reserved  int    // size of the open reservation, 0 if none
	maxCalls  int    // ReserveMax calls
	exact     int    // Reserve calls
	aborts    int
	refuseMax bool // ReserveMax fails, as for a bound beyond the ring
}

func (m *maxSink) ReserveMax(_ context.Context, max int) ([]byte, error) {
	m.maxCalls++
	if m.refuseMax {
		return nil, errors.New("frame too large")
	}
	m.reserved = max
	return m.ring[:max:max], nil
}

func (m *maxSink) Reserve(_ context.Context, n int) ([]byte, error) {
	m.exact++
	m.reserved = n
	return m.ring[:n:n], nil
}

func (m *maxSink) CommitN(n int) error {
	if n > m.reserved {
		return errors.New("commit beyond reservation")
	}
	m.frame, m.reserved = bytes.Clone(m.ring[:n]), 0
	return nil
}

func (m *maxSink) Commit() error { return m.CommitN(m.reserved) }

func (m *maxSink) Abort() error { m.reserved = 0; m.aborts++; return nil }

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
		m := &maxSink{refuseMax: tc.refuse}
		if err := c.EncodeFrame(ctx, m, tc.v); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		want, _ := codec.Marshal[msg](c, tc.v)
		if !bytes.Equal(m.frame, want) || m.maxCalls != 1 || m.exact != tc.wantExact || m.reserved != 0 {
			t.Fatalf("%s: frame %x (want %x), %d ReserveMax, %d Reserve (want %d), open %d",
				tc.name, m.frame, want, m.maxCalls, m.exact, tc.wantExact, m.reserved)
		}
		if got, err := c.Decode(m.frame); err != nil || got != tc.v {
			t.Fatalf("%s: decoded %+v, %v", tc.name, got, err)
		}
	}
}

func TestEncodeFrame_ErrorAborts(t *testing.T) {
	c := msgpack.New[any]()
	m := &maxSink{}
	if err := c.EncodeFrame(context.Background(), m, make(chan int)); !errors.Is(err, codec.ErrEncode) {
		t.Fatalf("got %v, want ErrEncode", err)
	}
	if m.aborts != 1 || m.frame != nil || m.reserved != 0 {
		t.Fatalf("%d aborts, frame %x, open %d", m.aborts, m.frame, m.reserved)
	}
}
