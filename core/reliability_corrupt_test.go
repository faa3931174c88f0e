//go:build linux

package core

// Reliability matrix rows C12 and C13: shared memory that holds
// impossible values, poked field by field or scribbled at random.

import (
	"context"
	"errors"
	"io"
	"math"
	"runtime/debug"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/zerobuffer/zerobuffer-go/internal/hostile"
	"github.com/zerobuffer/zerobuffer-go/internal/testproc"
	"github.com/zerobuffer/zerobuffer-go/platform"
)

func openHostile(t testing.TB, name string) *hostile.Segment {
	t.Helper()
	h, err := hostile.Open(name, platform.Dirs{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// wantCorrupt checks that err is a *CorruptError naming one of fields.
func wantCorrupt(t testing.TB, err error, fields ...string) {
	t.Helper()
	var ce *CorruptError
	if !errors.Is(err, ErrCorrupt) || !errors.As(err, &ce) {
		t.Fatalf("got %v, want a CorruptError naming %v", err, fields)
	}
	if !slices.Contains(fields, ce.Field) {
		t.Fatalf("CorruptError names %q (%v), want %v", ce.Field, err, fields)
	}
}

// TestCrash_C12_CorruptOIEBRejectedByWriter: a writer connecting to a
// buffer whose OIEB holds an impossible value refuses with a CorruptError
// naming the field (ErrVersion for a foreign major version) and changes
// nothing.
func TestCrash_C12_CorruptOIEBRejectedByWriter(t *testing.T) {
	const meta, payload = 256, 4096
	mapLen := uint64(128 + meta + payload)
	cases := []struct {
		field  string
		value  uint64
		expect []string // CorruptError fields; nil means ErrVersion
	}{
		{"oieb_size", 64, []string{"oieb_size"}},
		{"oieb_size", 0, []string{"oieb_size"}},
		{"version_major", 2, nil},
		{"version_major", 0, nil},
		{"metadata_size", 1 << 40, []string{"metadata_size"}},
		{"metadata_size", meta + 64, []string{"metadata_size", "payload_size"}},
		{"metadata_size", math.MaxUint64, []string{"metadata_size"}},
		{"payload_size", mapLen, []string{"payload_size"}},
		{"payload_size", math.MaxUint64, []string{"payload_size"}},
		{"payload_size", 16, []string{"payload_size"}},
		{"payload_write_pos", payload + 1, []string{"payload_write_pos"}},
		{"payload_write_pos", math.MaxUint64, []string{"payload_write_pos"}},
		{"payload_read_pos", payload + 1, []string{"payload_read_pos"}},
		{"payload_free_bytes", payload + 1, []string{"payload_free_bytes"}},
		{"payload_free_bytes", math.MaxUint64, []string{"payload_free_bytes"}},
		{"metadata_written_bytes", meta + 1, []string{"metadata_written_bytes"}},
	}
	for _, c := range cases {
		t.Run(c.field+"="+strconv.FormatUint(c.value, 10), func(t *testing.T) {
			name := testName(t)
			mustReader(t, name, meta, payload)
			h := openHostile(t, name)
			f, _ := hostile.FieldByName(c.field)
			h.Poke(f, c.value)
			start := time.Now()
			w, err := NewWriter(name)
			if err == nil {
				w.Close()
				t.Fatalf("NewWriter accepted %s = %d", c.field, c.value)
			}
			if c.expect == nil {
				if !errors.Is(err, ErrVersion) {
					t.Fatalf("got %v, want ErrVersion", err)
				}
			} else {
				wantCorrupt(t, err, c.expect...)
			}
			if d := time.Since(start); d > 500*time.Millisecond {
				t.Errorf("refusal took %v (not ErrNotReady retries)", d)
			}
			if pid := h.Snapshot().WriterPID; pid != 0 {
				t.Errorf("refused writer left writer_pid = %d", pid)
			}
		})
	}
}

// corruptPair is a reader and a writer with frames 1-3 (8 bytes each,
// pattern) written and frames 1-2 read and released: frame 3's header is
// at ring offset 48.
func corruptPair(t *testing.T) (*Reader, *Writer, *hostile.Segment) {
	name := testName(t)
	r := mustReader(t, name, 64, 4096, fastPeer)
	w := mustWriter(t, name, fastPeer)
	for i := 1; i <= 3; i++ {
		b := make([]byte, 8)
		pattern(b, uint64(i))
		if err := w.WriteFrame(ctxT(t, time.Second), b); err != nil {
			t.Fatal(err)
		}
	}
	expectSeqs(t, r, 1, 2, nil)
	return r, w, openHostile(t, name)
}

// assertSticky checks that the reader keeps failing with an error that
// matches sentinel, also after the writer sends more frames.
func assertSticky(t *testing.T, r *Reader, w *Writer, sentinel error) {
	t.Helper()
	for i := range 3 {
		if i == 1 {
			_ = w.WriteFrame(ctxT(t, 200*time.Millisecond), []byte("more"))
		}
		f, err := r.ReadFrame(ctxT(t, 200*time.Millisecond))
		if !errors.Is(err, sentinel) {
			if f != nil {
				t.Fatalf("after corruption, call %d returned frame seq %d: error not sticky", i, f.Sequence())
			}
			t.Fatalf("after corruption, call %d: %v, want sticky %v", i, err, sentinel)
		}
	}
}

// TestCrash_C12_CorruptFrameHeader: a frame header with an impossible
// size or an unexpected sequence number fails the reader with a
// CorruptError ("frame size") or a *SequenceError, for good.
func TestCrash_C12_CorruptFrameHeader(t *testing.T) {
	const at = 48 // frame 3
	sizeCases := []struct {
		label string
		size  uint64
	}{
		{"len=MaxUint64", math.MaxUint64},
		{"len>remaining", 4096 - at - 16 + 1},
		{"len=2^63", 1 << 63},
	}
	for _, c := range sizeCases {
		t.Run(c.label, func(t *testing.T) {
			r, w, h := corruptPair(t)
			if err := h.PokeHeader(at, c.size, 3); err != nil {
				t.Fatal(err)
			}
			_, err := r.ReadFrame(ctxT(t, time.Second))
			wantCorrupt(t, err, "frame size")
			assertSticky(t, r, w, ErrCorrupt)
		})
	}
	seqCases := []struct {
		label string
		seq   uint64
	}{
		{"seq gap", 5},
		{"seq duplicate", 2},
		{"seq regression", 0},
		{"seq MaxUint64", math.MaxUint64},
	}
	for _, c := range seqCases {
		t.Run(c.label, func(t *testing.T) {
			r, w, h := corruptPair(t)
			if err := h.PokeHeader(at, 8, c.seq); err != nil {
				t.Fatal(err)
			}
			_, err := r.ReadFrame(ctxT(t, time.Second))
			var se *SequenceError
			if !errors.As(err, &se) || !errors.Is(err, ErrSequence) || se.Expected != 3 || se.Got != c.seq {
				t.Fatalf("got %v, want SequenceError expected 3, got %d", err, c.seq)
			}
			assertSticky(t, r, w, ErrSequence)
		})
	}
	t.Run("seq=1 is a writer restart", func(t *testing.T) {
		// v1 has no writer epoch: a reconnecting writer starts again at 1,
		// so sequence 1 is accepted anywhere (documented in RELIABILITY.md).
		r, _, h := corruptPair(t)
		if err := h.PokeHeader(at, 8, 1); err != nil {
			t.Fatal(err)
		}
		f, err := r.ReadFrame(ctxT(t, time.Second))
		if err != nil || f.Sequence() != 1 || checkPattern(f.Data(), 3) >= 0 {
			t.Fatalf("restart at 1: %v", err)
		}
		f.Release()
	})
	t.Run("len=0 away from wrap", func(t *testing.T) {
		// A zero size reads as a wrap marker. The writer wraps only when the
		// next frame does not fit before the end, so a marker followed by a
		// frame that would have fit is corruption.
		r, w, h := corruptPair(t)
		if err := h.PokeHeader(at, 0, 3); err != nil {
			t.Fatal(err)
		}
		f, err := r.ReadFrame(ctxT(t, time.Second))
		if err == nil {
			seq, data := f.Sequence(), string(f.Data())
			f.Release()
			regressed(t, "len=0 at ring offset %d (4048 bytes before the end) is taken as a wrap marker: the reader "+
				"jumps to offset 0 and delivers the stale frame seq %d %q as a writer restart", at, seq, data)
		}
		wantCorrupt(t, err, "frame size")
		assertSticky(t, r, w, ErrCorrupt)
	})
	t.Run("written_count beyond the frames", func(t *testing.T) {
		// With the writer gone, written_count decides which unposted
		// frames are complete. A count that is too high must not turn
		// stale ring bytes into frames.
		r, w, h := corruptPair(t)
		expectSeqs(t, r, 3, 3, nil)
		w.Close()
		h.PokeName("payload_written_count", 1000)
		f, err := r.ReadFrame(ctxT(t, time.Second))
		if err == nil {
			seq := f.Sequence()
			f.Release()
			regressed(t, "written_count poked to 1000 after the writer closed: the reader delivers the stale frame "+
				"seq %d from ring offset 0 instead of io.EOF or ErrCorrupt", seq)
		}
		if !errors.Is(err, io.EOF) && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("got %v, want io.EOF or ErrCorrupt", err)
		}
	})
}

// TestCrash_C12_CorruptMetadata: the reader's metadata view validates
// metadata_written_bytes and the length prefix.
func TestCrash_C12_CorruptMetadata(t *testing.T) {
	name := testName(t)
	r := mustReader(t, name, 256, 4096)
	w := mustWriter(t, name)
	if err := w.SetMetadata([]byte("metadata")); err != nil {
		t.Fatal(err)
	}
	h := openHostile(t, name)
	h.PokeName("metadata_written_bytes", 257)
	_, err := r.Metadata()
	wantCorrupt(t, err, "metadata_written_bytes")
	h.PokeName("metadata_written_bytes", 16)
	if err := h.PokeBytes(128, []byte{200, 0, 0, 0, 0, 0, 0, 0}); err != nil { // length prefix 200 > 16-8
		t.Fatal(err)
	}
	_, err = r.Metadata()
	wantCorrupt(t, err, "metadata length")
	if _, err := w.Metadata(); !errors.Is(err, ErrCorrupt) {
		t.Errorf("writer's Metadata: %v, want ErrCorrupt", err)
	}
}

// TestCrash_C12_CorruptFreeBytesConnected: a connected writer that finds
// payload_free_bytes beyond the ring trusts none of it: it never writes
// over unread frames and never panics.
func TestCrash_C12_CorruptFreeBytesConnected(t *testing.T) {
	r, w, h := corruptPair(t)
	h.PokeName("payload_free_bytes", math.MaxUint64)
	err := w.WriteFrame(ctxT(t, 100*time.Millisecond), make([]byte, 100))
	t.Logf("write with free_bytes = MaxUint64: %v", err)
	if err != nil && !errors.Is(err, ErrBufferFull) && !errors.Is(err, ErrCorrupt) {
		t.Errorf("got %v, want success, ErrBufferFull or ErrCorrupt", err)
	}
	expectSeqs(t, r, 3, 3, nil) // frame 3 was not overwritten
}

// scribbleDuration is how long C13 scribbles: 10s as in RELIABILITY.md
// with ZB_SCRIBBLE=10s, 2.5s by default and 1s in -short mode.
func scribbleDuration() time.Duration {
	if d, err := time.ParseDuration(envOr("ZB_SCRIBBLE", "")); err == nil {
		return d
	}
	if testing.Short() {
		return time.Second
	}
	return 2500 * time.Millisecond
}

// TestCrash_C13_Scribbler: while another process writes random bytes over
// the whole segment, a reader looping ReadFrame(ctx 50ms) only ever gets
// frames or errors, every call returns by its deadline, nothing faults. A
// reader that hits sticky corruption is replaced by a new one (the
// scribbler follows the name), and a writer goroutine keeps reconnecting.
func TestCrash_C13_Scribbler(t *testing.T) {
	name := testName(t)
	const payload = 16 << 10
	r, err := NewReader(name, BufferConfig{MetadataSize: 256, PayloadSize: payload}, fastPeer)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { r.Close() }()

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var writerErrs sync.Map
	wg.Add(1)
	go func() { defer wg.Done(); scribbledWriter(name, stop, &writerErrs) }()
	p := testproc.Start(t, "rel-scribbler", name, "1")
	p.Expect("started", 10*time.Second)

	old := debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(old)
	var frames, replaced int
	var slowest time.Duration
	errs := map[string]int{}
	for end := time.Now().Add(scribbleDuration()); time.Now().Before(end); {
		start := time.Now() // before the deadline is set
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		f, err := r.ReadFrame(ctx)
		took := time.Since(start)
		cancel()
		slowest = max(slowest, took)
		if took > 50*time.Millisecond+hardBound/2 {
			t.Errorf("ReadFrame(ctx 50ms) returned after %v", took)
		}
		if err == nil {
			if f.Len() <= 0 || f.Len() > payload-16 {
				t.Fatalf("frame of %d bytes from a %d-byte ring", f.Len(), payload)
			}
			var sum byte
			for _, b := range f.Data() { // every byte must be readable
				sum += b
			}
			_ = sum
			f.Release()
			frames++
			continue
		}
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			errs["deadline"]++
		case errors.Is(err, io.EOF):
			errs["EOF"]++
		case errors.Is(err, ErrWriterDead):
			errs["writer dead"]++
		case errors.Is(err, ErrCorrupt), errors.Is(err, ErrSequence):
			errs["corrupt/sequence"]++
			if _, again := r.ReadFrame(ctx); !errors.Is(again, ErrCorrupt) && !errors.Is(again, ErrSequence) {
				t.Fatalf("corruption not sticky: %v then %v", err, again)
			}
			r.Close()
			if r, err = NewReader(name, BufferConfig{MetadataSize: 256, PayloadSize: payload}, fastPeer); err != nil {
				t.Fatalf("replacing the corrupted reader: %v", err)
			}
			replaced++
		default:
			t.Fatalf("unexpected error from a scribbled buffer: %v", err)
		}
	}
	close(stop)
	wg.Wait()
	p.Kill()
	t.Logf("frames %d, errors %v, readers replaced %d, slowest call %v", frames, errs, replaced, slowest)
	writerErrs.Range(func(k, v any) bool { t.Logf("writer: %v x%d", k, *v.(*int)); return true })
}

// scribbledWriter writes random-size frames into a buffer that is being
// scribbled on, reconnecting after every error that is not a timeout.
func scribbledWriter(name string, stop chan struct{}, errs *sync.Map) {
	var w *Writer
	defer func() {
		if w != nil {
			w.Close()
		}
	}()
	count := func(err error) {
		v, _ := errs.LoadOrStore(err.Error()[:min(len(err.Error()), 48)], new(int))
		*v.(*int)++
	}
	buf := make([]byte, 2000)
	for i := 1; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		if w == nil {
			var err error
			if w, err = NewWriter(name, fastPeer); err != nil {
				count(err)
				time.Sleep(2 * time.Millisecond)
				continue
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		err := w.WriteFrame(ctx, buf[:1+i%len(buf)])
		cancel()
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			count(err)
			w.Close()
			w = nil
		}
	}
}
