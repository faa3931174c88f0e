//go:build linux && zbfailpoint

package core

// Reliability matrix rows that need failpoints compiled into the child
// processes: C1, C2, C9, C22 (crash between wait and consume) and C24.
// Run with: go test -tags zbfailpoint -run 'Crash_C' ./core/

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/zerobuffer/zerobuffer-go/internal/testproc"
)

// startFailpoint starts role with ZB_FAILPOINT=point:nth:kill.
func startFailpoint(t *testing.T, point string, nth int, role string, args ...string) *testproc.Proc {
	t.Helper()
	return testproc.StartEnv(t, []string{fmt.Sprintf("ZB_FAILPOINT=%s:%d:kill", point, nth)}, role, args...)
}

// expectKilled waits for the child and checks that the failpoint killed it.
func expectKilled(t *testing.T, p *testproc.Proc, point string) {
	t.Helper()
	code, err := p.Wait(20 * time.Second)
	if err != nil || code != -1 {
		var said []string
		for l, err := p.Line(10 * time.Millisecond); err == nil; l, err = p.Line(10 * time.Millisecond) {
			said = append(said, l)
		}
		t.Fatalf("child did not die at %s: exit %d, %v, said %q", point, code, err, said)
	}
}

// readUntilDead reads pattern frames 1, 2, ... until ErrWriterDead and
// returns how many arrived intact and in order, and when the error came.
func readUntilDead(t *testing.T, r *Reader, next func() int) (int, time.Time) {
	t.Helper()
	for i := 1; ; i++ {
		f, err := r.ReadFrame(ctxT(t, 20*time.Second))
		if errors.Is(err, ErrWriterDead) {
			return i - 1, time.Now()
		}
		if err != nil {
			t.Fatalf("after %d frames: %v", i-1, err)
		}
		n := next()
		if f.Sequence() != uint64(i) || f.Len() != n {
			t.Fatalf("frame %d: seq %d, %d bytes, want %d bytes", i, f.Sequence(), f.Len(), n)
		}
		if at := checkPattern(f.Data(), uint64(i)); at >= 0 {
			t.Fatalf("frame %d (%d bytes): byte %d breaks the pattern: partial frame delivered", i, n, at)
		}
		f.Release()
	}
}

// writerKilledAt runs a child writer (role "writer": mode, seed 1,
// frames up to 2000 bytes through an 8 KiB ring, so it wraps every few
// frames) that is killed at the nth hit of point, and returns how many
// frames the reader got before ErrWriterDead.
func writerKilledAt(t *testing.T, point, mode string, nth int) int {
	name := testName(t)
	r := mustReader(t, name, 0, 8192, fastPeer)
	p := startFailpoint(t, point, nth, "writer", name, mode, strconv.Itoa(nth+100), "1", "2000", "close")
	death := watchDeath(p)
	got, at := readUntilDead(t, r, frameSizes(1, 2000))
	expectKilled(t, p, point)
	checkLatency(t, "writer death at "+point, death.since(at))
	if _, err := r.ReadFrame(ctxT(t, time.Second)); !errors.Is(err, ErrWriterDead) {
		t.Errorf("ErrWriterDead not repeated: %v", err)
	}
	return got
}

// TestCrash_C1_WriterKilledMidFrame: a writer killed anywhere inside a
// frame (after the space is reserved, after the header, half way through
// the payload, before publication) costs exactly that frame: frames
// 1..N-1 arrive intact and in order, then ErrWriterDead.
func TestCrash_C1_WriterKilledMidFrame(t *testing.T) {
	const nth = 40
	cases := []struct{ point, mode string }{
		{"writer.afterReserve", "copy"},
		{"writer.afterReserve", "reserve"},
		{"writer.afterHeader", "copy"},
		{"writer.afterHeader", "reserve"},
		{"writer.midPayload", "copy"},
		{"writer.beforePublish", "copy"},
		{"writer.beforePublish", "reserve"},
	}
	for _, c := range cases {
		t.Run(c.point+"/"+c.mode, func(t *testing.T) {
			if got := writerKilledAt(t, c.point, c.mode, nth); got != nth-1 {
				t.Errorf("reader got %d frames, want %d", got, nth-1)
			}
		})
	}
	t.Run("writer.beforePublish/batch", func(t *testing.T) {
		// AppendFrame publishes every 16 frames (and before waiting for
		// space): what arrives is a gap-free prefix of what was flushed.
		got := writerKilledAt(t, "writer.beforePublish", "batch", nth)
		if got > nth-1 || got < (nth-1)/16*16 {
			t.Errorf("reader got %d frames, want %d..%d", got, (nth-1)/16*16, nth-1)
		}
	})
}

