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

// FuzzBulkValues: on a verified view the bulk accessors agree with the
// generated per-element ones and stay inside the buffer; after the
// buffer is changed behind the view (a hostile writer rewriting a frame it
// published, here at offset at with value x), they still never panic and
// never reach outside it.
func FuzzBulkValues(f *testing.F) {
	f.Add(encode(f, sample()), uint16(40), uint32(1<<30))
	f.Add(encode(f, &sensor.ReadingT{Values: []float64{1, 2, 3}}), uint16(0), uint32(0))
	f.Fuzz(func(t *testing.T, buf []byte, at uint16, x uint32) {
		v, err := sensor.View(buf)
		if err != nil {
			return
		}
		got := v.AppendValues(nil)
		if len(got) != v.ValuesLength() {
			t.Fatalf("AppendValues gave %d values, ValuesLength %d", len(got), v.ValuesLength())
		}
		for j, g := range got {
			if w := v.Values(j); g != w && !(g != g && w != w) { // NaN == NaN here
				t.Fatalf("value %d: bulk %v, generated %v", j, g, w)
			}
		}
		if b := v.ValuesBytes(); len(b) != 8*len(got) || (len(b) > 0 && !within(b, buf)) {
			t.Fatalf("ValuesBytes: %d bytes, not inside the buffer", len(b))
		}
		if i := int(at); i+4 <= len(buf) {
			buf[i], buf[i+1], buf[i+2], buf[i+3] = byte(x), byte(x>>8), byte(x>>16), byte(x>>24)
		}
		if b := v.ValuesBytes(); len(b) > 0 && !within(b, buf) {
			t.Fatal("ValuesBytes outside the buffer after a rewrite")
		}
		_ = v.AppendValues(nil)
	})
}

// within reports whether sub lies inside buf.
func within(sub, buf []byte) bool {
	i := indexOf(sub, buf)
	return i >= 0 && i+len(sub) <= len(buf)
}

// indexOf returns the offset of sub's first byte in buf, or -1.
func indexOf(sub, buf []byte) int {
	for i := range buf {
		if &buf[i] == &sub[0] {
			return i
		}
	}
	return -1
}
