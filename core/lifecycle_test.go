package core

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"testing"
	"time"

	"github.com/zerobuffer/zerobuffer-go/internal/testproc"
)

func TestMetadata_WriteOnce(t *testing.T) {
	name := testName(t)
	r := mustReader(t, name, 1024, 10240)
	if m, err := r.Metadata(); m != nil || err != nil {
		t.Fatalf("fresh buffer: %q, %v; want nil, nil", m, err)
	}
	w := mustWriter(t, name)
	meta := bytes.Repeat([]byte("m"), 500)
	if err := w.SetMetadata(meta); err != nil {
		t.Fatal(err)
	}
	if err := w.SetMetadata([]byte("again")); !errors.Is(err, ErrMetadataAlreadyWritten) {
		t.Fatalf("second write: %v", err)
	}
	got, err := r.Metadata()
	if err != nil || !bytes.Equal(got, meta) {
		t.Fatalf("metadata %d bytes, %v", len(got), err)
	}
	w.Close()
	w2 := mustWriter(t, name)
	if err := w2.SetMetadata([]byte("x")); !errors.Is(err, ErrMetadataAlreadyWritten) {
		t.Fatalf("new writer on written metadata: %v", err)
	}
	if got, _ := w2.Metadata(); !bytes.Equal(got, meta) {
		t.Fatalf("writer sees %d bytes of metadata", len(got))
	}
}

func TestMetadata_TooLargeAndZeroBlock(t *testing.T) {
	name := testName(t)
	mustReader(t, name, 1024, 10240)
	w := mustWriter(t, name)
	if err := w.SetMetadata(make([]byte, 2048)); !errors.Is(err, ErrMetadataTooLarge) {
		t.Fatalf("2 KiB into 1 KiB: %v", err)
	}
	if err := w.SetMetadata(make([]byte, 1024-8)); err != nil {
		t.Fatalf("exact fit: %v", err)
	}

	name0 := testName(t)
	r0 := mustReader(t, name0, 0, 10240)
	w0 := mustWriter(t, name0)
	if err := w0.SetMetadata([]byte("x")); !errors.Is(err, ErrMetadataTooLarge) {
		t.Fatalf("zero block: %v", err)
	}
	if err := w0.WriteFrame(context.Background(), []byte("frame")); err != nil {
		t.Fatal(err)
	}
	f, err := r0.ReadFrame(ctxT(t, time.Second))
	if err != nil || string(f.Data()) != "frame" {
		t.Fatalf("frame after failed metadata: %v", err)
	}
	f.Release()
}

func TestWriter_FrameSizes(t *testing.T) {
	name := testName(t)
	r := mustReader(t, name, 0, 64)
	w := mustWriter(t, name)
	ctx := ctxT(t, 5*time.Second)
	if err := w.WriteFrame(ctx, nil); !errors.Is(err, ErrInvalidFrameSize) {
		t.Fatalf("empty frame: %v", err)
	}
	start := time.Now()
	if err := w.WriteFrame(ctx, make([]byte, 49)); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("49 B into 64 B ring: %v", err)
	}
	if d := time.Since(start); d > time.Second { // immediate; generous for a loaded machine
		t.Errorf("FrameTooLarge took %v, want immediate", d)
	}
	if err := w.WriteFrame(ctx, []byte{7}); err != nil {
		t.Fatal(err)
	}
	f, err := r.ReadFrame(ctx)
	if err != nil || f.Len() != 1 || f.Data()[0] != 7 || f.Sequence() != 1 {
		t.Fatalf("1-byte frame: %v", err)
	}
	f.Release()
	if free := r.v.load(offFree); free != 64 {
		t.Errorf("free after release %d, want 64", free)
	}
}

