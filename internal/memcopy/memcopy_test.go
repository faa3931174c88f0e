package memcopy

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestCopy: every byte arrives, for sizes around the piece size and the
// runtime's 1 MiB threshold, with dst shorter, equal and longer than src.
func TestCopy(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, piece - 1, piece, piece + 1, 3*piece + 7, 1<<20 - 1, 1 << 20, 1<<20 + 1, 5<<20 + 3} {
		src := make([]byte, n)
		for i := range src {
			src[i] = byte(rng.Uint32())
		}
		for _, d := range []int{-1, 0, 1} {
			m := max(n+d, 0)
			dst := make([]byte, m)
			want := make([]byte, m)
			wn := copy(want, src)
			if got := Copy(dst, src); got != wn || !bytes.Equal(dst, want) {
				t.Fatalf("n=%d dst=%d: copied %d (want %d), equal %v", n, m, got, wn, bytes.Equal(dst, want))
			}
		}
	}
}

// TestCopy_MoveToFront: an overlapping move toward the front, as the
// FlatBuffers encoder makes, gives what copy (a memmove) gives.
func TestCopy_MoveToFront(t *testing.T) {
	for _, shift := range []int{1, 17, piece - 1, piece, piece + 3} {
		n := 3*piece + 11
		buf := make([]byte, n)
		for i := range buf {
			buf[i] = byte(i * 7)
		}
		want := bytes.Clone(buf)
		copy(want, want[shift:])
		if got := Copy(buf, buf[shift:]); got != n-shift || !bytes.Equal(buf, want) {
			t.Fatalf("shift %d: copied %d, equal %v", shift, got, bytes.Equal(buf, want))
		}
	}
}

// BenchmarkCopy: Copy against the runtime's copy for 1 MiB and more,
// where the runtime stores past the cache. Copying alone, the runtime's
// non-temporal stores can be as fast or faster; the gain is on the reader
// side of the ring, which bench/ measures.
func BenchmarkCopy(b *testing.B) {
	for _, n := range []int{1 << 20, 4 << 20} {
		src, dst := make([]byte, n), make([]byte, n)
		b.Run(fmt.Sprintf("pieces/%d", n), func(b *testing.B) {
			b.SetBytes(int64(n))
			for b.Loop() {
				Copy(dst, src)
			}
		})
		b.Run(fmt.Sprintf("runtime/%d", n), func(b *testing.B) {
			b.SetBytes(int64(n))
			for b.Loop() {
				copy(dst, src)
			}
		})
	}
}
