package msgpack_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/zerobuffer/zerobuffer-go/codec"
	"github.com/zerobuffer/zerobuffer-go/codec/msgpack"
	"github.com/zerobuffer/zerobuffer-go/internal/typedmsg"
)

type nested struct {
	Small  Small
	Tags   map[string]string
	Values []float64
	Any    any
	Ptr    *Small
}

// FuzzDecode: decoding untrusted bytes never panics, and whatever decodes
// re-encodes and decodes again. Seed corpus: testdata/fuzz/FuzzDecode.
func FuzzDecode(f *testing.F) {
	c := msgpack.New[nested]()
	seed, err := codec.Marshal[nested](c, nested{
		Small: sample(), Tags: map[string]string{"a": "b"}, Values: []float64{1, 2}, Any: "x", Ptr: &Small{Seq: 1},
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte{0x80})
	f.Fuzz(func(t *testing.T, frame []byte) {
		v, err := c.Decode(frame)
		if err != nil {
			return
		}
		b, err := codec.Marshal[nested](c, v)
		if err != nil {
			return // e.g. a decoded Any the encoder refuses; not a decode bug
		}
		if _, err := c.Decode(b); err != nil {
			t.Fatalf("re-encoded value does not decode: %v", err)
		}
	})
}

// FuzzDecodeSameType: the generated decoder and its same-type form
// (without the unknown-field check) never panic on hostile bytes, and
// whatever the strict decoder accepts the same-type form decodes to the
// same value. The exclusive form of each (codec.ExclusiveDecoder), reused
// across inputs, gives what the pooled one gives.
func FuzzDecodeSameType(f *testing.F) {
	c := msgpack.New[typedmsg.Tick]()
	same := c.ForSameType()
	strictX := c.Exclusive()
	sameX := same.(codec.ExclusiveDecoder[typedmsg.Tick]).Exclusive()
	seed, err := codec.Marshal[typedmsg.Tick](c, typedmsg.MakeTick(3))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte{0x81, 0xa5, 'E', 'x', 't', 'r', 'a', 0x01})
	f.Fuzz(func(t *testing.T, frame []byte) {
		v, err := c.Decode(frame)
		w, serr := same.Decode(frame)
		if err == nil && (serr != nil || !bytes.Equal(encode(t, c, v), encode(t, c, w))) {
			t.Fatalf("strict decoded %+v, same-type %+v, %v", v, w, serr)
		}
		if serr != nil && !errors.Is(serr, codec.ErrInvalid) {
			t.Fatalf("same-type error %v does not wrap codec.ErrInvalid", serr)
		}
		var x, y typedmsg.Tick
		xerr, yerr := strictX.DecodeInto(frame, &x), sameX.DecodeInto(frame, &y)
		if (xerr == nil) != (err == nil) || (yerr == nil) != (serr == nil) ||
			!bytes.Equal(encode(t, c, x), encode(t, c, v)) || !bytes.Equal(encode(t, c, y), encode(t, c, w)) {
			t.Fatalf("exclusive forms: %+v, %v and %+v, %v; pooled: %+v, %v and %+v, %v", x, xerr, y, yerr, v, err, w, serr)
		}
	})
}

// encode is codec.Marshal that fails t on error; comparing encodings
// compares values bit for bit (a NaN equals itself).
func encode(t *testing.T, c *msgpack.Codec[typedmsg.Tick], v typedmsg.Tick) []byte {
	t.Helper()
	b, err := codec.Marshal[typedmsg.Tick](c, v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
