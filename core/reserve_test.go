package core

import (
	"context"
	"errors"
	"testing"
	"time"
)

// reserveOp is one step of the reserve-max/commit-n tests: reserve up to
// max bytes, fill them with the pattern of the next sequence number, then
// commit n of them (or abort when abort is set, or Commit all max when n
// is 0).
type reserveOp struct {
	max, n int
	abort  bool
}

// runReserveOps applies ops to w and checks each published frame through
// r: its sequence number, its size and its bytes. The ring is drained
// after every op, so any op sequence fits.
func runReserveOps(t testing.TB, ctx context.Context, r *Reader, w *Writer, seq *uint64, ops []reserveOp) {
	t.Helper()
	for i, op := range ops {
		p, err := w.ReserveMax(ctx, op.max)
		if err != nil {
			// Documented refusals: beyond MaxFrameSize-16, and beyond half
			// the ring less 32 when the frame would have to wrap.
			if errors.Is(err, ErrFrameTooLarge) && (op.max > w.MaxFrameSize()-16 || op.max > int(w.v.p)/2-32) {
				continue
			}
			t.Fatalf("op %d: ReserveMax(%d): %v", i, op.max, err)
		}
		if len(p) != op.max || cap(p) != op.max {
			t.Fatalf("op %d: ReserveMax(%d) gave len %d cap %d", i, op.max, len(p), cap(p))
		}
		pattern(p, *seq)
		want := op.max
		switch {
		case op.abort:
			if err := w.Abort(); err != nil {
				t.Fatalf("op %d: Abort: %v", i, err)
			}
			continue
		case op.n == 0:
			err = w.Commit()
		default:
			want = op.n
			err = w.CommitN(op.n)
		}
		if err != nil {
			t.Fatalf("op %d: commit %d of %d: %v", i, op.n, op.max, err)
		}
		f, err := r.ReadFrame(ctx)
		if err != nil {
			t.Fatalf("op %d: ReadFrame: %v", i, err)
		}
		if f.Sequence() != *seq || f.Len() != want || checkPattern(f.Data(), *seq) >= 0 {
			t.Fatalf("op %d: frame seq %d len %d (want %d, %d), pattern breaks at %d",
				i, f.Sequence(), f.Len(), *seq, want, checkPattern(f.Data(), *seq))
		}
		if err := f.Release(); err != nil {
			t.Fatal(err)
		}
		*seq++
	}
}

func TestWriter_ReserveMaxCommitN(t *testing.T) {
	name := testName(t)
	r := mustReader(t, name, 0, 4096)
	w := mustWriter(t, name)
	ctx := ctxT(t, 20*time.Second)
	seq := uint64(1)
	var ops []reserveOp
	for i := range 3000 { // wraps the 4 KiB ring many times, at every offset class
		max := 1 + (i*37)%900
		ops = append(ops, reserveOp{max: max, n: 1 + (i*13)%max, abort: i%11 == 0})
		if i%17 == 0 {
			ops = append(ops, reserveOp{max: max}) // Commit: all max bytes
		}
	}
	runReserveOps(t, ctx, r, w, &seq, ops)
	atRest(t, r)
}

func TestWriter_CommitNRefusals(t *testing.T) {
	name := testName(t)
	r := mustReader(t, name, 0, 4096)
	w := mustWriter(t, name)
	ctx := ctxT(t, 20*time.Second)
	if err := w.CommitN(1); !errors.Is(err, ErrNoReservation) {
		t.Fatalf("CommitN without reservation: %v", err)
	}
	if _, err := w.ReserveMax(ctx, 0); !errors.Is(err, ErrInvalidFrameSize) {
		t.Fatalf("ReserveMax(0): %v", err)
	}
	if _, err := w.ReserveMax(ctx, w.MaxFrameSize()); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("ReserveMax(MaxFrameSize): %v", err)
	}
	p, err := w.ReserveMax(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	copy(p, "hello")
	for _, n := range []int{0, -1, 101} {
		if err := w.CommitN(n); !errors.Is(err, ErrInvalidFrameSize) {
			t.Fatalf("CommitN(%d): %v", n, err)
		}
	}
	if err := w.CommitN(5); err != nil { // the reservation stayed open
		t.Fatal(err)
	}
	f, err := r.ReadFrame(ctx)
	if err != nil || string(f.Data()) != "hello" || f.Sequence() != 1 {
		t.Fatalf("frame %q seq %d, %v", f.Data(), f.Sequence(), err)
	}
	f.Release()
	// An aborted reservation publishes nothing and takes no sequence number.
	if _, err := w.ReserveMax(ctx, 50); err != nil {
		t.Fatal(err)
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteFrame(ctx, []byte("next")); err != nil {
		t.Fatal(err)
	}
	f, err = r.ReadFrame(ctx)
	if err != nil || string(f.Data()) != "next" || f.Sequence() != 2 {
		t.Fatalf("frame %q seq %d, %v", f.Data(), f.Sequence(), err)
	}
	f.Release()
	atRest(t, r)
}

// TestWriter_ReserveMaxWaitsForSpace: a reservation waits for max+16 free
// bytes, and a ctx that ends meanwhile ends the wait with nothing placed.
func TestWriter_ReserveMaxWaitsForSpace(t *testing.T) {
	name := testName(t)
	r := mustReader(t, name, 0, 4096)
	w := mustWriter(t, name)
	ctx := ctxT(t, 20*time.Second)
	if err := w.WriteFrame(ctx, make([]byte, 3500)); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := w.ReserveMax(short, 1000); !errors.Is(err, context.DeadlineExceeded) {
		if err == nil {
			w.Abort()
		}
		t.Fatalf("ReserveMax on a full ring: %v", err)
	}
	f, err := r.ReadFrame(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f.Release()
	p, err := w.ReserveMax(ctx, 1000)
	if err != nil {
		t.Fatal(err)
	}
	pattern(p, 2)
	if err := w.CommitN(10); err != nil {
		t.Fatal(err)
	}
	if f, err = r.ReadFrame(ctx); err != nil || f.Len() != 10 || checkPattern(f.Data(), 2) >= 0 {
		t.Fatalf("frame len %d, %v", f.Len(), err)
	}
	f.Release()
	atRest(t, r)
}

// FuzzReserveMax drives ReserveMax, CommitN, Commit and Abort with sizes
// from the fuzzer on a small ring: every published frame has the committed
// size, the bytes written and the next sequence number, and the ring is at
// rest afterwards. Seed corpus: testdata/fuzz/FuzzReserveMax.
func FuzzReserveMax(f *testing.F) {
	f.Add([]byte{1, 1, 200, 100, 255, 3, 0, 0, 17, 16})
	f.Add([]byte{255, 255, 254, 254, 10, 9, 8, 7})
	name := testName(f)
	r := mustReader(f, name, 0, 2048)
	w := mustWriter(f, name)
	seq := uint64(1)
	f.Fuzz(func(t *testing.T, b []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		var ops []reserveOp
		for i := 0; i+1 < len(b); i += 2 {
			max := 1 + int(b[i])*9 // up to 2296: past the 2032-byte MaxFrameSize-16
			n := int(b[i+1]) * max / 255
			ops = append(ops, reserveOp{max: max, n: n, abort: b[i+1] == 1})
		}
		runReserveOps(t, ctx, r, w, &seq, ops)
		atRest(t, r)
	})
}
