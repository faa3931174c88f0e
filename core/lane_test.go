package core

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zerobuffer/zerobuffer-go/internal/testproc"
)

// faninName returns a fresh fan-in name and checks at the end of the test
// that no object of it (lanes, control block, doorbell) survives.
func faninName(t *testing.T) string {
	t.Helper()
	name := testproc.Name(t, "zbl", 40)
	t.Cleanup(func() {
		var left []string
		for _, pat := range []string{"/dev/shm/*" + name + "*", "/tmp/zerobuffer/*" + name + "*", "/tmp/zerobuffer/writer/*" + name + "*"} {
			m, _ := filepath.Glob(pat)
			left = append(left, m...)
		}
		for _, p := range left {
			t.Errorf("left behind: %s", p)
			_ = os.Remove(p)
		}
	})
	return name
}

func newFanInT(t *testing.T, name string, fc FanInConfig) *FanIn {
	t.Helper()
	fi, err := NewFanIn(name, BufferConfig{PayloadSize: 64 << 10}, fc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fi.Close() })
	return fi
}

func TestFanIn_Config(t *testing.T) {
	name := faninName(t)
	for _, fc := range []FanInConfig{{MaxLanes: -1}, {MaxLanes: MaxLanes + 1}, {Linger: -time.Second}} {
		if fi, err := NewFanIn(name, BufferConfig{PayloadSize: 4096}, fc); err == nil {
			fi.Close()
			t.Fatalf("%+v accepted", fc)
		}
	}
	if _, err := NewFanIn(strings.Repeat("x", 244), BufferConfig{PayloadSize: 4096}, FanInConfig{}); !errors.Is(err, ErrInvalidName) {
		t.Fatalf("long name: %v", err)
	}
	fi := newFanInT(t, name, FanInConfig{})
	if _, err := NewFanIn(name, BufferConfig{PayloadSize: 4096}, FanInConfig{}); !errors.Is(err, ErrReaderExists) {
		t.Fatalf("second fan-in reader: %v", err)
	}
	if got := len(fi.Lanes()); got != 2 {
		t.Fatalf("%d lanes at start, want 2", got)
	}
}

// TestFanIn_FairAndOrdered: writers fill their lanes before the reader
// starts; the budget interleaves them (never more than Budget frames of
// one lane in a row while the others have frames), and each one's frames
// arrive in order.
func TestFanIn_FairAndOrdered(t *testing.T) {
	name := faninName(t)
	fi := newFanInT(t, name, FanInConfig{Budget: 8})
	ctx := ctxT(t, 10*time.Second)
	const writers, n = 3, 1000 // 32 KiB per lane: fits the ring
	wait := startLaneWriters(t, ctx, name, writers, n)
	errc := wait()
	next := make([]uint64, writers)
	run, last := 0, -1
	longest := 0
	for got := 0; got < writers*n; got++ {
		f, k, err := fi.ReadFrame(ctx)
		if err != nil {
			t.Fatalf("after %d frames (%v): %v; lanes %+v", got, next, err, fi.Lanes())
		}
		id := binary.LittleEndian.Uint64(f.Data())
		seq := binary.LittleEndian.Uint64(f.Data()[8:])
		f.Release()
		if seq != next[id]+1 {
			t.Fatalf("writer %d: seq %d after %d", id, seq, next[id])
		}
		next[id] = seq
		if k == last {
			run++
		} else {
			run, last = 1, k
		}
		if got < (writers-1)*n { // every lane still has frames
			longest = max(longest, run)
		}
	}
	for err := range errc {
		t.Fatal(err)
	}
	if longest > 8 {
		t.Fatalf("%d frames in a row from one lane, budget 8", longest)
	}
}

// startLaneWriters claims writers lanes of the fan-in buffer name (all
// before any writes, so that each writer has a lane of its own) and
// writes n 16-byte frames to each from its own goroutine: the writer's
// index, then the sequence number 1..n. wait waits for the writers and
// returns their errors, closed.
func startLaneWriters(t *testing.T, ctx context.Context, name string, writers, n int) (wait func() <-chan error) {
	t.Helper()
	var lanes []*Lane
	for range writers {
		l, err := ClaimLane(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		lanes = append(lanes, l)
	}
	errc := make(chan error, writers)
	var wg sync.WaitGroup
	for id, l := range lanes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer l.Close()
			b := make([]byte, 16)
			for seq := uint64(1); seq <= uint64(n); seq++ {
				binary.LittleEndian.PutUint64(b, uint64(id))
				binary.LittleEndian.PutUint64(b[8:], seq)
				if err := l.Writer().WriteFrame(ctx, b); err != nil {
					errc <- err
					return
				}
				l.Ring()
			}
		}()
	}
	return func() <-chan error {
		wg.Wait()
		close(errc)
		return errc
	}
}

