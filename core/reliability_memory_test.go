//go:build linux

package core

// Reliability matrix rows C20-C22: frame lifetime across GC, race stress
// on two mappings, and semaphore drift.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"weak"

	"github.com/zerobuffer/zerobuffer-go/internal/hostile"
	"github.com/zerobuffer/zerobuffer-go/platform"
)

// mapped reports whether this process maps the segment of buffer name.
func mapped(t testing.TB, name string) bool {
	t.Helper()
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.Contains(sc.Text(), "/dev/shm/"+name) {
			return true
		}
	}
	return false
}

// TestCrash_C20_GCWithReaderDropped: a Frame keeps its memory valid when
// the program drops its Reader: garbage collection never unmaps under a
// live frame. Whether a dropped, never-closed Reader is cleaned up
// afterwards (RELIABILITY.md I8: runtime.AddCleanup as the backstop) is
// checked last.
func TestCrash_C20_GCWithReaderDropped(t *testing.T) {
	name := testName(t)
	t.Cleanup(func() { reclaim(name) })
	f, wr := func() (*Frame, weak.Pointer[Reader]) {
		r, err := NewReader(name, BufferConfig{PayloadSize: 4096})
		if err != nil {
			t.Fatal(err)
		}
		w, err := NewWriter(name)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		b := make([]byte, 3000)
		pattern(b, 1)
		if err := w.WriteFrame(context.Background(), b); err != nil {
			t.Fatal(err)
		}
		f, err := r.ReadFrame(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return f, weak.Make(r)
	}()
	for range 5 {
		runtime.GC()
	}
	if at := checkPattern(f.Data(), 1); at >= 0 || f.Len() != 3000 {
		t.Fatalf("frame changed after GC with the Reader dropped (byte %d)", at)
	}
	if !mapped(t, name) {
		t.Fatal("segment unmapped under a live frame")
	}
	f.Release()
	f = nil
	for range 5 {
		runtime.GC()
		time.Sleep(5 * time.Millisecond)
	}
	collected := wr.Value() == nil
	stillMapped := mapped(t, name)
	t.Logf("after Release and GC: Reader collected %v, segment still mapped %v", collected, stillMapped)
	r2, err := NewReader(name, BufferConfig{PayloadSize: 4096})
	if err != nil {
		t.Fatalf("a new reader of the dropped reader's name: %v", err)
	}
	r2.Close()
	if stillMapped {
		regressed(t, "a Reader dropped without Close is never cleaned up: no runtime.AddCleanup backstop (I8), "+
			"its segment and semaphore mappings stay for the life of the process (collected %v)", collected)
	}
}

// stressCount is the C21 frame count: 2*10^5, 5*10^4 under the race
// detector, 2*10^4 in -short mode. ZB_STRESS_FRAMES=1000000 gives the
// count of RELIABILITY.md for nightly runs (about 40s on a loaded 2-core
// machine without -race).
func stressCount() int {
	if n, err := strconv.Atoi(os.Getenv("ZB_STRESS_FRAMES")); err == nil && n > 0 {
		return n
	}
	switch {
	case testing.Short():
		return 20_000
	case raceEnabled:
		return 50_000
	}
	return 200_000
}

// stressSizes yields the C21 frame sizes: mostly small, some large
// enough to force frequent wraps, all at most alwaysFits(ring).
func stressSizes(seed uint64, ring int) func() int {
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	return func() int {
		switch rng.IntN(16) {
		case 0:
			return ring/4 + rng.IntN(ring/4-24)
		case 1, 2:
			return 1 + rng.IntN(16)
		default:
			return 1 + rng.IntN(2000)
		}
	}
}

// TestCrash_C21_RaceStress streams frames of random sizes between a
// writer goroutine (mixing WriteFrame, Reserve/Commit and AppendFrame/
// Flush) and a reader goroutine, each with its own mapping, while a third
// goroutine releases frames out of order. Every sequence number, size and
// byte is checked; run it under -race.
func TestCrash_C21_RaceStress(t *testing.T) {
	const ring = 64 << 10
	name := testName(t)
	r := mustReader(t, name, 0, ring)
	w := mustWriter(t, name)
	if r.v.seg == w.v.seg || &r.v.ring[0] == &w.v.ring[0] {
		t.Fatal("reader and writer share a mapping")
	}
	count := stressCount()
	ctx := ctxT(t, 2*time.Minute)
	start := time.Now()
	var wg sync.WaitGroup
	werr := make(chan error, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		next := stressSizes(21, ring)
		for i := 1; i <= count; i++ {
			n, seq := next(), uint64(i)
			var err error
			switch i % 3 {
			case 0:
				err = w.WriteFrame(ctx, patternOf(seq, n))
			case 1:
				var b []byte
				if b, err = w.Reserve(ctx, n); err == nil {
					copy(b, patternOf(seq, n))
					err = w.Commit()
				}
			default:
				err = w.AppendFrame(ctx, patternOf(seq, n))
				if err == nil && (i%16 == 2 || i == count) {
					err = w.Flush()
				}
			}
			if err != nil {
				werr <- err
				return
			}
		}
		werr <- w.Flush()
	}()
	frames := make(chan *Frame, 8)
	wg.Add(1)
	go func() { // releases out of order, holding up to 4 frames
		defer wg.Done()
		rng := rand.New(rand.NewPCG(1, 2))
		var held []*Frame
		release := func() {
			i := rng.IntN(len(held))
			held[i].Release()
			held = append(held[:i], held[i+1:]...)
		}
		for {
			var f *Frame
			var ok bool
			if len(held) == 0 {
				f, ok = <-frames
			} else {
				select {
				case f, ok = <-frames:
				default: // nothing pending: the writer may wait for these bytes
					runtime.Gosched()
					select {
					case f, ok = <-frames:
					default:
						release()
						continue
					}
				}
			}
			if !ok {
				break
			}
			if held = append(held, f); len(held) == 4 {
				release()
			}
		}
		for len(held) > 0 {
			release()
		}
	}()
	next := stressSizes(21, ring)
	var bytesRead int
	for i := 1; i <= count; i++ {
		f, err := r.ReadFrame(ctx)
		if err != nil {
			t.Errorf("frame %d: %v", i, err)
			break
		}
		n, seq := next(), uint64(i)
		if f.Sequence() != seq || f.Len() != n || !bytes.Equal(f.Data(), patternOf(seq, n)) {
			t.Errorf("frame %d: seq %d, %d bytes (want %d), content ok %v", i, f.Sequence(), f.Len(), n,
				bytes.Equal(f.Data(), patternOf(seq, n)))
			f.Release()
			break
		}
		bytesRead += n
		frames <- f
	}
	close(frames)
	if err := <-werr; err != nil && !t.Failed() {
		t.Errorf("writer: %v", err)
	}
	wg.Wait()
	t.Logf("%d frames, %d MB in %v (race detector %v)", count, bytesRead>>20, time.Since(start).Round(time.Millisecond), raceEnabled)
}

// cpuTime returns the CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// idleCPU measures the CPU share of this process while f blocks for d.
func idleCPU(t *testing.T, d time.Duration, f func(ctx context.Context)) float64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	c0, w0 := cpuTime(), time.Now()
	f(ctx)
	return float64(cpuTime()-c0) / float64(time.Since(w0))
}

