package msgpack_test

import (
	"errors"
	"testing"

	"github.com/zerobuffer/zerobuffer-go/codec"
	"github.com/zerobuffer/zerobuffer-go/codec/msgpack"
	"github.com/zerobuffer/zerobuffer-go/internal/typedmsg"
)

var (
	_ codec.ExclusiveDecoder[Small] = (*msgpack.Codec[Small])(nil)
	_ codec.Recovering              = msgpack.New[Small]().Exclusive().(codec.Recovering)
)

// TestExclusive: the exclusive decoder of each form (strict, same-type;
// generated, reflection) decodes what the shared one decodes and refuses
// what it refuses, with the same error class and a zero value after an
// error, and a value it returns owns its memory.
func TestExclusive(t *testing.T) {
	gen := msgpack.New[typedmsg.Tick]()
	refl := msgpack.New[typedmsg.TickReflect]()
	genSame := gen.ForSameType()
	reflSame := refl.ForSameType()
	tick := typedmsg.MakeTick(7)
	good, err := codec.Marshal[typedmsg.Tick](gen, tick)
	if err != nil {
		t.Fatal(err)
	}
	// A map with one key Tick does not have: refused by the strict forms,
	// accepted by the generated same-type form (which trusts its sender
	// to have Tick's fields).
	unknown := []byte{0x81, 0xa5, 'E', 'x', 't', 'r', 'a', 0x01}
	frames := map[string][]byte{
		"good":      good,
		"unknown":   unknown,
		"truncated": good[:len(good)-3],
		"trailing":  append(append([]byte(nil), good...), 0xc0),
		"empty":     {},
		"bomb":      {0xdd, 0xff, 0xff, 0xff, 0xff}, // array of 2^32-1 elements
	}
	type form struct {
		name   string
		shared codec.Decoder[typedmsg.Tick]
		excl   codec.IntoDecoder[typedmsg.Tick]
	}
	forms := []form{
		{"gen", gen, gen.Exclusive()},
		{"gen-same", genSame, genSame.(codec.ExclusiveDecoder[typedmsg.Tick]).Exclusive()},
	}
	reflForms := []struct {
		name   string
		shared codec.Decoder[typedmsg.TickReflect]
		excl   codec.IntoDecoder[typedmsg.TickReflect]
	}{
		{"refl", refl, refl.Exclusive()},
		{"refl-same", reflSame, reflSame.(codec.ExclusiveDecoder[typedmsg.TickReflect]).Exclusive()},
	}
	for _, f := range forms {
		for name, frame := range frames {
			want, werr := f.shared.Decode(frame)
			got := typedmsg.MakeTick(99) // DecodeInto must overwrite all of it
			gerr := f.excl.DecodeInto(frame, &got)
			if (werr == nil) != (gerr == nil) || got != want {
				t.Errorf("%s/%s: exclusive = %+v, %v; shared = %+v, %v", f.name, name, got, gerr, want, werr)
			}
			if gerr != nil && !errors.Is(gerr, codec.ErrInvalid) {
				t.Errorf("%s/%s: error %v does not wrap codec.ErrInvalid", f.name, name, gerr)
			}
			if v, err := f.excl.Decode(frame); v != got || (err == nil) != (gerr == nil) {
				t.Errorf("%s/%s: Decode = %+v, %v; DecodeInto gave %+v, %v", f.name, name, v, err, got, gerr)
			}
		}
	}
	for _, f := range reflForms {
		for name, frame := range frames {
			want, werr := f.shared.Decode(frame)
			got := typedmsg.TickReflect(typedmsg.MakeTick(99))
			gerr := f.excl.DecodeInto(frame, &got)
			if (werr == nil) != (gerr == nil) || got != want {
				t.Errorf("%s/%s: exclusive = %+v, %v; shared = %+v, %v", f.name, name, got, gerr, want, werr)
			}
			if gerr != nil && !errors.Is(gerr, codec.ErrInvalid) {
				t.Errorf("%s/%s: error %v does not wrap codec.ErrInvalid", f.name, name, gerr)
			}
		}
	}
	if _, err := gen.Exclusive().Decode(unknown); err == nil {
		t.Error("the strict exclusive decoder accepted an unknown field")
	}

	// Owned memory: a value decoded before the next call (which reuses
	// the scratch copy) and before the frame is overwritten keeps its
	// string.
	type withBytes struct {
		Data []byte
		S    string
	}
	c := msgpack.New[withBytes]()
	frame, err := codec.Marshal[withBytes](c, withBytes{Data: []byte("abc"), S: "def"})
	if err != nil {
		t.Fatal(err)
	}
	x := c.Exclusive()
	v, err := x.Decode(frame)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := x.Decode(frame); err != nil {
		t.Fatal(err)
	}
	clear(frame)
	if string(v.Data) != "abc" || v.S != "def" {
		t.Fatalf("an exclusive decode shares memory with the frame or the next decode: %q %q", v.Data, v.S)
	}
}

// TestExclusive_Allocs: without the pool, decoding Tick (one string
// field) still allocates only that string.
func TestExclusive_Allocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race")
	}
	gen := msgpack.New[typedmsg.Tick]()
	frame, err := codec.Marshal[typedmsg.Tick](gen, typedmsg.MakeTick(1))
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range []codec.IntoDecoder[typedmsg.Tick]{gen.Exclusive(), gen.ForSameType().(codec.ExclusiveDecoder[typedmsg.Tick]).Exclusive()} {
		var v typedmsg.Tick
		n := testing.AllocsPerRun(1000, func() {
			if err := x.DecodeInto(frame, &v); err != nil {
				t.Fatal(err)
			}
		})
		if n > 1 {
			t.Errorf("exclusive DecodeInto: %v allocs, want <= 1", n)
		}
	}
}
