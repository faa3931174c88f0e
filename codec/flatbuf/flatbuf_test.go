package flatbuf_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"testing"

	flatbuffers "github.com/google/flatbuffers/go"

	"github.com/zerobuffer/zerobuffer-go/codec"
	"github.com/zerobuffer/zerobuffer-go/codec/flatbuf"
	"github.com/zerobuffer/zerobuffer-go/codec/flatbuf/sensor"
)

var _ codec.ViewDecoder[sensor.Reading] = (*flatbuf.Decoder[sensor.Reading])(nil)
var _ codec.Encoder[*sensor.ReadingT] = (*flatbuf.Encoder[*sensor.ReadingT])(nil)

func sample() *sensor.ReadingT {
	return &sensor.ReadingT{Id: 7, Timestamp: 1_700_000_000_123, Values: []float64{1.5, -2, math.Pi}, Name: "thermo-1"}
}

func encode(t testing.TB, r *sensor.ReadingT) []byte {
	t.Helper()
	b, err := codec.Marshal[*sensor.ReadingT](sensor.NewEncoder(), r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// touch reads every field through the generated accessors, which must not
// panic on a verified view.
func touch(r *sensor.Reading) (sum float64) {
	sum = float64(r.Id()) + float64(r.Timestamp()) + float64(len(r.Name()))
	for j := range r.ValuesLength() {
		sum += r.Values(j)
	}
	return sum
}

func TestDecoder_RoundTrip(t *testing.T) {
	want := sample()
	buf := encode(t, want)
	v, err := sensor.NewDecoder().View(buf)
	if err != nil {
		t.Fatal(err)
	}
	got := v.UnPack()
	if got.Id != want.Id || got.Timestamp != want.Timestamp || got.Name != want.Name ||
		len(got.Values) != 3 || got.Values[2] != math.Pi {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	obj, err := sensor.NewObjectDecoder().Decode(buf)
	if err != nil || obj.Name != want.Name || obj.Values[0] != 1.5 {
		t.Fatalf("ObjectDecoder = %+v, %v", obj, err)
	}
}

func TestDecoder_ViewAliasesFrame(t *testing.T) {
	buf := encode(t, sample())
	v, err := sensor.NewDecoder().View(buf)
	if err != nil {
		t.Fatal(err)
	}
	tab := v.Table()
	if &tab.Bytes[0] != &buf[0] {
		t.Fatal("view does not alias the frame")
	}
	name := v.Name()
	// The name bytes lie inside buf: writing buf shows through the view.
	i := bytes.Index(buf, []byte("thermo-1"))
	if i < 0 || &name[0] != &buf[i] {
		t.Fatal("name is not a view of the frame")
	}
	buf[i+len(name)-1] = '9'
	if string(v.Name()) != "thermo-9" {
		t.Fatalf("name %q does not reflect the frame", v.Name())
	}
}

func TestDecoder_ViewAllocs(t *testing.T) {
	buf := encode(t, sample())
	dec := sensor.NewDecoder()
	var sink float64
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race")
	}
	allocs := testing.AllocsPerRun(1000, func() {
		v, err := dec.View(buf)
		if err != nil {
			t.Fatal(err)
		}
		sink += touch(&v)
	})
	if allocs != 0 {
		t.Fatalf("View+accessors allocate %v times, want 0", allocs)
	}
	_ = sink
}

// ringSlot is a FrameWriter with one reusable slot, like a ring.
type ringSlot struct {
	slot []byte
	n    int
}

func (r *ringSlot) Reserve(_ context.Context, n int) ([]byte, error) {
	if n > len(r.slot) {
		r.slot = make([]byte, n)
	}
	r.n = n
	return r.slot[:n], nil
}

func (r *ringSlot) Commit() error { return nil }

func TestEncoder_SteadyStateAllocs(t *testing.T) {
	enc := sensor.NewEncoder()
	w := &ringSlot{}
	r := sample()
	ctx := context.Background()
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race")
	}
	allocs := testing.AllocsPerRun(1000, func() {
		if err := enc.EncodeFrame(ctx, w, r); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 0 {
		t.Fatalf("EncodeFrame allocates %v times, want 0", allocs)
	}
	if _, err := sensor.View(w.slot[:w.n]); err != nil {
		t.Fatal(err)
	}
}

func TestEncoder_BuildPanicIsError(t *testing.T) {
	if _, err := codec.Marshal[*sensor.ReadingT](sensor.NewEncoder(), nil); !errors.Is(err, codec.ErrEncode) {
		t.Fatalf("nil reading: got %v, want ErrEncode", err)
	}
	enc, err := flatbuf.NewEncoder("flatbuffers:bad", func(b *flatbuffers.Builder, _ int) flatbuffers.UOffsetT {
		b.StartObject(1)
		b.StartObject(1) // nested: the builder panics
		return 0
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := codec.Marshal[int](enc, 1); !errors.Is(err, codec.ErrEncode) {
		t.Fatalf("builder misuse: got %v, want ErrEncode", err)
	}
}

func TestNewEncoder_Invalid(t *testing.T) {
	build := func(*flatbuffers.Builder, int) flatbuffers.UOffsetT { return 0 }
	if _, err := flatbuf.NewEncoder("bad name", build); !errors.Is(err, codec.ErrInvalidName) {
		t.Errorf("bad name: %v", err)
	}
	if _, err := flatbuf.NewEncoder[int]("ok", nil); err == nil {
		t.Error("nil build accepted")
	}
	if _, err := flatbuf.NewEncoder("ok", build, flatbuf.WithFileIdentifier("LONGER")); err == nil {
		t.Error("6-byte identifier accepted")
	}
	if _, err := flatbuf.NewDecoder[int]("ok", nil); err == nil {
		t.Error("nil view accepted")
	}
}

func TestDecoder_RecoversViewPanic(t *testing.T) {
	d, err := flatbuf.NewDecoder("flatbuffers:x", func(b []byte) (int, error) { return int(b[100]), nil })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.View(nil); !errors.Is(err, codec.ErrInvalid) {
		t.Fatalf("got %v, want ErrInvalid", err)
	}
}

func TestView_CorruptFrames(t *testing.T) {
	good := encode(t, sample())
	root := binary.LittleEndian.Uint32(good)
	vt := int64(root) - int64(int32(binary.LittleEndian.Uint32(good[root:])))
	mut := func(f func(b []byte)) []byte {
		b := append([]byte(nil), good...)
		f(b)
		return b
	}
	field := func(b []byte, i int) int64 { // absolute offset of field i
		return int64(root) + int64(binary.LittleEndian.Uint16(b[vt+4+2*int64(i):]))
	}
	tests := []struct {
		name string
		buf  []byte
	}{
		{"empty", nil},
		{"short", good[:3]},
		{"bad identifier", mut(func(b []byte) { b[4] = 'X' })},
		{"root past end", mut(func(b []byte) { binary.LittleEndian.PutUint32(b, uint32(len(b))) })},
		{"vtable negative", mut(func(b []byte) { binary.LittleEndian.PutUint32(b[root:], 0x7fffffff) })},
		{"vtable past end", mut(func(b []byte) { binary.LittleEndian.PutUint32(b[root:], 0x80000000) })},
		{"odd vtable size", mut(func(b []byte) { binary.LittleEndian.PutUint16(b[vt:], 9) })},
		{"vtable size past end", mut(func(b []byte) { binary.LittleEndian.PutUint16(b[vt:], 0xfffe) })},
		{"object size past end", mut(func(b []byte) { binary.LittleEndian.PutUint16(b[vt+2:], 0xffff) })},
		{"field outside object", mut(func(b []byte) { binary.LittleEndian.PutUint16(b[vt+4+2:], 0xfff0) })},
		{"vector offset past end", mut(func(b []byte) { binary.LittleEndian.PutUint32(b[field(b, 2):], 0x7ffffff0) })},
		{"vector length huge", mut(func(b []byte) {
			at := field(b, 2)
			binary.LittleEndian.PutUint32(b[at+int64(binary.LittleEndian.Uint32(b[at:])):], 0xffffffff)
		})},
		{"string length huge", mut(func(b []byte) {
			at := field(b, 3)
			binary.LittleEndian.PutUint32(b[at+int64(binary.LittleEndian.Uint32(b[at:])):], 0x10000)
		})},
		{"string unterminated", mut(func(b []byte) {
			at := field(b, 3)
			s := at + int64(binary.LittleEndian.Uint32(b[at:]))
			b[s+4+int64(binary.LittleEndian.Uint32(b[s:]))] = 'x'
		})},
	}
	dec := sensor.NewDecoder()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := dec.View(tt.buf); !errors.Is(err, codec.ErrInvalid) {
				t.Fatalf("got %v, want ErrInvalid", err)
			}
			if _, err := sensor.NewObjectDecoder().Decode(tt.buf); !errors.Is(err, codec.ErrInvalid) {
				t.Fatalf("ObjectDecoder: got %v, want ErrInvalid", err)
			}
		})
	}
}

// TestView_EveryTruncationAndBitFlip: no prefix and no single-byte change of
// a valid frame makes the view panic; either View fails or every accessor
// works.
func TestView_EveryTruncationAndBitFlip(t *testing.T) {
	good := encode(t, sample())
	for n := range len(good) {
		if v, err := sensor.View(good[:n]); err == nil {
			touch(&v)
		}
	}
	for i := range good {
		for _, x := range []byte{0x01, 0x80, 0xff} {
			b := append([]byte(nil), good...)
			b[i] ^= x
			if v, err := sensor.View(b); err == nil {
				touch(&v)
			}
		}
	}
}

func TestTable_NestedAndAbsent(t *testing.T) {
	// outer{ inner: inner{ a: uint8 } }, built by hand.
	b := flatbuffers.NewBuilder(0)
	b.StartObject(1)
	b.PrependUint8Slot(0, 42, 0)
	inner := b.EndObject()
	b.StartObject(2)
	b.PrependUOffsetTSlot(1, inner, 0)
	b.Finish(b.EndObject())
	buf := b.FinishedBytes()

	outer, err := flatbuf.VerifyRoot(buf, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := outer.Table(0); ok || err != nil {
		t.Fatalf("absent field 0: ok=%v err=%v", ok, err)
	}
	if err := outer.Scalar(5, 8); err != nil { // beyond the vtable: absent
		t.Fatal(err)
	}
	sub, ok, err := outer.Table(1)
	if !ok || err != nil {
		t.Fatalf("field 1: ok=%v err=%v", ok, err)
	}
	if err := sub.Scalar(0, 1); err != nil {
		t.Fatal(err)
	}
	if err := sub.Scalar(0, 64); !errors.Is(err, codec.ErrInvalid) {
		t.Fatalf("oversized scalar: %v", err)
	}
	if err := (flatbuf.Table{}).Scalar(0, 1); !errors.Is(err, codec.ErrInvalid) {
		t.Fatalf("zero Table: %v", err)
	}
	if err := outer.Scalar(-1, 1); !errors.Is(err, codec.ErrInvalid) {
		t.Fatalf("negative field: %v", err)
	}
}

func BenchmarkCodec(b *testing.B) {
	for _, n := range []int{4, 512} {
		r := sample()
		r.Values = make([]float64, n)
		b.Run(fmt.Sprintf("values=%d", n), func(b *testing.B) {
			enc, dec := sensor.NewEncoder(), sensor.NewDecoder()
			w := &ringSlot{}
			ctx := context.Background()
			b.Run("encode", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if err := enc.EncodeFrame(ctx, w, r); err != nil {
						b.Fatal(err)
					}
				}
				b.SetBytes(int64(w.n))
			})
			b.Run("view", func(b *testing.B) {
				b.ReportAllocs()
				frame := w.slot[:w.n]
				b.SetBytes(int64(len(frame)))
				var sum float64
				for b.Loop() {
					v, err := dec.View(frame)
					if err != nil {
						b.Fatal(err)
					}
					sum += float64(v.Id())
				}
				_ = sum
			})
		})
	}
}