// TestCrash_C22_SemaphoreDrift: tokens nobody earned on either semaphore
// (a foreign peer's stray post, a crash between wait and consume) never
// lose or duplicate a frame and never make a blocked side spin.
func TestCrash_C22_SemaphoreDrift(t *testing.T) {
	t.Run("extra sem-r tokens, blocked writer", func(t *testing.T) {
		name := testName(t)
		r := mustReader(t, name, 0, 4096, fastPeer)
		w := mustWriter(t, name, fastPeer)
		held := fillRing(t, w, 1000)
		if v, err := hostile.Post(name, platform.Dirs{}, hostile.SemR, 1000); err != nil || v < 1000 {
			t.Fatalf("post sem-r: %d %v", v, err)
		}
		var werr error
		cpu := idleCPU(t, 500*time.Millisecond, func(ctx context.Context) { werr = w.WriteFrame(ctx, make([]byte, 1000)) })
		t.Logf("writer blocked on a full ring with 1000 stray sem-r tokens: CPU %.1f%%, %v", 100*cpu, werr)
		if !errors.Is(werr, ErrBufferFull) {
			t.Errorf("write on a full ring: %v, want ErrBufferFull", werr)
		}
		if cpu > 0.25 {
			t.Errorf("CPU %.0f%% while blocked: busy spin (want < 5%%)", 100*cpu)
		}
		for i := 1; i <= held; i++ {
			f, err := r.ReadFrame(ctxT(t, time.Second))
			if err != nil || f.Sequence() != uint64(i) {
				t.Fatalf("frame %d: %v", i, err)
			}
			f.Release()
		}
		if err := w.WriteFrame(ctxT(t, time.Second), []byte("after")); err != nil {
			t.Fatal(err)
		}
		f, err := r.ReadFrame(ctxT(t, time.Second))
		if err != nil || string(f.Data()) != "after" {
			t.Fatalf("frame after the drift: %v", err)
		}
		f.Release()
	})
	t.Run("extra sem-w tokens, idle reader", func(t *testing.T) {
		name := testName(t)
		r := mustReader(t, name, 0, 4096, fastPeer)
		w := mustWriter(t, name, fastPeer)
		writeSeqs(t, w, 1, 3, 100)
		expectSeqs(t, r, 1, 3, nil)
		if _, err := hostile.Post(name, platform.Dirs{}, hostile.SemW, 5); err != nil {
			t.Fatal(err)
		}
		var f *Frame
		var rerr error
		cpu := idleCPU(t, 500*time.Millisecond, func(ctx context.Context) { f, rerr = r.ReadFrame(ctx) })
		if rerr == nil {
			seq, n := f.Sequence(), f.Len()
			f.Release()
			regressed(t, "a stray sem-w token makes the reader consume a frame that was never written: it read the "+
				"zeroed header at its position as a wrap marker and delivered the stale frame seq %d (%d bytes) from "+
				"ring offset 0 (the reader does not check payload_written_count before consuming a token)", seq, n)
		}
		if !errors.Is(rerr, context.DeadlineExceeded) {
			t.Fatalf("idle reader with stray tokens: %v, want the deadline", rerr)
		}
		t.Logf("idle reader with 5 stray sem-w tokens: CPU %.1f%% of one core", 100*cpu)
		if cpu > 0.25 {
			t.Errorf("CPU %.0f%% while idle: busy spin (want < 5%%)", 100*cpu)
		}
		writeSeqs(t, w, 4, 10, 100)
		expectSeqs(t, r, 4, 10, nil)
	})
	t.Run("stray posts while streaming", func(t *testing.T) {
		name := testName(t)
		r := mustReader(t, name, 0, 8192, fastPeer)
		w := mustWriter(t, name, fastPeer)
		count := 20000
		if testing.Short() || raceEnabled {
			count = 5000
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { // the drift: a stray token on each semaphore now and then
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				case <-time.After(2 * time.Millisecond):
					_, _ = hostile.Post(name, platform.Dirs{}, hostile.SemR, 1)
					_, _ = hostile.Post(name, platform.Dirs{}, hostile.SemW, 1)
				}
			}
		}()
		werr := make(chan error, 1)
		ctx := ctxT(t, time.Minute)
		go func() {
			defer wg.Done()
			next := frameSizes(22, 700)
			buf := make([]byte, 700)
			for i := 1; i <= count; i++ {
				n := next()
				pattern(buf[:n], uint64(i))
				if err := w.WriteFrame(ctx, buf[:n]); err != nil {
					werr <- err
					return
				}
			}
			werr <- nil
		}()
		next := frameSizes(22, 700)
		var bad string
		for i := 1; i <= count && bad == ""; i++ {
			f, err := r.ReadFrame(ctx)
			switch {
			case err != nil:
				bad = "frame " + strconv.Itoa(i) + ": " + err.Error()
			case f.Sequence() != uint64(i) || f.Len() != next() || checkPattern(f.Data(), uint64(i)) >= 0:
				bad = "frame " + strconv.Itoa(i) + ": got seq " + strconv.FormatUint(f.Sequence(), 10) + " (lost or duplicated frame)"
			}
			if f != nil {
				f.Release()
			}
		}
		close(stop)
		r.Close() // unblocks the writer if the reader gave up
		wg.Wait()
		if bad != "" {
			regressed(t, "stray sem-w tokens while streaming: %s", bad)
		}
		if err := <-werr; err != nil {
			t.Errorf("writer: %v", err)
		}
	})
}
