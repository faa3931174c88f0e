package core

import (
	"errors"
	"strings"
	"testing"

	"github.com/zerobuffer/zerobuffer-go/internal/layout"
)

// FuzzPlace checks the writer's placement decision (RELIABILITY.md's
// FuzzContinuousFree: the Go writer decides from its own position and the
// frame size, and takes the free space it needs from payload_free_bytes)
// for any ring size, position and frame size:
//   - an accepted frame lies inside the ring;
//   - a frame placed in line starts at the position and leaves a tail of
//     0 or at least a header (or could not have wrapped);
//   - a wrapped frame starts at 0, does not reach into the waste it leaves
//     at the end, and needs exactly waste + header + payload;
//   - frames up to alwaysFits(P) bytes always fit, as the docs promise;
//   - no frame leaves a tail of 1..15 bytes before the ring's end;
//   - a refusal is ErrFrameTooLarge.
func FuzzPlace(f *testing.F) {
	f.Add(uint64(1024), uint64(0), uint64(64))
	f.Add(uint64(1024), uint64(1000), uint64(8))
	f.Add(uint64(1024), uint64(1000), uint64(600))
	f.Add(uint64(4096), uint64(4086), uint64(1))
	f.Add(uint64(17), uint64(0), uint64(1))
	f.Fuzz(func(t *testing.T, p, pos, n uint64) {
		if p < layout.HeaderSize+1 || pos > p || n == 0 {
			return // Validate refuses such geometry; reserveLocked refuses n == 0
		}
		w := &Writer{v: &view{p: p}, pos: pos}
		r, err := w.place(n)
		const hdr = layout.HeaderSize
		if err != nil {
			if !errors.Is(err, ErrFrameTooLarge) {
				t.Fatalf("place(%d) at %d of %d: %v", n, pos, p, err)
			}
			if n <= alwaysFits(p) {
				t.Fatalf("place(%d) at %d of %d refused a frame the docs promise fits: %v", n, pos, p, err)
			}
			return
		}
		if r.size != n || !r.open {
			t.Fatalf("place(%d) = %+v", n, r)
		}
		end := r.start + hdr + n
		if end > p || end < r.start {
			t.Fatalf("place(%d) at %d of %d: frame [%d,%d) outside the ring", n, pos, p, r.start, end)
		}
		switch {
		case r.start == pos:
			if r.need != hdr+n || r.markers != 0 {
				t.Fatalf("in-line frame %+v", r)
			}
			if tail := p - end; tail != 0 && tail < hdr {
				t.Fatalf("place(%d) at %d of %d left a %d-byte tail", n, pos, p, tail)
			}
		case r.start == 0:
			if end > pos {
				t.Fatalf("wrapped frame [0,%d) overlaps the waste from %d", end, pos)
			}
			if r.need != p-pos+hdr+n {
				t.Fatalf("wrapped frame needs %d, want %d", r.need, p-pos+hdr+n)
			}
			if want := uint64(min(p-pos, hdr) / hdr); r.markers != want {
				t.Fatalf("wrap at %d of %d: %d markers, want %d", pos, p, r.markers, want)
			}
		default:
			t.Fatalf("place(%d) at %d of %d started at %d", n, pos, p, r.start)
		}
	})
}

// TestPlace_NoShortTailAtZero: the sizes that would end 1..15 bytes before
// the ring's end at offset 0 are refused with ErrFrameTooLarge, naming the
// sizes that always fit; the sizes around them are accepted.
func TestPlace_NoShortTailAtZero(t *testing.T) {
	const p = 4096
	w := &Writer{v: &view{p: p}}
	for n := uint64(p - 40); n <= p-16; n++ {
		_, err := w.place(n)
		refused := n >= p-31 && n <= p-17
		if refused != (err != nil) {
			t.Fatalf("place(%d) in a %d-byte ring: %v", n, p, err)
		}
		if refused && (!errors.Is(err, ErrFrameTooLarge) || !strings.Contains(err.Error(), "2024 bytes always fit")) {
			t.Fatalf("place(%d): %v", n, err)
		}
	}
}
