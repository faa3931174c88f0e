package sensor

import (
	"bytes"
	"fmt"
	"math"
	"testing"

	flatbuffers "github.com/google/flatbuffers/go"
)

// TestPack_SameBytes: pack (the values vector in one copy) produces the
// same buffer as the generated Pack, for vectors of every length around
// the alignment boundaries, nil and empty vectors, special float values,
// and a builder that already holds data of every length mod 8 (so that
// every alignment padding is exercised).
func TestPack_SameBytes(t *testing.T) {
	special := []float64{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), math.SmallestNonzeroFloat64}
	for _, n := range []int{-1, 0, 1, 2, 3, 5, 8, 9, 100, 4099} {
		r := &ReadingT{Id: 7, Timestamp: -3, Name: "pack"}
		if n >= 0 {
			r.Values = make([]float64, n)
			for i := range r.Values {
				r.Values[i] = float64(i)*1.5 - 2
			}
			copy(r.Values, special)
		}
		for lead := range 8 {
			for _, name := range []string{"", "a", "abcdefg"} {
				r.Name = name
				want := flatbuffers.NewBuilder(0)
				got := flatbuffers.NewBuilder(0)
				if lead > 0 { // earlier data in the buffer moves the alignment
					want.CreateString(string(make([]byte, lead)))
					got.CreateString(string(make([]byte, lead)))
				}
				want.Finish(r.Pack(want))
				got.Finish(pack(got, r))
				if !bytes.Equal(got.FinishedBytes(), want.FinishedBytes()) {
					t.Fatalf("values %d, lead %d, name %q: pack gives other bytes than the generated Pack", n, lead, name)
				}
			}
		}
	}
}

// BenchmarkPack: pack against the generated Pack (one PrependFloat64 per
// element), same run, for values vectors of 64 B to 1 MiB.
func BenchmarkPack(b *testing.B) {
	for _, size := range []int{64, 1 << 10, 64 << 10, 1 << 20} {
		r := &ReadingT{Id: 1, Name: "bench", Values: make([]float64, size/8)}
		for name, f := range map[string]func(*flatbuffers.Builder, *ReadingT) flatbuffers.UOffsetT{
			"bulk":      pack,
			"generated": func(fb *flatbuffers.Builder, t *ReadingT) flatbuffers.UOffsetT { return t.Pack(fb) },
		} {
			b.Run(fmt.Sprintf("%s/%d", name, size), func(b *testing.B) {
				fb := flatbuffers.NewBuilder(2*size + 256)
				b.SetBytes(int64(size))
				for b.Loop() {
					fb.Reset()
					fb.Finish(f(fb, r))
				}
			})
		}
	}
}