// TestCrash_C2_WriterKilledAfterPublishBeforePost: a frame whose position
// was published but whose semaphore post never happened is still
// delivered (the reader's bounded wait re-checks written_count), then
// ErrWriterDead.
func TestCrash_C2_WriterKilledAfterPublishBeforePost(t *testing.T) {
	const nth = 25
	for _, mode := range []string{"copy", "reserve"} {
		t.Run(mode, func(t *testing.T) {
			if got := writerKilledAt(t, "writer.afterPublishBeforePost", mode, nth); got != nth {
				t.Errorf("reader got %d frames, want %d (the published, unposted frame included)", got, nth)
			}
		})
	}
}

// TestCrash_C9_CrashMidInitialisation: a reader killed while creating the
// buffer leaves objects a writer refuses (ErrNotReady or ErrNotFound,
// within NewWriter's one-second wait, without touching them), and the next
// reader replaces.
func TestCrash_C9_CrashMidInitialisation(t *testing.T) {
	for _, point := range []string{"reader.beforeSemaphores", "reader.beforeInitDone"} {
		t.Run(point, func(t *testing.T) {
			name := testName(t)
			t.Cleanup(func() { reclaim(name) })
			p := startFailpoint(t, point, 1, "rel-init-reader", name)
			expectKilled(t, p, point)
			t.Logf("left by the crash: %v", testproc.Leftovers(name))
			ino := inode(t, "/dev/shm/"+name)
			start := time.Now()
			w, err := NewWriter(name, fastPeer)
			took := time.Since(start)
			if err == nil {
				w.Close()
				t.Fatal("NewWriter connected to a half-initialised buffer")
			}
			t.Logf("NewWriter on the half-made buffer after %v: %v", took, err)
			if !errors.Is(err, ErrNotReady) && !errors.Is(err, ErrNotFound) {
				t.Errorf("got %v, want ErrNotReady or ErrNotFound", err)
			}
			if took > time.Second+hardBound {
				t.Errorf("NewWriter took %v, want about 1s", took)
			}
			h := openHostile(t, name)
			if o := h.Snapshot(); o.WriterPID != 0 || o.OIEBSize != 0 {
				t.Errorf("refused writer changed the segment: %+v", o)
			}
			r := mustReader(t, name, 0, 4096, fastPeer)
			if inode(t, "/dev/shm/"+name) == ino {
				t.Error("new reader reused the half-made segment")
			}
			w = mustWriter(t, name, fastPeer)
			if err := w.WriteFrame(ctxT(t, time.Second), []byte("after")); err != nil {
				t.Fatal(err)
			}
			f, err := r.ReadFrame(ctxT(t, time.Second))
			if err != nil || string(f.Data()) != "after" || f.Sequence() != 1 {
				t.Fatalf("frame through the recreated buffer: %v", err)
			}
			f.Release()
		})
	}
}