// TestFanIn_ReadBatch: batches come from one lane each, at most the
// budget long, per-writer order is kept, fn's error stops a batch with
// its frame counted, and a closed FanIn says ErrClosed.
func TestFanIn_ReadBatch(t *testing.T) {
	name := faninName(t)
	fi := newFanInT(t, name, FanInConfig{Budget: 8})
	ctx := ctxT(t, 10*time.Second)
	const writers, n = 3, 1000
	wait := startLaneWriters(t, ctx, name, writers, n)
	next := make([]uint64, writers)
	laneOf := map[int]uint64{} // lane index -> writer id
	stop := errors.New("stop")
	calls, got := 0, 0
	for got < writers*n {
		calls++
		batchLane := -1
		k, lane, err := fi.ReadBatch(ctx, 0, func(data []byte, lane int, seq uint64) error {
			id := binary.LittleEndian.Uint64(data)
			s := binary.LittleEndian.Uint64(data[8:])
			if batchLane == -1 {
				batchLane = lane
			}
			if lane != batchLane {
				return fmt.Errorf("lane %d inside a batch of lane %d", lane, batchLane)
			}
			if w, ok := laneOf[lane]; ok && w != id {
				return fmt.Errorf("lane %d carried writers %d and %d", lane, w, id)
			}
			laneOf[lane] = id
			if s != next[id]+1 {
				return fmt.Errorf("writer %d: seq %d after %d", id, s, next[id])
			}
			next[id] = s
			if calls%7 == 0 && s%5 == 0 {
				return stop // the frame counts as read
			}
			return nil
		})
		if err != nil && !errors.Is(err, stop) {
			t.Fatalf("after %d frames (%v): %v", got, next, err)
		}
		if k < 1 || k > 8 || lane != batchLane {
			t.Fatalf("batch of %d frames from lane %d (fn saw lane %d), budget 8", k, lane, batchLane)
		}
		got += k
	}
	for err := range wait() {
		t.Fatal(err)
	}
	for id, s := range next {
		if s != n {
			t.Fatalf("writer %d: last seq %d, want %d", id, s, n)
		}
	}
	t.Logf("%d frames in %d batches", got, calls)
	fi.Close()
	if _, _, err := fi.ReadBatch(ctx, 0, func([]byte, int, uint64) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v, want ErrClosed", err)
	}
}

