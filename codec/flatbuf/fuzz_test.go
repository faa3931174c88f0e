package flatbuf_test

import (
	"testing"

	"github.com/zerobuffer/zerobuffer-go/codec/flatbuf"
	"github.com/zerobuffer/zerobuffer-go/codec/flatbuf/sensor"
)

// FuzzView: decoding untrusted bytes never panics, and a view that passes
// verification can be read completely (every accessor stays inside buf).
// Seed corpus: testdata/fuzz/FuzzView.
func FuzzView(f *testing.F) {
	f.Add(encode(f, sample()))
	f.Add(encode(f, &sensor.ReadingT{}))
	f.Fuzz(func(t *testing.T, buf []byte) {
		v, err := sensor.NewDecoder().View(buf)
		if err != nil {
			return
		}
		touch(&v)
		if n := len(v.Name()); n > len(buf) {
			t.Fatalf("name of %d bytes in a buffer of %d", n, len(buf))
		}
		if n := v.ValuesLength(); n*8 > len(buf) {
			t.Fatalf("%d values in a buffer of %d bytes", n, len(buf))
		}
		if _, err := sensor.NewObjectDecoder().Decode(buf); err != nil {
			t.Fatalf("ObjectDecoder rejects what View accepted: %v", err)
		}
	})
}

// FuzzVerifyRoot drives the generic verifier with arbitrary field layouts:
// it must never panic, whatever the schema the caller assumes.
func FuzzVerifyRoot(f *testing.F) {
	f.Add(encode(f, sample()), uint8(3), uint8(8))
	f.Fuzz(func(t *testing.T, buf []byte, field, size uint8) {
		tab, err := flatbuf.VerifyRoot(buf, "")
		if err != nil {
			return
		}
		f := int(field % 16)
		_ = tab.Scalar(f, int(size))
		_ = tab.String(f)
		_, _ = tab.Vector(f, int(size))
		if sub, ok, err := tab.Table(f); ok && err == nil {
			_ = sub.Scalar(0, int(size))
			_ = sub.String(1)
		}
	})
}
