package core

import (
	"context"
	"errors"
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/zerobuffer/zerobuffer-go/internal/testproc"
)

// TestStream_CrossProcess streams 100 000 frames of random sizes 1..3000
// through a 64 KiB ring from a writer process, with pattern and sequence
// checks, for each write path.
func TestStream_CrossProcess(t *testing.T) {
	count := 100_000
	if testing.Short() {
		count = 20_000
	}
	for _, mode := range []string{"copy", "reserve", "batch"} {
		t.Run(mode, func(t *testing.T) {
			name := testName(t)
			r := mustReader(t, name, 1024, 64<<10)
			p := testproc.Start(t, "writer", name, mode, strconv.Itoa(count), "7", "3000", "close")
			next := frameSizes(7, 3000)
			ctx := ctxT(t, 2*time.Minute)
			for i := 1; i <= count; i++ {
				f, err := r.ReadFrame(ctx)
				if err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				n := next()
				if f.Len() != n || f.Sequence() != uint64(i) {
					t.Fatalf("frame %d: len %d seq %d, want len %d", i, f.Len(), f.Sequence(), n)
				}
				if at := checkPattern(f.Data(), uint64(i)); at >= 0 {
					t.Fatalf("frame %d: byte %d wrong", i, at)
				}
				f.Release()
			}
			if _, err := r.ReadFrame(ctx); !errors.Is(err, io.EOF) {
				t.Fatalf("after last frame: %v, want io.EOF", err)
			}
			p.Expect("done", 10*time.Second)
			assertRestState(t, r)
		})
	}
}

// TestStream_GoWriterToChildReader runs the other direction: this process
// writes, a child process creates the buffer and verifies.
func TestStream_GoWriterToChildReader(t *testing.T) {
	count := 50_000
	name := testName(t)
	p := testproc.Start(t, "reader", name, strconv.Itoa(32<<10), strconv.Itoa(count), "11", "2000")
	p.Expect("ready", 10*time.Second)
	w := mustWriter(t, name)
	next := frameSizes(11, 2000)
	buf := make([]byte, 2000)
	ctx := ctxT(t, 2*time.Minute)
	for i := 1; i <= count; i++ {
		n := next()
		pattern(buf[:n], uint64(i))
		if err := w.WriteFrame(ctx, buf[:n]); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	p.Expect("ok", 30*time.Second)
	if code, err := p.Wait(10 * time.Second); code != 0 || err != nil {
		t.Fatalf("reader process: exit %d, %v", code, err)
	}
}

// assertRestState checks the OIEB of a drained buffer whose reader is at
// rest: everything released, positions and counts published.
func assertRestState(t *testing.T, r *Reader) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	o := r.v.snapshot()
	if o.PayloadFreeBytes != o.PayloadSize {
		t.Errorf("free bytes %d, want %d", o.PayloadFreeBytes, o.PayloadSize)
	}
	if o.PayloadReadCount != o.PayloadWrittenCount {
		t.Errorf("read count %d != written count %d", o.PayloadReadCount, o.PayloadWrittenCount)
	}
	wp := o.PayloadWritePos
	if wp == o.PayloadSize {
		wp = 0
	}
	if o.PayloadReadPos != wp {
		t.Errorf("read pos %d != write pos %d", o.PayloadReadPos, wp)
	}
	// sem-w may still hold the tokens of frames read on credit (the
	// reader's debt) until it sleeps; settling takes exactly those.
	if v := r.semW.Value(); uint64(v) != r.debt {
		t.Errorf("sem-w value %d after drain, token debt %d", v, r.debt)
	}
	r.settleLocked()
	if v := r.semW.Value(); v != 0 || r.debt != 0 || r.tokens != 0 {
		t.Errorf("after settling: sem-w value %d, debt %d, banked %d", v, r.debt, r.tokens)
	}
}

// TestZeroAllocs checks that the steady-state frame paths allocate nothing.
func TestZeroAllocs(t *testing.T) {
	name := testName(t)
	r := mustReader(t, name, 0, 1<<20)
	w := mustWriter(t, name)
	ctx := context.Background()
	p := make([]byte, 64)
	cases := map[string]func(){
		"WriteFrame": func() { _ = w.WriteFrame(ctx, p) },
		"Reserve": func() {
			b, _ := w.Reserve(ctx, 64)
			b[0] = 1
			_ = w.Commit()
		},
		"AppendFrame": func() { _ = w.AppendFrame(ctx, p); _ = w.Flush() },
	}
	for label, write := range cases {
		n := testing.AllocsPerRun(1000, func() {
			write()
			f, err := r.ReadFrame(ctx)
			if err != nil {
				t.Fatal(err)
			}
			f.Release()
		})
		if n != 0 {
			t.Errorf("%s + ReadFrame + Release: %v allocs per frame, want 0", label, n)
		}
	}
}
