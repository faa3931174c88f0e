package msgpack_test

import (
	"errors"
	"testing"

	vmsgpack "github.com/vmihailenco/msgpack/v5"

	"github.com/zerobuffer/zerobuffer-go/codec"
	"github.com/zerobuffer/zerobuffer-go/codec/msgpack"
	"github.com/zerobuffer/zerobuffer-go/internal/typedmsg"
)

// TestDecode_UnknownFields: a field the type does not have is an error by
// default, for the reflection and the generated decoder alike, and is
// skipped with AllowUnknownFields.
func TestDecode_UnknownFields(t *testing.T) {
	extra := map[string]any{"Seq": 7, "Kind": "bid", "Extra": 1}
	frame, err := vmsgpack.Marshal(extra)
	if err != nil {
		t.Fatal(err)
	}
	strictGen, strictRefl := msgpack.New[typedmsg.Tick](), msgpack.New[typedmsg.TickReflect]()
	if _, err := strictGen.Decode(frame); !errors.Is(err, codec.ErrInvalid) {
		t.Errorf("generated: got %v, want ErrInvalid", err)
	}
	if _, err := strictRefl.Decode(frame); !errors.Is(err, codec.ErrInvalid) {
		t.Errorf("reflection: got %v, want ErrInvalid", err)
	}
	gen := msgpack.New[typedmsg.Tick](msgpack.AllowUnknownFields())
	refl := msgpack.New[typedmsg.TickReflect](msgpack.AllowUnknownFields())
	if v, err := gen.Decode(frame); err != nil || v.Seq != 7 || v.Kind != "bid" {
		t.Errorf("generated, allowed: %+v, %v", v, err)
	}
	if v, err := refl.Decode(frame); err != nil || v.Seq != 7 || v.Kind != "bid" {
		t.Errorf("reflection, allowed: %+v, %v", v, err)
	}
	// Known fields only, in any order and a subset: accepted by both.
	sub, _ := vmsgpack.Marshal(map[string]any{"Kind": "ask", "Seq": 9})
	if v, err := strictGen.Decode(sub); err != nil || v.Seq != 9 || v.Kind != "ask" {
		t.Errorf("generated, subset: %+v, %v", v, err)
	}
	if v, err := strictRefl.Decode(sub); err != nil || v.Seq != 9 || v.Kind != "ask" {
		t.Errorf("reflection, subset: %+v, %v", v, err)
	}
}

func TestFingerprint(t *testing.T) {
	type other struct {
		Seq  uint64
		Kind int
	}
	a, b := msgpack.New[typedmsg.Tick]().Fingerprint(), msgpack.New[typedmsg.TickReflect]().Fingerprint()
	c := msgpack.New[other]().Fingerprint()
	if !codec.SameType(a, b) || a == b || codec.SameType(a, c) {
		t.Fatalf("fingerprints %q %q %q", a, b, c)
	}
	for _, fp := range []string{a, c, msgpack.New[map[string][]int]().Fingerprint()} {
		if err := codec.ValidateFingerprint(fp); err != nil {
			t.Errorf("%q: %v", fp, err)
		}
	}
	if fp := msgpack.New[other](msgpack.WithSchema("orders.v1")).Fingerprint(); fp != "orders.v1" {
		t.Errorf("WithSchema: %q", fp)
	}
}

// TestForSameType: the decoder for a sender that declared T's own layout
// skips the unknown-field check of the generated decoder and still
// refuses malformed bytes; a codec without that check (reflection,
// AllowUnknownFields) or with a WithSchema name returns itself.
func TestForSameType(t *testing.T) {
	extra, err := vmsgpack.Marshal(map[string]any{"Seq": 7, "Kind": "bid", "Extra": 1})
	if err != nil {
		t.Fatal(err)
	}
	c := msgpack.New[typedmsg.Tick]()
	var _ codec.SameTypeDecoder[typedmsg.Tick] = c
	same := c.ForSameType()
	if same == codec.Decoder[typedmsg.Tick](c) {
		t.Fatal("ForSameType of a generated, strict codec returned the codec itself")
	}
	if same.Name() != c.Name() || codec.FingerprintOf(same) != c.Fingerprint() {
		t.Errorf("ForSameType: name %q fingerprint %q", same.Name(), codec.FingerprintOf(same))
	}
	if v, err := same.Decode(extra); err != nil || v.Seq != 7 || v.Kind != "bid" {
		t.Errorf("same type, unknown field: %+v, %v (want it skipped)", v, err)
	}
	good, err := codec.Marshal[typedmsg.Tick](c, typedmsg.MakeTick(4))
	if err != nil {
		t.Fatal(err)
	}
	if v, err := same.Decode(good); err != nil || v != typedmsg.MakeTick(4) {
		t.Errorf("same type: %+v, %v", v, err)
	}
	for _, bad := range [][]byte{good[:len(good)-3], append(good[:len(good):len(good)], 0xc0), {0xdf, 0xff, 0xff, 0xff, 0xff}} {
		if _, err := same.Decode(bad); !errors.Is(err, codec.ErrInvalid) {
			t.Errorf("same type, malformed % x: %v, want ErrInvalid", bad, err)
		}
	}
	for name, d := range map[string]codec.Decoder[typedmsg.Tick]{
		"AllowUnknownFields": msgpack.New[typedmsg.Tick](msgpack.AllowUnknownFields()),
		"WithSchema":         msgpack.New[typedmsg.Tick](msgpack.WithSchema("ticks.v1")),
	} {
		if got := d.(codec.SameTypeDecoder[typedmsg.Tick]).ForSameType(); got != d {
			t.Errorf("%s: ForSameType returned another decoder", name)
		}
	}
	refl := msgpack.New[typedmsg.TickReflect]()
	if got := refl.ForSameType(); got != codec.Decoder[typedmsg.TickReflect](refl) {
		t.Error("reflection: ForSameType returned another decoder")
	}
}