func TestWriter_ExactFitBlocksThenResumes(t *testing.T) {
	name := testName(t)
	r := mustReader(t, name, 0, 10240)
	w := mustWriter(t, name)
	ctx := ctxT(t, 5*time.Second)
	if err := w.WriteFrame(ctx, make([]byte, 10240-16)); err != nil {
		t.Fatal(err)
	}
	if free := r.v.load(offFree); free != 0 {
		t.Fatalf("free %d after exact fit", free)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := w.WriteFrame(short, []byte{1}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("write into full ring: %v", err)
	}
	f, err := r.ReadFrame(ctx)
	if err != nil || f.Len() != 10224 {
		t.Fatalf("read: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- w.WriteFrame(ctx, []byte{1}) }()
	time.Sleep(20 * time.Millisecond)
	f.Release()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Second):
		t.Fatal("writer not released after the reader freed space")
	}
}

// TestWriter_WrapWithMarker: a frame leaves 100 bytes at the end, the next
// 200-byte frame wraps: marker at the old position, free reduced by the
// waste, frame at 0, and the reader jumps over the marker.
func TestWriter_WrapWithMarker(t *testing.T) {
	name := testName(t)
	r := mustReader(t, name, 0, 4096)
	w := mustWriter(t, name)
	ctx := ctxT(t, 5*time.Second)
	first := make([]byte, 4096-100-16)
	pattern(first, 1)
	if err := w.WriteFrame(ctx, first); err != nil {
		t.Fatal(err)
	}
	f, _ := r.ReadFrame(ctx)
	f.Release()
	second := make([]byte, 200)
	pattern(second, 2)
	if err := w.WriteFrame(ctx, second); err != nil {
		t.Fatal(err)
	}
	o := r.v.snapshot()
	if o.PayloadWritePos != 216 || o.PayloadWrittenCount != 3 || o.PayloadFreeBytes != 4096-100-216 {
		t.Fatalf("after wrap: write_pos %d written %d free %d", o.PayloadWritePos, o.PayloadWrittenCount, o.PayloadFreeBytes)
	}
	if h := r.v.ring[3996:4012]; !bytes.Equal(h, make([]byte, 16)) {
		t.Fatalf("no wrap marker at 3996: % x", h)
	}
	f, err := r.ReadFrame(ctx)
	if err != nil || f.Sequence() != 2 || checkPattern(f.Data(), 2) >= 0 {
		t.Fatalf("frame after marker: %v", err)
	}
	f.Release()
	assertRestState(t, r)
}

// TestWriter_NoShortTail: a frame that would leave 1..15 bytes before the
// end wraps early (docs/PROTOCOL.md section 5.5), so no reader ever meets an unmarked tail.
func TestWriter_NoShortTail(t *testing.T) {
	name := testName(t)
	r := mustReader(t, name, 0, 4096)
	w := mustWriter(t, name)
	ctx := ctxT(t, 5*time.Second)
	for i, n := range []int{3000, 4096 - 3016 - 16 - 10} { // second leaves 10 bytes
		if err := w.WriteFrame(ctx, make([]byte, n)); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if i == 0 {
			f, _ := r.ReadFrame(ctx)
			f.Release()
		}
	}
	if pos := r.v.load(offWritePos); pos != 1070 {
		t.Fatalf("write_pos %d: the frame should have wrapped to 0 (ending at 1070)", pos)
	}
	f, err := r.ReadFrame(ctx)
	if err != nil || f.Len() != 1070-16 {
		t.Fatalf("read: %v", err)
	}
	f.Release()
}

func TestWriter_BeforeReader(t *testing.T) {
	_, err := NewWriter(testName(t))
	if !errors.Is(err, fs.ErrNotExist) || !errors.Is(err, ErrNotFound) {
		t.Fatalf("NewWriter without reader: %v, want fs.ErrNotExist", err)
	}
}

func TestReader_SecondRefused(t *testing.T) {
	name := testName(t)
	mustReader(t, name, 0, 4096)
	_, err := NewReader(name, BufferConfig{PayloadSize: 4096})
	if !errors.Is(err, ErrReaderExists) || !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second reader: %v", err)
	}
}

func TestWriter_SecondRefused(t *testing.T) {
	name := testName(t)
	mustReader(t, name, 0, 4096)
	mustWriter(t, name)
	_, err := NewWriter(name)
	if !errors.Is(err, ErrWriterExists) || !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second writer: %v", err)
	}
}

// TestReader_NewWriterAfterClose: after io.EOF a new writer connects and
// its sequence restarts at 1.
func TestReader_NewWriterAfterClose(t *testing.T) {
	name := testName(t)
	r := mustReader(t, name, 0, 4096)
	ctx := ctxT(t, 5*time.Second)
	for round := 0; round < 3; round++ {
		w := mustWriter(t, name)
		for i := 0; i < 3; i++ {
			if err := w.WriteFrame(ctx, []byte{byte(i)}); err != nil {
				t.Fatal(err)
			}
		}
		w.Close()
		for i := 0; i < 3; i++ {
			f, err := r.ReadFrame(ctx)
			if err != nil || f.Sequence() != uint64(i+1) {
				t.Fatalf("round %d frame %d: %v", round, i, err)
			}
			f.Release()
		}
		for range 2 { // EOF is repeated, like a closed channel
			if _, err := r.ReadFrame(ctx); !errors.Is(err, io.EOF) {
				t.Fatalf("round %d: %v, want io.EOF", round, err)
			}
		}
	}
}

