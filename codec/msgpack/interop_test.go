package msgpack_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/zerobuffer/zerobuffer-go/codec"
	"github.com/zerobuffer/zerobuffer-go/codec/msgpack"
	"github.com/zerobuffer/zerobuffer-go/internal/typedmsg"
)

// TestGeneratedAndReflection: msgp's generated code writes integers in
// their shortest form and vmihailenco/msgpack at fixed width, so the two
// encodings of one value differ; each decoder reads the other's.
func TestGeneratedAndReflection(t *testing.T) {
	gen, refl := msgpack.New[typedmsg.Tick](), msgpack.New[typedmsg.TickReflect]()
	for i := range 1000 {
		v := typedmsg.MakeTick(i)
		gb, err := codec.Marshal[typedmsg.Tick](gen, v)
		if err != nil {
			t.Fatal(err)
		}
		rb, err := codec.Marshal[typedmsg.TickReflect](refl, typedmsg.TickReflect(v))
		if err != nil {
			t.Fatal(err)
		}
		if i == 1 && bytes.Equal(gb, rb) {
			t.Fatalf("encodings of %+v are equal (%x): the test would prove nothing", v, gb)
		}
		if got, err := refl.Decode(gb); err != nil || typedmsg.Tick(got) != v {
			t.Fatalf("reflection decoding of generated %x: %+v, %v", gb, got, err)
		}
		if got, err := gen.Decode(rb); err != nil || got != v {
			t.Fatalf("generated decoding of reflection %x: %+v, %v", rb, got, err)
		}
	}
}

// FuzzDecodeGenerated: the generated decoder of a flat struct, which runs
// without the check walk, never panics and never accepts what the
// reflection decoder refuses as malformed beyond type differences: each
// frame it accepts re-encodes to a frame both decoders read back equal.
func FuzzDecodeGenerated(f *testing.F) {
	gen, refl := msgpack.New[typedmsg.Tick](), msgpack.New[typedmsg.TickReflect]()
	seed, _ := codec.Marshal[typedmsg.Tick](gen, typedmsg.MakeTick(5))
	f.Add(seed)
	f.Add([]byte{0x81, 0xa4, 'K', 'i', 'n', 'd', 0xdb, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, frame []byte) {
		v, err := gen.Decode(frame)
		if err != nil {
			if !errors.Is(err, codec.ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		again, err := codec.Marshal[typedmsg.Tick](gen, v)
		if err != nil {
			t.Fatal(err)
		}
		if w, err := refl.Decode(again); err != nil || typedmsg.Tick(w) != v && v == v {
			t.Fatalf("re-encoded %x: reflection gives %+v, %v; want %+v", again, w, err, v)
		}
	})
}
