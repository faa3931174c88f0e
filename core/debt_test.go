//go:build linux

package core

import (
	"context"
	"errors"
	"testing"
	"time"
)

// The reader consumes frames that payload_written_count covers without
// first taking their sem-w tokens, and takes those tokens later in one
// go (docs/PROTOCOL.md section 17's token debt). These tests pin down when the debt is paid.

// TestTokenDebt_SettledBeforeSleep: frames read one by one leave their
// tokens on sem-w (the debt) until the reader goes to sleep; a sleeping
// reader has settled, so sem-w counts only frames not yet read.
func TestTokenDebt_SettledBeforeSleep(t *testing.T) {
	name := testName(t)
	r := mustReader(t, name, 0, 4096, WithSpin(0))
	w := mustWriter(t, name)
	writeSeqs(t, w, 1, 10, 20)
	expectSeqs(t, r, 1, 10, nil)
	r.mu.Lock()
	debt, v := r.debt, r.semW.Value()
	r.mu.Unlock()
	if debt == 0 || uint64(v) != debt {
		t.Fatalf("after reading 10 frames: debt %d, sem-w value %d; want a debt equal to the value", debt, v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if f, err := r.ReadFrame(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ReadFrame on an empty ring: %v, %v", f, err)
	}
	r.mu.Lock()
	debt, v, banked := r.debt, r.semW.Value(), r.tokens
	r.mu.Unlock()
	if debt != 0 || v != 0 || banked != 0 {
		t.Fatalf("after sleeping: debt %d, sem-w value %d, banked %d; want 0, 0, 0", debt, v, banked)
	}
	// The next frames are read normally: the sleep took no token of theirs.
	writeSeqs(t, w, 11, 13, 20)
	expectSeqs(t, r, 11, 13, nil)
}

// TestTokenDebt_Bounded: a reader that never sleeps still keeps sem-w
// near zero, so a C++ writer's sem_post never meets the maximum.
func TestTokenDebt_Bounded(t *testing.T) {
	name := testName(t)
	r := mustReader(t, name, 0, 1<<16)
	w := mustWriter(t, name)
	ctx := ctxT(t, time.Minute)
	maxValue := uint32(0)
	for i := 1; i <= 5*debtLimit; i++ {
		if err := w.WriteFrame(ctx, make([]byte, 8)); err != nil {
			t.Fatal(err)
		}
		f, err := r.ReadFrame(ctx)
		if err != nil {
			t.Fatal(err)
		}
		f.Release()
		maxValue = max(maxValue, r.semW.Value())
	}
	if maxValue > debtLimit {
		t.Fatalf("sem-w value reached %d with a reader that never slept; the debt limit is %d", maxValue, debtLimit)
	}
}

// TestTokenDebt_CorruptWrittenCount: a written_count beyond what the ring
// can hold is refused as corruption. Here the ring holds exactly frames
// 1-4, edge to edge, so without that check the reader would go round them
// for ever, taking each frame 1 for a restarted writer (found by
// FuzzRingModel: a ReadBatch that never returned).
func TestTokenDebt_CorruptWrittenCount(t *testing.T) {
	name := testName(t)
	r := mustReader(t, name, 0, 4096, fastPeer)
	w := mustWriter(t, name, fastPeer)
	writeSeqs(t, w, 1, 4, 1024-16)
	expectSeqs(t, r, 1, 4, nil)
	if err := openHostile(t, name).PokeName("payload_written_count", 1<<40); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	var n int
	go func() {
		_, err := r.ReadBatch(ctxT(t, time.Second), 0, func([]byte, uint64) error {
			n++
			return nil
		})
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("ReadBatch after the corruption: %v (%d frames), want ErrCorrupt", err, n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ReadBatch did not return: the corrupt count sent it round the ring")
	}
	assertSticky(t, r, w, ErrCorrupt)
}

// TestSpin_CountBehindTheReader: a written_count that no longer grows past
// what the reader saw (here: corrupted below read_count; likewise a wrap
// marker counted before its frame by a writer that then died) must not
// turn the reader's spin into a busy loop that never sleeps, and so never
// probes the writer.
func TestSpin_CountBehindTheReader(t *testing.T) {
	name := testName(t)
	r := mustReader(t, name, 0, 4096, fastPeer)
	w := mustWriter(t, name, fastPeer)
	writeSeqs(t, w, 1, 3, 100)
	expectSeqs(t, r, 1, 3, nil)
	if err := openHostile(t, name).PokeName("payload_written_count", 1); err != nil {
		t.Fatal(err)
	}
	var rerr error
	cpu := idleCPU(t, 300*time.Millisecond, func(ctx context.Context) { _, rerr = r.ReadFrame(ctx) })
	if !errors.Is(rerr, context.DeadlineExceeded) {
		t.Fatalf("ReadFrame with the count behind: %v, want the deadline", rerr)
	}
	t.Logf("reader with written_count behind read_count: CPU %.1f%% of one core", 100*cpu)
	if cpu > 0.25 {
		t.Errorf("CPU %.0f%% while waiting: the spin returns at once and the reader never sleeps", 100*cpu)
	}
}