// TestFanIn_LookAlikeLaneSkipped: a buffer someone else created under a
// lane name is skipped by the reader and by writers.
func TestFanIn_LookAlikeLaneSkipped(t *testing.T) {
	name := faninName(t)
	squat, err := NewReader(LaneName(name, 1), BufferConfig{PayloadSize: 4096})
	if err != nil {
		t.Fatal(err)
	}
	defer squat.Close()
	// The squatter poses as another process: a writer checks reader_pid.
	squat.v.store(offReaderPID, 1)
	fi := newFanInT(t, name, FanInConfig{})
	ctx := ctxT(t, 30*time.Second)
	var lanes []*Lane
	for range 2 {
		l, err := ClaimLane(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		if l.Index() == 1 {
			t.Fatal("writer claimed the look-alike lane")
		}
		lanes = append(lanes, l)
	}
	if !fi.Lanes()[1].Skipped {
		t.Fatalf("lane 1 not skipped: %+v", fi.Lanes())
	}
	for _, l := range lanes {
		if err := l.Writer().WriteFrame(ctx, []byte{byte(l.Index())}); err != nil {
			t.Fatal(err)
		}
		l.Ring()
	}
	for range 2 {
		f, k, err := fi.ReadFrame(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if int(f.Data()[0]) != k {
			t.Fatalf("frame of lane %d read from lane %d", f.Data()[0], k)
		}
		f.Release()
	}
}

// TestFanIn_CloseWakesReader and the ctx: a blocked ReadFrame returns
// ErrClosed after Close and the ctx error when ctx ends.
func TestFanIn_CloseWakesReader(t *testing.T) {
	name := faninName(t)
	fi := newFanInT(t, name, FanInConfig{})
	short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, _, err := fi.ReadFrame(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ctx end: %v", err)
	}
	errc := make(chan error, 1)
	go func() {
		_, _, err := fi.ReadFrame(context.Background())
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond)
	t0 := time.Now()
	fi.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("after Close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not wake ReadFrame")
	}
	t.Logf("woken %v after Close", time.Since(t0))
}

// TestFanIn_PlainBufferClaim: ClaimLane on a plain buffer connects like
// NewWriter; ClaimLaneFrom(1) waits for lanes that never come.
func TestFanIn_PlainBufferClaim(t *testing.T) {
	name := faninName(t)
	r, err := NewReader(name, BufferConfig{PayloadSize: 4096})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx := ctxT(t, 10*time.Second)
	l, err := ClaimLane(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if l.Index() != 0 {
		t.Fatalf("index %d", l.Index())
	}
	l.Ring() // no doorbell: a no-op
	if err := l.Writer().WriteFrame(ctx, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := r.ReadFrame(ctx)
	if err != nil || string(f.Data()) != "x" {
		t.Fatalf("%v", err)
	}
	f.Release()
	if _, err := r.ReadFrame(ctx); err != io.EOF {
		t.Fatalf("after Close: %v", err)
	}
	short, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancel()
	if _, err := ClaimLaneFrom(short, name, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ClaimLaneFrom(1) on a plain buffer: %v", err)
	}
}

// TestFanIn_ResetOnLeave: a lane is recreated after its writer closed and
// its frames were read, so the next writer writes fresh metadata.
func TestFanIn_ResetOnLeave(t *testing.T) {
	name := faninName(t)
	fi, err := NewFanIn(name, BufferConfig{MetadataSize: 64, PayloadSize: 4096}, FanInConfig{ResetOnLeave: true})
	if err != nil {
		t.Fatal(err)
	}
	defer fi.Close()
	ctx := ctxT(t, 30*time.Second)
	for i := range 3 {
		l, err := ClaimLaneFrom(ctx, name, 1)
		if err != nil {
			t.Fatal(err)
		}
		if err := l.Writer().SetMetadata([]byte{byte(i)}); err != nil {
			l.Close()
			t.Fatalf("writer %d: %v", i, err)
		}
		if err := l.Writer().WriteFrame(ctx, []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
		l.Ring()
		k := l.Index()
		l.Close()
		f, fk, err := fi.ReadFrame(ctx)
		if err != nil || fk != k || f.Data()[0] != byte(i) {
			t.Fatalf("writer %d: lane %d, %v", i, fk, err)
		}
		f.Release()
		// The lane is reset once the reader sees its end.
		deadline := time.Now().Add(5 * time.Second)
		for resets(fi) < uint64(i+1) {
			if time.Now().After(deadline) {
				t.Fatalf("writer %d: lane %d not reset: %+v", i, k, fi.Lanes())
			}
			short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
			fi.ReadFrame(short)
			cancel()
		}
	}
}

func resets(fi *FanIn) (n uint64) {
	for _, l := range fi.Lanes() {
		n += l.Resets
	}
	return n
}

// TestFanIn_EveryPublicationRings: a lane's writer rings the doorbell by
// itself on every way of publishing, without Lane.Ring: after each
// publication into a sleeping fan-in reader, the reader's sleeping word is
// cleared before the call returns, and the reader gets the frame.
func TestFanIn_EveryPublicationRings(t *testing.T) {
	name := faninName(t)
	fi := newFanInT(t, name, FanInConfig{})
	ctx := ctxT(t, 60*time.Second)
	l, err := ClaimLane(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	w := l.Writer()
	for _, tc := range []struct {
		name    string
		publish func(byte) error
	}{
		{"WriteFrame", func(b byte) error { return w.WriteFrame(ctx, []byte{b}) }},
		{"Reserve+Commit", func(b byte) error {
			p, err := w.Reserve(ctx, 1)
			if err != nil {
				return err
			}
			p[0] = b
			return w.Commit()
		}},
		{"WriteFrames", func(b byte) error { _, err := w.WriteFrames(ctx, [][]byte{{b}}); return err }},
		{"AppendFrame+Flush", func(b byte) error {
			if err := w.AppendFrame(ctx, []byte{b}); err != nil {
				return err
			}
			return w.Flush()
		}},
	} {
		b := byte(len(tc.name))
		got := make(chan error, 1)
		go func() {
			f, _, err := fi.ReadFrame(ctx)
			if err == nil {
				if f.Data()[0] != b {
					err = fmt.Errorf("frame %d, want %d", f.Data()[0], b)
				}
				f.Release()
			}
			got <- err
		}()
		for fi.ctl.load(ctlSleeping) == 0 {
			if ctx.Err() != nil {
				t.Fatal("the reader never slept")
			}
			time.Sleep(time.Millisecond)
		}
		if err := tc.publish(b); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if fi.ctl.load(ctlSleeping) != 0 {
			// Either nothing rang, or the reader woke on its own timer
			// just before the publication and went back to sleep after
			// it: then it saw the frame in its last poll and returns now,
			// far sooner than its next timer (idleSlice).
			select {
			case err := <-got:
				if err != nil {
					t.Fatalf("%s: %v", tc.name, err)
				}
				continue
			case <-time.After(idleSlice / 2):
				t.Fatalf("%s: the sleeping word is still set after the publication: no ring", tc.name)
			}
		}
		if err := <-got; err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
	}
}
