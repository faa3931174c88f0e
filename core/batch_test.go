package core

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"
)

// frameOf returns the payload of frame seq: size 1 + seq%100, pattern.
func frameOf(seq uint64) []byte {
	b := make([]byte, 1+seq%100)
	pattern(b, seq)
	return b
}

// atRest checks the reader-side OIEB fields: published position equals
// the writer's and every byte is free again.
func atRest(t *testing.T, r *Reader) {
	t.Helper()
	if rp, wp := r.v.load(offReadPos), r.v.load(offWritePos); rp != wp%r.v.p && rp != wp {
		t.Fatalf("read_pos %d, write_pos %d", rp, wp)
	}
	if f := r.v.load(offFree); f != r.v.p {
		t.Fatalf("payload_free_bytes %d, want %d", f, r.v.p)
	}
	if rc, wc := r.v.load(offReadCount), r.v.load(offWrittenCount); rc != wc {
		t.Fatalf("read_count %d, written_count %d", rc, wc)
	}
}

func TestReadBatch_DeliversInOrderAndRests(t *testing.T) {
	name := testName(t)
	r := mustReader(t, name, 0, 4096) // small: the stream wraps many times
	w := mustWriter(t, name)
	ctx := ctxT(t, 20*time.Second)
	const total = 5000
	done := make(chan error, 1)
	go func() {
		for seq := uint64(1); seq <= total; seq++ {
			if err := w.AppendFrame(ctx, frameOf(seq)); err != nil {
				done <- err
				return
			}
			if seq%7 == 0 {
				if err := w.Flush(); err != nil {
					done <- err
					return
				}
			}
		}
		done <- w.Close()
	}()
	var next uint64 = 1
	calls := 0
	for {
		n, err := r.ReadBatch(ctx, 0, func(data []byte, seq uint64) error {
			if seq != next || !bytes.Equal(data, frameOf(seq)) {
				t.Fatalf("frame %d (%d bytes), want %d", seq, len(data), next)
			}
			next++
			return nil
		})
		if errors.Is(err, io.EOF) {
			if n != 0 {
				t.Fatalf("EOF with n = %d", n)
			}
			break
		}
		if err != nil || n == 0 {
			t.Fatalf("ReadBatch = %d, %v", n, err)
		}
		calls++
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if next != total+1 {
		t.Fatalf("got %d frames, want %d", next-1, total)
	}
	t.Logf("%d frames in %d batches", total, calls)
	atRest(t, r)
}

func TestReadBatch_LimitAndError(t *testing.T) {
	name := testName(t)
	r := mustReader(t, name, 0, 1<<16)
	w := mustWriter(t, name)
	ctx := ctxT(t, 10*time.Second)
	for seq := uint64(1); seq <= 10; seq++ {
		if err := w.AppendFrame(ctx, frameOf(seq)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	var got []uint64
	collect := func(_ []byte, seq uint64) error { got = append(got, seq); return nil }
	if n, err := r.ReadBatch(ctx, 3, collect); n != 3 || err != nil {
		t.Fatalf("limit 3: %d, %v", n, err)
	}
	stop := errors.New("stop")
	n, err := r.ReadBatch(ctx, 0, func(d []byte, seq uint64) error {
		got = append(got, seq)
		if seq == 5 {
			return stop
		}
		return nil
	})
	if n != 2 || !errors.Is(err, stop) {
		t.Fatalf("error at 5: %d, %v", n, err)
	}
	if n, err := r.ReadBatch(ctx, 0, collect); n != 5 || err != nil {
		t.Fatalf("rest: %d, %v", n, err)
	}
	for i, seq := range got {
		if seq != uint64(i+1) {
			t.Fatalf("order %v", got)
		}
	}
	atRest(t, r)
	// Nothing left: a cancelled ctx polls and reports the ctx error.
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if n, err := r.ReadBatch(cancelled, 0, collect); n != 0 || !errors.Is(err, context.Canceled) {
		t.Fatalf("empty ring, cancelled ctx: %d, %v", n, err)
	}
}

// A frame held through ReadFrame keeps its space, and the space of every
// frame after it, even when a batch reads and releases those.
func TestReadBatch_HeldFrameKeepsOrder(t *testing.T) {
	name := testName(t)
	r := mustReader(t, name, 0, 4096)
	w := mustWriter(t, name)
	ctx := ctxT(t, 10*time.Second)
	for seq := uint64(1); seq <= 4; seq++ {
		if err := w.WriteFrame(ctx, frameOf(seq)); err != nil {
			t.Fatal(err)
		}
	}
	held, err := r.ReadFrame(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := r.ReadBatch(ctx, 0, func([]byte, uint64) error { return nil }); n != 3 || err != nil {
		t.Fatalf("ReadBatch = %d, %v", n, err)
	}
	if f := r.v.load(offFree); f == r.v.p {
		t.Fatal("space returned while frame 1 is held")
	}
	if !bytes.Equal(held.Data(), frameOf(1)) {
		t.Fatal("held frame changed")
	}
	if err := held.Release(); err != nil {
		t.Fatal(err)
	}
	atRest(t, r)
}

// A panic in fn leaves the Reader usable: the frame counts as read.
func TestReadBatch_PanicInCallback(t *testing.T) {
	name := testName(t)
	r := mustReader(t, name, 0, 4096)
	w := mustWriter(t, name)
	ctx := ctxT(t, 10*time.Second)
	for seq := uint64(1); seq <= 3; seq++ {
		if err := w.AppendFrame(ctx, frameOf(seq)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("no panic")
			}
		}()
		_, _ = r.ReadBatch(ctx, 0, func(_ []byte, seq uint64) error {
			if seq == 2 {
				panic("boom")
			}
			return nil
		})
	}()
	n, err := r.ReadBatch(ctx, 0, func(_ []byte, seq uint64) error {
		if seq != 3 {
			t.Fatalf("after the panic: frame %d, want 3", seq)
		}
		return nil
	})
	if n != 1 || err != nil {
		t.Fatalf("ReadBatch = %d, %v", n, err)
	}
	atRest(t, r)
}

func TestReadBatch_ZeroAllocs(t *testing.T) {
	name := testName(t)
	r := mustReader(t, name, 0, 1<<20)
	w := mustWriter(t, name)
	ctx := context.Background()
	p := make([]byte, 64)
	fn := func([]byte, uint64) error { return nil }
	n := testing.AllocsPerRun(1000, func() {
		for range 8 {
			_ = w.AppendFrame(ctx, p)
		}
		_ = w.Flush()
		if n, err := r.ReadBatch(ctx, 0, fn); n != 8 || err != nil {
			t.Fatalf("ReadBatch = %d, %v", n, err)
		}
	})
	if n != 0 && !raceEnabled {
		t.Errorf("8 x AppendFrame + Flush + ReadBatch: %v allocs, want 0", n)
	}
}

func TestWriteFrames_RoundTrip(t *testing.T) {
	name := testName(t)
	r := mustReader(t, name, 0, 4096) // small: batches wait for space and wrap
	w := mustWriter(t, name)
	ctx := ctxT(t, 20*time.Second)
	const total = 3000
	done := make(chan error, 1)
	go func() {
		var batch [][]byte
		for seq := uint64(1); seq <= total; seq++ {
			batch = append(batch, frameOf(seq))
			if len(batch) == int(seq%13)+1 || seq == total {
				if n, err := w.WriteFrames(ctx, batch); n != len(batch) || err != nil {
					done <- fmt.Errorf("WriteFrames = %d, %v", n, err)
					return
				}
				batch = batch[:0]
			}
		}
		done <- w.Close()
	}()
	var next uint64 = 1
	for {
		_, err := r.ReadBatch(ctx, 0, func(data []byte, seq uint64) error {
			if seq != next || !bytes.Equal(data, frameOf(seq)) {
				t.Fatalf("frame %d (%d bytes), want %d", seq, len(data), next)
			}
			next++
			return nil
		})
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if next != total+1 {
		t.Fatalf("got %d frames, want %d", next-1, total)
	}
	atRest(t, r)
}

// On an error WriteFrames reports how many frames it wrote, and those are
// published: an invalid frame in the middle, and a full ring with a
// cancelled ctx.
func TestWriteFrames_PartialOnError(t *testing.T) {
	name := testName(t)
	r := mustReader(t, name, 0, 1024)
	w := mustWriter(t, name)
	ctx := ctxT(t, 10*time.Second)
	n, err := w.WriteFrames(ctx, [][]byte{frameOf(1), frameOf(2), {}, frameOf(4)})
	if n != 2 || !errors.Is(err, ErrInvalidFrameSize) {
		t.Fatalf("empty third frame: %d, %v", n, err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	big := make([]byte, 300)
	n, err = w.WriteFrames(cancelled, [][]byte{big, big, big, big})
	if n == 0 || n == 4 || !errors.Is(err, ErrBufferFull) {
		t.Fatalf("full ring: %d, %v", n, err)
	}
	got := 0
	for {
		k, err := r.ReadBatch(cancelled, 0, func([]byte, uint64) error { return nil })
		got += k
		if err != nil {
			break
		}
	}
	if got != 2+n {
		t.Fatalf("reader got %d frames, want %d", got, 2+n)
	}
	if n, err := w.WriteFrames(ctx, nil); n != 0 || err != nil {
		t.Fatalf("no frames: %d, %v", n, err)
	}
}

func TestWriteFrames_ZeroAllocs(t *testing.T) {
	name := testName(t)
	r := mustReader(t, name, 0, 1<<20)
	w := mustWriter(t, name)
	ctx := context.Background()
	frames := make([][]byte, 8)
	for i := range frames {
		frames[i] = make([]byte, 64)
	}
	fn := func([]byte, uint64) error { return nil }
	n := testing.AllocsPerRun(1000, func() {
		if n, err := w.WriteFrames(ctx, frames); n != 8 || err != nil {
			t.Fatalf("WriteFrames = %d, %v", n, err)
		}
		if n, err := r.ReadBatch(ctx, 0, fn); n != 8 || err != nil {
			t.Fatalf("ReadBatch = %d, %v", n, err)
		}
	})
	if n != 0 {
		t.Errorf("WriteFrames + ReadBatch of 8 frames: %v allocs, want 0", n)
	}
}
