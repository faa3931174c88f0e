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
// error. (TestCodec_DecodeOwnsMemory covers owned memory.)
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
	genSameX := genSame.(codec.ExclusiveDecoder[typedmsg.Tick]).Exclusive()
	reflSameX := reflSame.(codec.ExclusiveDecoder[typedmsg.TickReflect]).Exclusive()
	other := typedmsg.MakeTick(99)
	same(t, "gen", gen, gen.Exclusive(), frames, other)
	same(t, "gen-same", genSame, genSameX, frames, other)
	same(t, "refl", refl, refl.Exclusive(), frames, typedmsg.TickReflect(other))
	same(t, "refl-same", reflSame, reflSameX, frames, typedmsg.TickReflect(other))
	if _, err := gen.Exclusive().Decode(unknown); err == nil {
		t.Error("the strict exclusive decoder accepted an unknown field")
	}

}

// same checks that excl decodes every frame as shared does: the same value
// and the same outcome, errors wrapping codec.ErrInvalid, and all of *dst
// overwritten (it starts as a value unlike any frame's).
func same[T comparable](t *testing.T, form string, shared codec.Decoder[T], excl codec.IntoDecoder[T], frames map[string][]byte, unlike T) {
	t.Helper()
	for name, frame := range frames {
		want, werr := shared.Decode(frame)
		got := unlike
		gerr := excl.DecodeInto(frame, &got)
		if (werr == nil) != (gerr == nil) || got != want {
			t.Errorf("%s/%s: exclusive = %+v, %v; shared = %+v, %v", form, name, got, gerr, want, werr)
		}
		if gerr != nil && !errors.Is(gerr, codec.ErrInvalid) {
			t.Errorf("%s/%s: error %v does not wrap codec.ErrInvalid", form, name, gerr)
		}
		if v, err := excl.Decode(frame); v != got || (err == nil) != (gerr == nil) {
			t.Errorf("%s/%s: Decode = %+v, %v; DecodeInto gave %+v, %v", form, name, v, err, got, gerr)
		}
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