// TestReader_OutOfOrderRelease: a held frame is never overwritten, even
// when later frames are released first (docs/PROTOCOL.md W11).
func TestReader_OutOfOrderRelease(t *testing.T) {
	name := testName(t)
	r := mustReader(t, name, 0, 1024)
	w := mustWriter(t, name)
	ctx := ctxT(t, 5*time.Second)
	buf := make([]byte, 300)
	for i := uint64(1); i <= 3; i++ {
		pattern(buf, i)
		if err := w.WriteFrame(ctx, buf); err != nil {
			t.Fatal(err)
		}
	}
	f1, _ := r.ReadFrame(ctx)
	f2, _ := r.ReadFrame(ctx)
	f3, _ := r.ReadFrame(ctx)
	f3.Release()
	f2.Release()
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	pattern(buf, 4)
	if err := w.WriteFrame(short, buf); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("write while frame 1 is held: %v (must wait)", err)
	}
	if checkPattern(f1.Data(), 1) >= 0 {
		t.Fatal("held frame overwritten")
	}
	f1.Release()
	if err := w.WriteFrame(ctx, buf); err != nil {
		t.Fatal(err)
	}
}

// TestClose_WakesBlockedCalls (C18): Close and cancellation end blocked
// calls promptly.
func TestClose_WakesBlockedCalls(t *testing.T) {
	name := testName(t)
	r, err := NewReader(name, BufferConfig{PayloadSize: 4096})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := r.ReadFrame(context.Background()); done <- err }()
	time.Sleep(20 * time.Millisecond)
	start := time.Now()
	r.Close()
	select {
	case err := <-done:
		if !errors.Is(err, os.ErrClosed) {
			t.Fatalf("ReadFrame after Close: %v", err)
		}
		if d := time.Since(start); d > 500*time.Millisecond { // ms when idle; a loaded machine is slower
			t.Errorf("Close took %v to wake ReadFrame", d)
		}
	case <-time.After(time.Second):
		t.Fatal("ReadFrame not woken by Close")
	}

	name2 := testName(t)
	r2 := mustReader(t, name2, 0, 4096)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { _, err := r2.ReadFrame(ctx); done <- err }()
	time.Sleep(20 * time.Millisecond)
	start = time.Now()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled ReadFrame: %v", err)
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("cancel took %v", d)
	}

	w := mustWriter(t, name2)
	if err := w.WriteFrame(context.Background(), make([]byte, 4096-16)); err != nil {
		t.Fatal(err)
	}
	go func() { done <- w.WriteFrame(context.Background(), []byte{1}) }()
	time.Sleep(20 * time.Millisecond)
	w.Close()
	if err := <-done; !errors.Is(err, os.ErrClosed) {
		t.Fatalf("blocked write after Close: %v", err)
	}
	if err := w.WriteFrame(context.Background(), []byte{1}); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("write after Close: %v", err)
	}
}

