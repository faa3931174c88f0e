//go:build linux

package core

// Reliability matrix rows C18 and C19, beyond lifecycle_test.go
// (TestClose_WakesBlockedCalls, TestReader_FrameOutlivesClose): every
// blocking call ends promptly on Close or cancellation, and the mapping
// outlives Close exactly as long as a frame is held.

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"
)

// TestCrash_C18_CloseOrCancelWakesEveryCall: each blocking call of the
// Reader and the Writer returns ErrClosed (matching os.ErrClosed) or the
// ctx error soon after Close or cancel from another goroutine.
func TestCrash_C18_CloseOrCancelWakesEveryCall(t *testing.T) {
	type blocked struct {
		label string
		call  func(t *testing.T, ctx context.Context) (result chan error, closeIt func())
		want  error
	}
	full := func(t *testing.T, name string) (*Reader, *Writer) {
		r := mustReader(t, name, 0, 4096)
		w := mustWriter(t, name)
		fillRing(t, w, 1000)
		return r, w
	}
	cases := []blocked{}
	for _, how := range []string{"cancel", "Close"} {
		want := error(context.Canceled)
		if how == "Close" {
			want = os.ErrClosed
		}
		cases = append(cases,
			blocked{"ReadFrame/" + how, func(t *testing.T, ctx context.Context) (chan error, func()) {
				r := mustReader(t, testName(t), 0, 4096)
				return run(ctx, func(ctx context.Context) error { _, err := r.ReadFrame(ctx); return err }), func() { r.Close() }
			}, want},
			blocked{"WaitWriter/" + how, func(t *testing.T, ctx context.Context) (chan error, func()) {
				r := mustReader(t, testName(t), 0, 4096)
				return run(ctx, r.WaitWriter), func() { r.Close() }
			}, want},
			blocked{"WriteFrame/" + how, func(t *testing.T, ctx context.Context) (chan error, func()) {
				_, w := full(t, testName(t))
				return run(ctx, func(ctx context.Context) error { return w.WriteFrame(ctx, make([]byte, 1000)) }), func() { w.Close() }
			}, want},
			blocked{"Reserve/" + how, func(t *testing.T, ctx context.Context) (chan error, func()) {
				_, w := full(t, testName(t))
				return run(ctx, func(ctx context.Context) error { _, err := w.Reserve(ctx, 1000); return err }), func() { w.Close() }
			}, want},
		)
	}
	for _, c := range cases {
		t.Run(c.label, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			result, closeIt := c.call(t, ctx)
			time.Sleep(30 * time.Millisecond) // let it block
			start := time.Now()
			if errors.Is(c.want, context.Canceled) {
				cancel()
			} else {
				closeIt()
			}
			select {
			case err := <-result:
				took := time.Since(start)
				t.Logf("returned %v after %v", err, took)
				if !errors.Is(err, c.want) {
					t.Errorf("got %v, want %v", err, c.want)
				}
				if took > 500*time.Millisecond {
					t.Errorf("took %v, want < 10ms (500ms on a loaded machine)", took)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("not woken")
			}
		})
	}
}

// run starts call in a goroutine and returns the channel of its result.
func run(ctx context.Context, call func(context.Context) error) chan error {
	ch := make(chan error, 1)
	go func() { ch <- call(ctx) }()
	return ch
}

// TestCrash_C19_MappingLivesWithTheLastFrame: after Close a held frame
// stays readable (never a fault), the segment stays in /proc/self/maps
// until its Release, and leaves with it.
func TestCrash_C19_MappingLivesWithTheLastFrame(t *testing.T) {
	name := testName(t)
	r, err := NewReader(name, BufferConfig{PayloadSize: 4096})
	if err != nil {
		t.Fatal(err)
	}
	w := mustWriter(t, name)
	for i := 1; i <= 2; i++ {
		b := make([]byte, 1500)
		pattern(b, uint64(i))
		if err := w.WriteFrame(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	w.Close() // its own mapping would show in /proc/self/maps too
	f1, err := r.ReadFrame(ctxT(t, time.Second))
	if err != nil {
		t.Fatal(err)
	}
	f2, err := r.ReadFrame(ctxT(t, time.Second))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := r.Close(); err != nil {
		t.Fatalf("Close with frames held: %v", err)
	}
	t.Logf("Close with 2 frames held returned after %v", time.Since(start))
	if _, err := r.ReadFrame(ctxT(t, time.Second)); !errors.Is(err, os.ErrClosed) {
		t.Errorf("ReadFrame after Close: %v", err)
	}
	if checkPattern(f2.Data(), 2) >= 0 || !mapped(t, name) {
		t.Fatal("held frame unreadable or unmapped after Close")
	}
	f2.Release()
	if checkPattern(f1.Data(), 1) >= 0 || !mapped(t, name) {
		t.Fatal("segment unmapped while a frame is still held")
	}
	f1.Release()
	if mapped(t, name) {
		t.Error("segment still mapped after the last Release")
	}
}
