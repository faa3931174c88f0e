package msgpack_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	vmsgpack "github.com/vmihailenco/msgpack/v5"

	"github.com/zerobuffer/zerobuffer-go/codec"
	"github.com/zerobuffer/zerobuffer-go/codec/msgpack"
	"github.com/zerobuffer/zerobuffer-go/internal/typedmsg"
)

var _ codec.Codec[Small] = (*msgpack.Codec[Small])(nil)

// Small is the ~64-byte message of the tests and benchmarks.
type Small struct {
	Seq  uint64
	TS   int64
	Name string
	X, Y float64
}

func sample() Small { return Small{Seq: 42, TS: 1_700_000_000, Name: "sensor-1", X: 1.5, Y: -2.25} }

func TestCodec_RoundTrip(t *testing.T) {
	c := msgpack.New[Small]()
	b, err := codec.Marshal[Small](c, sample())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Small encodes to %d bytes", len(b))
	got, err := c.Decode(b)
	if err != nil || got != sample() {
		t.Fatalf("Decode = %+v, %v", got, err)
	}
	if again, _ := c.Append([]byte("x"), sample()); string(again[1:]) != string(b) || again[0] != 'x' {
		t.Fatal("Append differs from EncodeFrame")
	}
}

// TestCodec_DecodeOwnsMemory: values decoded by the pooled decoder and by
// its exclusive form share no memory with the frame or with each other
// (the second decode reuses the scratch copy and value).
func TestCodec_DecodeOwnsMemory(t *testing.T) {
	type withBytes struct {
		Data []byte
		S    string
	}
	c := msgpack.New[withBytes]()
	for name, dec := range map[string]codec.Decoder[withBytes]{"pooled": c, "exclusive": c.Exclusive()} {
		frame, err := codec.Marshal[withBytes](c, withBytes{Data: []byte("abc"), S: "def"})
		if err != nil {
			t.Fatal(err)
		}
		v, err := dec.Decode(frame)
		if err != nil {
			t.Fatal(err)
		}
		w, err := dec.Decode(frame)
		if err != nil {
			t.Fatal(err)
		}
		clear(frame)
		w.Data[0] = 'X'
		if string(v.Data) != "abc" || v.S != "def" || string(w.Data) != "Xbc" {
			t.Fatalf("%s: decoded values share memory: %q %q %q", name, v.Data, v.S, w.Data)
		}
	}
}

func TestCodec_DecodeInvalid(t *testing.T) {
	c := msgpack.New[Small]()
	good, _ := codec.Marshal[Small](c, sample())
	for name, frame := range map[string][]byte{
		"empty":     {},
		"truncated": good[:len(good)-3],
		"trailing":  append(append([]byte(nil), good...), 0xc0),
		"wrongtype": {0xa3, 'a', 'b', 'c'}, // a string, not a map
		"badlen":    {0xdf, 0xff, 0xff, 0xff, 0xff},
	} {
		if _, err := c.Decode(frame); !errors.Is(err, codec.ErrInvalid) {
			t.Errorf("%s: got %v, want ErrInvalid", name, err)
		}
	}
}

func TestCodec_EncodeError(t *testing.T) {
	c := msgpack.New[chan int]()
	if _, err := codec.Marshal[chan int](c, make(chan int)); !errors.Is(err, codec.ErrEncode) {
		t.Fatalf("got %v, want ErrEncode", err)
	}
}

type sink struct{ buf []byte }

func (s *sink) Reserve(_ context.Context, n int) ([]byte, error) {
	if cap(s.buf) < n {
		s.buf = make([]byte, n)
	}
	s.buf = s.buf[:n]
	return s.buf, nil
}
func (s *sink) Commit() error { return nil }

