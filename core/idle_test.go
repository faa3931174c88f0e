//go:build linux

package core

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"
)

var busySpin = WithIdleStrategy(IdleBusySpin)

func TestIdleStrategy_ParseAndValidate(t *testing.T) {
	for _, s := range []IdleStrategy{IdleSpinThenSleep, IdleBusySpin, IdleLowCPU} {
		got, err := ParseIdleStrategy(s.String())
		if err != nil || got != s {
			t.Errorf("ParseIdleStrategy(%q) = %v, %v", s.String(), got, err)
		}
	}
	if _, err := ParseIdleStrategy("turbo"); err == nil {
		t.Error("ParseIdleStrategy accepted an unknown name")
	}
	if _, err := NewReader(testName(t), BufferConfig{PayloadSize: 4096}, WithIdleStrategy(IdleStrategy(9))); err == nil {
		t.Error("NewReader accepted an unknown idle strategy")
	}
}

// TestIdleBusySpin_WriterKilled: a reader that busy-spins still probes its
// writer and reports a SIGKILLed one as ErrWriterDead.
func TestIdleBusySpin_WriterKilled(t *testing.T) {
	writerKilledWhileReaderBlocked(t, "writer death (busy-spinning reader)", busySpin)
}

// TestIdleBusySpin_WriterClosed: a busy-spinning reader sees a writer's
// Close at once (it watches writer_pid while it spins).
func TestIdleBusySpin_WriterClosed(t *testing.T) {
	name := testName(t)
	r := mustReader(t, name, 0, 4096, busySpin)
	w := mustWriter(t, name)
	ctx := ctxT(t, 10*time.Second)
	if err := w.WriteFrame(ctx, []byte("one")); err != nil {
		t.Fatal(err)
	}
	f, err := r.ReadFrame(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f.Release()
	done := make(chan error, 1)
	go func() { _, err := r.ReadFrame(ctx); done <- err }()
	time.Sleep(50 * time.Millisecond)
	closed := time.Now()
	w.Close()
	if err := <-done; !errors.Is(err, io.EOF) {
		t.Fatalf("ReadFrame after the writer closed: %v, want io.EOF", err)
	}
	// "At once": no liveness probe is needed. The bound is far from the
	// peer-check interval's multiples only to hold on a loaded machine.
	if d := time.Since(closed); d > 500*time.Millisecond {
		t.Errorf("EOF %v after Close", d)
	} else {
		t.Logf("EOF %v after Close", d)
	}
}

// TestIdleBusySpin_WriterWakesForeignReader: a writer that busy-spins for
// space still posts a token per frame, so a spec-literal reader sleeping
// in sem-w one token at a time gets every frame.
func TestIdleBusySpin_WriterWakesForeignReader(t *testing.T) {
	const count = 20_000
	name := testName(t)
	mustReader(t, name, 0, 4096) // owns the objects; the foreign reader consumes
	w := mustWriter(t, name, busySpin)
	f := openForeign(t, name)
	errc := make(chan error, 1)
	go func() {
		next := frameSizes(17, 1000)
		ctx := context.Background()
		for seq := uint64(1); seq <= count; seq++ {
			if err := w.WriteFrame(ctx, patternOf(seq, next())); err != nil {
				errc <- err
				return
			}
		}
		errc <- w.Close()
	}()
	f.readAll(t, count, frameSizes(17, 1000))
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

// TestIdleBusySpin_ReaderKilledWhileWriterSpins: a writer busy-spinning
// for space learns of its reader's death from its monitor.
func TestIdleBusySpin_ReaderKilledWhileWriterSpins(t *testing.T) {
	readerKilledWhileWriterBlocked(t, "reader death (busy-spinning writer)", busySpin)
}

// TestIdleStrategy_Streams: every strategy moves a stream of random sizes
// through a small ring intact, in both directions of waiting.
func TestIdleStrategy_Streams(t *testing.T) {
	for _, s := range []IdleStrategy{IdleSpinThenSleep, IdleBusySpin, IdleLowCPU} {
		t.Run(s.String(), func(t *testing.T) {
			const count = 20_000
			name := testName(t)
			r := mustReader(t, name, 0, 8192, WithIdleStrategy(s))
			w := mustWriter(t, name, WithIdleStrategy(s))
			ctx := ctxT(t, time.Minute)
			errc := make(chan error, 1)
			go func() {
				next := frameSizes(5, 2000)
				for seq := uint64(1); seq <= count; seq++ {
					if err := w.WriteFrame(ctx, patternOf(seq, next())); err != nil {
						errc <- err
						return
					}
				}
				errc <- w.Close()
			}()
			next := frameSizes(5, 2000)
			for seq := uint64(1); seq <= count; seq++ {
				f, err := r.ReadFrame(ctx)
				if err != nil {
					t.Fatalf("frame %d: %v", seq, err)
				}
				if f.Sequence() != seq || string(f.Data()) != string(patternOf(seq, next())) {
					t.Fatalf("frame %d wrong", seq)
				}
				f.Release()
			}
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
			if _, err := r.ReadFrame(ctx); !errors.Is(err, io.EOF) {
				t.Fatalf("after Close: %v", err)
			}
		})
	}
}