// TestCrash_C22_ReaderKilledAfterWait: a reader killed after its wait took
// a token but before it consumed the frame: the writer gets ErrReaderDead
// within the budget, and a new reader and writer start clean at sequence 1.
func TestCrash_C22_ReaderKilledAfterWait(t *testing.T) {
	name := testName(t)
	t.Cleanup(func() { reclaim(name) })
	p := startFailpoint(t, "reader.afterWaitBeforeConsume", 1, "rel-waiting-owner", name, "4096")
	p.Expect("ready", 10*time.Second)
	w := mustWriter(t, name, fastPeer)
	death := watchDeath(p)
	time.Sleep(50 * time.Millisecond) // the reader sleeps in its wait
	if err := w.WriteFrame(ctxT(t, time.Second), []byte("token")); err != nil {
		t.Fatal(err)
	}
	expectKilled(t, p, "reader.afterWaitBeforeConsume")
	for {
		err := w.WriteFrame(ctxT(t, time.Second), []byte("x"))
		if errors.Is(err, ErrReaderDead) {
			checkLatency(t, "reader death after wait", death.since(time.Now()))
			break
		}
		if err != nil || death.since(time.Now()) > 5*time.Second {
			t.Fatalf("writer after the reader died: %v", err)
		}
		time.Sleep(time.Millisecond)
	}
	w.Close()
	r := mustReader(t, name, 0, 4096, fastPeer)
	w2 := mustWriter(t, name, fastPeer)
	for i := 1; i <= 3; i++ {
		if err := w2.WriteFrame(ctxT(t, time.Second), []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 1; i <= 3; i++ {
		f, err := r.ReadFrame(ctxT(t, time.Second))
		if err != nil || f.Sequence() != uint64(i) || f.Data()[0] != byte(i) {
			t.Fatalf("frame %d after replacement: %v", i, err)
		}
		f.Release()
	}
}

// TestCrash_C24_TornMetadata: a writer killed half way through writing the
// metadata leaves no metadata (never a partial one), and the next writer
// can write it.
func TestCrash_C24_TornMetadata(t *testing.T) {
	name := testName(t)
	r := mustReader(t, name, 2048, 4096, fastPeer)
	stop := make(chan struct{})
	seen := make(chan string, 1)
	go func() { // a reader polling the metadata all along
		defer close(seen)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if m, err := r.Metadata(); err != nil || m != nil {
				seen <- fmt.Sprintf("%d bytes, %v", len(m), err)
				return
			}
		}
	}()
	p := startFailpoint(t, "writer.midMetadata", 1, "rel-meta-writer", name, "1000")
	expectKilled(t, p, "writer.midMetadata")
	close(stop)
	if s, ok := <-seen; ok {
		t.Fatalf("metadata seen during the torn write: %s", s)
	}
	if m, err := r.Metadata(); m != nil || err != nil {
		t.Fatalf("after the torn write: %d bytes, %v; want no metadata", len(m), err)
	}
	w := mustWriter(t, name, fastPeer)
	want := bytes.Repeat([]byte("meta"), 125)
	if err := w.SetMetadata(want); err != nil {
		t.Fatalf("metadata after a torn write: %v", err)
	}
	if m, err := r.Metadata(); err != nil || !bytes.Equal(m, want) {
		t.Fatalf("metadata %d bytes, %v", len(m), err)
	}
}

// TestCrash_C2_KilledThenNewWriterUnseen: a writer is killed between
// publishing frame nth and posting its token, and a new Go writer
// connects before the reader has looked (so the reader never sees the
// first stream end). The reader gets the dead writer's published frames,
// then every frame of the new writer, the last one included, then io.EOF:
// the token the dead writer never posted must not cost the new writer's
// last frame when that writer detaches.
func TestCrash_C2_KilledThenNewWriterUnseen(t *testing.T) {
	const nth, more = 25, 300
	for _, mode := range []string{"copy", "batch"} {
		t.Run(mode, func(t *testing.T) {
			name := testName(t)
			r := mustReader(t, name, 0, 8192, fastPeer)
			// Frames of at most 100 bytes: 25 of them fit without reading.
			p := startFailpoint(t, "writer.afterPublishBeforePost", nth, "writer", name, "copy", strconv.Itoa(nth+100), "1", "100", "close")
			expectKilled(t, p, "writer.afterPublishBeforePost")
			w, err := NewWriter(name)
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() {
				buf := make([]byte, 600)
				next := frameSizes(2, 600)
				ctx := ctxT(t, time.Minute)
				for i := 1; i <= more; i++ {
					n := next()
					pattern(buf[:n], uint64(i))
					var err error
					if mode == "batch" {
						err = w.AppendFrame(ctx, buf[:n])
					} else {
						err = w.WriteFrame(ctx, buf[:n])
					}
					if err != nil {
						done <- fmt.Errorf("write %d: %w", i, err)
						return
					}
				}
				done <- w.Close()
			}()
			first, second := frameSizes(1, 100), frameSizes(2, 600)
			got := 0
			for i := 1; ; i++ {
				f, err := r.ReadFrame(ctxT(t, 20*time.Second))
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatalf("after %d frames: %v", got, err)
				}
				seq, n := uint64(i), 0
				if i <= nth {
					n = first()
				} else {
					seq = uint64(i - nth)
					n = second()
				}
				if f.Sequence() != seq || f.Len() != n || checkPattern(f.Data(), seq) >= 0 {
					t.Fatalf("frame %d: seq %d, %d bytes, want seq %d, %d bytes, intact", i, f.Sequence(), f.Len(), seq, n)
				}
				f.Release()
				got++
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if got != nth+more {
				t.Fatalf("reader got %d frames, want %d (%d of the killed writer, %d of the new one)", got, nth+more, nth, more)
			}
		})
	}
}