func TestCodec_SteadyStateAllocs(t *testing.T) {
	c := msgpack.New[Small]()
	w := &sink{}
	ctx := context.Background()
	v := sample()
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race")
	}
	enc := testing.AllocsPerRun(1000, func() {
		if err := c.EncodeFrame(ctx, w, v); err != nil {
			t.Fatal(err)
		}
	})
	dec := testing.AllocsPerRun(1000, func() {
		if _, err := c.Decode(w.buf); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("allocs/op: encode %v, decode %v", enc, dec)
	if enc > 0 || dec > 1 { // decode allocates Name only
		t.Fatalf("allocs/op: encode %v (want 0), decode %v (want <= 1)", enc, dec)
	}
}

func TestCodec_Options(t *testing.T) {
	arrays := msgpack.New[Small](
		msgpack.WithEncoderSetup(func(e *vmsgpack.Encoder) { e.UseArrayEncodedStructs(true) }),
	)
	b, _ := codec.Marshal[Small](arrays, sample())
	strict := msgpack.New[struct{ Seq uint64 }](
		msgpack.WithDecoderSetup(func(d *vmsgpack.Decoder) { d.DisallowUnknownFields(true) }),
	)
	mb, _ := codec.Marshal[Small](msgpack.New[Small](), sample())
	if _, err := strict.Decode(mb); !errors.Is(err, codec.ErrInvalid) {
		t.Errorf("unknown fields accepted: %v", err)
	}
	if got, err := arrays.Decode(b); err != nil || got != sample() {
		t.Fatalf("array-encoded round trip: %+v, %v", got, err)
	}
}

// fastMsg imitates a tinylib/msgp generated type: a fixed 16-byte bin.
type fastMsg struct {
	A, B uint64
}

func (m *fastMsg) MarshalMsg(b []byte) ([]byte, error) {
	b = append(b, 0xc4, 16)
	b = binary.LittleEndian.AppendUint64(b, m.A)
	return binary.LittleEndian.AppendUint64(b, m.B), nil
}

func (m *fastMsg) UnmarshalMsg(b []byte) ([]byte, error) {
	if len(b) < 18 || b[0] != 0xc4 || b[1] != 16 {
		return b, fmt.Errorf("not a fastMsg")
	}
	m.A = binary.LittleEndian.Uint64(b[2:])
	m.B = binary.LittleEndian.Uint64(b[10:])
	return b[18:], nil
}

func TestCodec_FastPath(t *testing.T) {
	c := msgpack.New[fastMsg]()
	b, err := codec.Marshal[fastMsg](c, fastMsg{A: 1, B: 2})
	if err != nil || len(b) != 18 || b[0] != 0xc4 {
		t.Fatalf("MarshalMsg not used: % x, %v", b, err)
	}
	got, err := c.Decode(b)
	if err != nil || got.A != 1 || got.B != 2 {
		t.Fatalf("UnmarshalMsg round trip: %+v, %v", got, err)
	}
	if _, err := c.Decode(append(b, 0)); !errors.Is(err, codec.ErrInvalid) {
		t.Fatalf("trailing byte accepted: %v", err)
	}
	if _, err := c.Decode(b[:5]); !errors.Is(err, codec.ErrInvalid) {
		t.Fatalf("short frame accepted: %v", err)
	}
	// The fast-path bytes are valid MessagePack: reflection reads them too.
	var raw []byte
	if err := vmsgpack.Unmarshal(b, &raw); err != nil || len(raw) != 16 {
		t.Fatalf("fast path wrote invalid msgpack: %v", err)
	}
}

func BenchmarkCodec(b *testing.B) {
	type big struct {
		Seq  uint64
		Data []byte
	}
	b.Run("small", func(b *testing.B) { benchCodec(b, msgpack.New[Small](), sample()) })
	b.Run("4k", func(b *testing.B) { benchCodec(b, msgpack.New[big](), big{Seq: 1, Data: make([]byte, 4096)}) })
}

func benchCodec[T any](b *testing.B, c *msgpack.Codec[T], v T) {
	w := &sink{}
	ctx := context.Background()
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := c.EncodeFrame(ctx, w, v); err != nil {
				b.Fatal(err)
			}
		}
		b.SetBytes(int64(len(w.buf)))
	})
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(w.buf)))
		for b.Loop() {
			if _, err := c.Decode(w.buf); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// DecodeInto overwrites every field of its destination: a field missing
// from the message is zero afterwards, and an error leaves the zero value.
func TestCodec_DecodeInto(t *testing.T) {
	t.Run("generated", func(t *testing.T) { testDecodeInto(t, msgpack.New[typedmsg.Tick]()) })
	t.Run("reflection", func(t *testing.T) { testDecodeInto(t, msgpack.New[typedmsg.TickReflect]()) })
}

func testDecodeInto[T ~struct {
	Seq  uint64
	TS   int64
	Kind string
	X, Y float64
}](t *testing.T, c *msgpack.Codec[T]) {
	want := T(typedmsg.MakeTick(3))
	full, err := codec.Marshal[T](c, want)
	if err != nil {
		t.Fatal(err)
	}
	var dst T
	if err := c.DecodeInto(full, &dst); err != nil || dst != want {
		t.Fatalf("DecodeInto = %+v, %v; want %+v", dst, err, want)
	}
	part, err := vmsgpack.Marshal(map[string]any{"Seq": 7})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.DecodeInto(part, &dst); err != nil || dst != (T{Seq: 7}) {
		t.Fatalf("DecodeInto of {Seq: 7} over a full value = %+v, %v; want only Seq set", dst, err)
	}
	dst = want
	if err := c.DecodeInto([]byte{0xc1}, &dst); !errors.Is(err, codec.ErrInvalid) || dst != (T{}) {
		t.Fatalf("DecodeInto of a bad frame = %+v, %v; want the zero value and codec.ErrInvalid", dst, err)
	}
	dst = want
	if err := c.ForSameType().(codec.IntoDecoder[T]).DecodeInto(part, &dst); err != nil || dst != (T{Seq: 7}) {
		t.Fatalf("same-type DecodeInto = %+v, %v; want only Seq set", dst, err)
	}
}
