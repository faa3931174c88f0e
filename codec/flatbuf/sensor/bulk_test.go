package sensor_test

import (
	"fmt"
	"testing"

	"github.com/zerobuffer/zerobuffer-go/codec"
	"github.com/zerobuffer/zerobuffer-go/codec/flatbuf/sensor"
)

func valuesReading(n int) *sensor.ReadingT {
	r := &sensor.ReadingT{Id: 9, Timestamp: 77, Name: "bulk", Values: make([]float64, n)}
	for i := range r.Values {
		r.Values[i] = float64(i) * 1.25
	}
	return r
}

func TestAppendValues(t *testing.T) {
	for _, n := range []int{0, 1, 1000} {
		want := valuesReading(n)
		frame, err := codec.Marshal[*sensor.ReadingT](sensor.NewEncoder(), want)
		if err != nil {
			t.Fatal(err)
		}
		v, err := sensor.View(frame)
		if err != nil {
			t.Fatal(err)
		}
		got := v.AppendValues([]float64{-1})
		if len(got) != n+1 || got[0] != -1 || len(v.ValuesBytes()) != 8*n {
			t.Fatalf("n=%d: %d values, %d bytes", n, len(got), len(v.ValuesBytes()))
		}
		for i := range n {
			if got[i+1] != want.Values[i] {
				t.Fatalf("n=%d: value %d = %v, want %v", n, i, got[i+1], want.Values[i])
			}
		}
		obj, err := sensor.NewObjectDecoder().Decode(frame)
		if err != nil || obj.Id != 9 || obj.Timestamp != 77 || obj.Name != "bulk" || len(obj.Values) != n {
			t.Fatalf("n=%d: ObjectDecoder = %+v, %v", n, obj, err)
		}
	}
}

// BenchmarkValues: the values vector read with AppendValues against the
// generated Values(j) loop (what UnPack does), same run.
func BenchmarkValues(b *testing.B) {
	for _, size := range []int{64, 1 << 10, 64 << 10, 1 << 20} {
		n := max(size/8, 1)
		frame, err := codec.Marshal[*sensor.ReadingT](sensor.NewEncoder(), valuesReading(n))
		if err != nil {
			b.Fatal(err)
		}
		v, err := sensor.View(frame)
		if err != nil {
			b.Fatal(err)
		}
		dst := make([]float64, 0, n)
		b.Run(fmt.Sprintf("bulk/%d", size), func(b *testing.B) {
			b.SetBytes(int64(8 * n))
			for b.Loop() {
				dst = v.AppendValues(dst[:0])
			}
		})
		b.Run(fmt.Sprintf("generated/%d", size), func(b *testing.B) {
			b.SetBytes(int64(8 * n))
			for b.Loop() {
				dst = dst[:0]
				for j := range v.ValuesLength() {
					dst = append(dst, v.Values(j))
				}
			}
		})
	}
}
