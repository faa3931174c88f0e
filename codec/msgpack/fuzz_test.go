package msgpack_test

import (
	"testing"

	"github.com/zerobuffer/zerobuffer-go/codec"
	"github.com/zerobuffer/zerobuffer-go/codec/msgpack"
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