// TestReader_FrameOutlivesClose (C19): a frame held across Close stays
// readable; the memory goes away with its Release.
func TestReader_FrameOutlivesClose(t *testing.T) {
	name := testName(t)
	r, err := NewReader(name, BufferConfig{PayloadSize: 4096})
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewWriter(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteFrame(context.Background(), []byte("held")); err != nil {
		t.Fatal(err)
	}
	f, err := r.ReadFrame(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	if string(f.Data()) != "held" {
		t.Fatal("frame data changed after Close")
	}
	if len(testproc.Leftovers(name)) > 1 { // only the writer lock may remain
		t.Fatalf("objects left after Close: %v", testproc.Leftovers(name))
	}
	f.Release()
	f.Release()
	if !r.unmapped {
		t.Fatal("mapping not released with the last frame")
	}
	if err := w.WriteFrame(context.Background(), []byte("x")); !errors.Is(err, ErrReaderDead) {
		t.Fatalf("write after reader Close: %v", err)
	}
	w.Close()
}

// TestReader_NoPhantomFrameAtClose: the writer's last post can land
// between the reader's empty token check and its look at writer_pid;
// the reader must still deliver exactly the frames written, then io.EOF.
func TestReader_NoPhantomFrameAtClose(t *testing.T) {
	name := testName(t)
	r := mustReader(t, name, 0, 64<<10)
	ctx := ctxT(t, time.Minute)
	const frames = 40
	for round := 0; round < 300; round++ {
		w, err := NewWriter(name)
		if err != nil {
			t.Fatal(err)
		}
		closed := make(chan struct{})
		go func() {
			defer close(closed)
			for i := 1; i <= frames; i++ {
				_ = w.WriteFrame(ctx, patternOf(uint64(i), 64))
			}
			w.Close()
		}()
		for i := 1; ; i++ {
			f, err := r.ReadFrame(ctx)
			if errors.Is(err, io.EOF) {
				if i != frames+1 {
					t.Fatalf("round %d: io.EOF after %d frames, want %d", round, i-1, frames)
				}
				break
			}
			if err != nil {
				t.Fatalf("round %d frame %d: %v", round, i, err)
			}
			if i > frames || f.Sequence() != uint64(i) || !bytes.Equal(f.Data(), patternOf(uint64(i), 64)) {
				t.Fatalf("round %d: frame %d has seq %d (phantom or out of order)", round, i, f.Sequence())
			}
			f.Release()
		}
		// The next round's writer connects after this Close has returned:
		// the reader sees io.EOF as soon as writer_pid is zeroed, before
		// Close gives up the writer lock.
		<-closed
	}
}

func TestWriter_AbortDropsReservation(t *testing.T) {
	name := testName(t)
	r := mustReader(t, name, 0, 4096)
	w := mustWriter(t, name)
	ctx := ctxT(t, 5*time.Second)
	if err := w.Abort(); !errors.Is(err, ErrNoReservation) {
		t.Fatalf("Abort without Reserve: %v", err)
	}
	b, err := w.Reserve(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	copy(b, "dropped")
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteFrame(ctx, []byte("kept")); err != nil {
		t.Fatal(err)
	}
	f, err := r.ReadFrame(ctx)
	if err != nil || string(f.Data()) != "kept" || f.Sequence() != 1 {
		t.Fatalf("after Abort: %q seq %d %v", f.Data(), f.Sequence(), err)
	}
	f.Release()
	if r.WriterPID() != w.ReaderPID() || r.WriterPID() == 0 {
		t.Fatalf("in one process both PIDs are ours: %d %d", r.WriterPID(), w.ReaderPID())
	}
}

// TestWriter_ReleasedPromptlyWithBacklog: a writer blocked for
// space is released as soon as the reader releases enough, although the
// reader still holds unread frames (its other releases are batched).
func TestWriter_ReleasedPromptlyWithBacklog(t *testing.T) {
	name := testName(t)
	r := mustReader(t, name, 0, 64<<10)
	w := mustWriter(t, name)
	ctx := ctxT(t, 10*time.Second)
	frame := make([]byte, 1000)
	fillRing(t, w, len(frame))
	var worst time.Duration
	for i := 0; i < 20; i++ {
		released := make(chan time.Time, 1)
		done := make(chan time.Duration, 1)
		go func() {
			if err := w.WriteFrame(ctx, frame); err != nil {
				t.Error(err)
			}
			done <- time.Since(<-released)
		}()
		time.Sleep(5 * time.Millisecond) // the writer is asleep on sem-r by now, or the late flush serves it
		f, err := r.ReadFrame(ctx)
		if err != nil {
			t.Fatal(err)
		}
		f.Release()
		released <- time.Now()
		worst = max(worst, <-done)
	}
	t.Logf("writer released at most %v after the release that made room", worst)
	if worst > 500*time.Millisecond { // generous: the promise is 1ms on an idle machine, a loaded 2-core one is slower
		t.Errorf("writer released %v after the space was freed", worst)
	}
}

// TestWriter_ReleaseBeforeWaitReachesWriter: a frame released while the
// reader still has a backlog, before the writer starts to wait for that
// space, reaches the writer although the reader makes no further call
// (the late flush). Without it the writer waited for the reader's next
// call, here for ever: this goroutine is the reader and waits for the
// writer.
func TestWriter_ReleaseBeforeWaitReachesWriter(t *testing.T) {
	name := testName(t)
	r := mustReader(t, name, 0, 64<<10)
	w := mustWriter(t, name)
	frame := make([]byte, 1000)
	fillRing(t, w, len(frame))
	f, err := r.ReadFrame(ctxT(t, 10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Release(); err != nil { // 63 frames still pending: nothing forces a publish
		t.Fatal(err)
	}
	if err := w.WriteFrame(ctxT(t, 5*time.Second), frame); err != nil {
		t.Fatalf("the writer did not get the space released before it waited: %v", err)
	}
}

// The Writer's reader queries may race with Close: they must see a closed
// Writer, never a released mapping (seen by the race detector in CI).
func TestWriter_QueriesRaceClose(t *testing.T) {
	for range 20 {
		name := testName(t)
		mustReader(t, name, 0, 4096)
		w, err := NewWriter(name)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			for range 200 {
				_ = w.ReaderConnected()
				_ = w.ReaderPID()
			}
		}()
		time.Sleep(50 * time.Microsecond)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		<-done
		if w.ReaderConnected() || w.ReaderPID() != 0 {
			t.Fatal("a closed Writer reports a reader")
		}
	}
}
