package core

import (
	"context"
	"errors"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/zerobuffer/zerobuffer-go/internal/testproc"
)

// detectBound is the promised detection latency of a dead peer; tests
// fail only past hardBound, which leaves room for a loaded CI machine.
const (
	detectBound = 250 * time.Millisecond
	hardBound   = time.Second
)

func checkLatency(t *testing.T, what string, d time.Duration) {
	t.Helper()
	t.Logf("%s detected after %v", what, d)
	if d > hardBound {
		t.Errorf("%s detected after %v, want < %v", what, d, detectBound)
	}
}

// TestCrash_WriterKilled: a SIGKILLed writer is reported as ErrWriterDead
// to a blocked reader, after the frames it committed.
func TestCrash_WriterKilled(t *testing.T) {
	writerKilledWhileReaderBlocked(t, "writer death")
}

// writerKilledWhileReaderBlocked blocks a reader made with opts in
// ReadFrame, SIGKILLs its writer and checks how soon the reader learns of
// it.
func writerKilledWhileReaderBlocked(t *testing.T, what string, opts ...Option) {
	name := testName(t)
	r := mustReader(t, name, 0, 4096, opts...)
	p := testproc.Start(t, "idle-writer", name)
	p.Expect("wrote", 10*time.Second)
	ctx := ctxT(t, 10*time.Second)
	f, err := r.ReadFrame(ctx)
	if err != nil || string(f.Data()) != "alive" {
		t.Fatalf("first frame: %v", err)
	}
	f.Release()
	if !r.WriterConnected() {
		t.Fatal("WriterConnected false while the writer lives")
	}
	done := make(chan error, 1)
	go func() { _, err := r.ReadFrame(ctx); done <- err }()
	time.Sleep(50 * time.Millisecond)
	p.Kill()
	killed := time.Now()
	if err := <-done; !errors.Is(err, ErrWriterDead) {
		t.Fatalf("ReadFrame after writer death: %v", err)
	}
	checkLatency(t, what, time.Since(killed))
	if r.WriterConnected() {
		t.Error("WriterConnected true after death")
	}
}

// TestCrash_WriterKilledAfterFrames: committed frames are drained before
// ErrWriterDead.
func TestCrash_WriterKilledAfterFrames(t *testing.T) {
	name := testName(t)
	r := mustReader(t, name, 0, 1<<20)
	p := testproc.Start(t, "writer", name, "copy", "500", "3", "1000", "hang")
	p.Expect("done", 10*time.Second)
	p.Kill()
	next := frameSizes(3, 1000)
	ctx := ctxT(t, 10*time.Second)
	for i := 1; i <= 500; i++ {
		f, err := r.ReadFrame(ctx)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if f.Len() != next() || checkPattern(f.Data(), uint64(i)) >= 0 {
			t.Fatalf("frame %d corrupt", i)
		}
		f.Release()
	}
	if _, err := r.ReadFrame(ctx); !errors.Is(err, ErrWriterDead) {
		t.Fatalf("after drain: %v", err)
	}
}

// TestCrash_ReaderKilledWhileWriterBlocked: the writer blocked on a full
// ring gets ErrReaderDead when the reader process dies.
func TestCrash_ReaderKilledWhileWriterBlocked(t *testing.T) {
	readerKilledWhileWriterBlocked(t, "reader death (blocked writer)")
}

// readerKilledWhileWriterBlocked fills a held ring, blocks a writer made
// with opts in a write, kills the reader and checks how soon the writer
// learns of it.
func readerKilledWhileWriterBlocked(t *testing.T, what string, opts ...Option) {
	name := testName(t)
	p := testproc.Start(t, "holder", name, "4096", "2")
	p.Expect("ready", 10*time.Second)
	w := mustWriter(t, name, opts...)
	ctx := ctxT(t, 10*time.Second)
	for i := 0; i < 2; i++ {
		if err := w.WriteFrame(ctx, make([]byte, 1000)); err != nil {
			t.Fatal(err)
		}
	}
	p.Expect("held", 10*time.Second)
	fillRing(t, w, 1000)
	done := make(chan error, 1)
	go func() { done <- w.WriteFrame(ctx, make([]byte, 1000)) }()
	time.Sleep(50 * time.Millisecond)
	p.Kill()
	killed := time.Now()
	if err := <-done; !errors.Is(err, ErrReaderDead) {
		t.Fatalf("blocked write after reader death: %v", err)
	}
	checkLatency(t, what, time.Since(killed))
	w.Close() // on Windows the dead reader's objects live while this writer holds them
	cleanupStale(t, name)
}

// TestCrash_ReaderKilledWhileWriterStreams: a writer that never blocks
// also learns of the reader's death within the bound.
func TestCrash_ReaderKilledWhileWriterStreams(t *testing.T) {
	name := testName(t)
	p := testproc.Start(t, "holder", name, "1048576", "0")
	p.Expect("ready", 10*time.Second)
	p.Expect("held", 10*time.Second)
	w := mustWriter(t, name)
	ctx := ctxT(t, 10*time.Second)
	p.Kill()
	killed := time.Now()
	for {
		err := w.WriteFrame(ctx, []byte("tick"))
		if errors.Is(err, ErrReaderDead) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if time.Since(killed) > 5*time.Second {
			t.Fatal("writer never noticed the dead reader")
		}
		time.Sleep(time.Millisecond)
	}
	checkLatency(t, "reader death (streaming writer)", time.Since(killed))
	if w.ReaderConnected() {
		t.Error("ReaderConnected true after death")
	}
	w.Close()
	cleanupStale(t, name)
}

// cleanupStale removes what a killed reader left, through the documented
// path: a new reader of the same name.
func cleanupStale(t *testing.T, name string) {
	t.Helper()
	r, err := NewReader(name, BufferConfig{PayloadSize: 64})
	if err != nil {
		t.Fatalf("new reader over stale objects: %v", err)
	}
	r.Close()
}

// TestCrash_StaleCleanupOnlyThatName: the next reader of a killed reader's
// name replaces its leftovers and touches no other buffer.
func TestCrash_StaleCleanupOnlyThatName(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("inspects /dev/shm; on Windows objects vanish with their last handle, nothing is stale")
	}
	name, other := testName(t), testName(t)
	o := mustReader(t, other, 0, 4096)
	p := testproc.Start(t, "owner", name)
	p.Expect("ready", 10*time.Second)
	before, err := os.Stat("/dev/shm/" + name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewReader(name, BufferConfig{PayloadSize: 4096}); !errors.Is(err, ErrReaderExists) {
		t.Fatalf("reader while owner lives: %v", err)
	}
	p.Kill()
	if got := testproc.Leftovers(name); len(got) != 4 {
		t.Fatalf("after SIGKILL expected shm, 2 sems and lock, found %v", got)
	}
	r, err := NewReader(name, BufferConfig{PayloadSize: 4096})
	if err != nil {
		t.Fatalf("reader after owner died: %v", err)
	}
	after, _ := os.Stat("/dev/shm/" + name)
	if os.SameFile(before, after) {
		t.Error("stale segment reused instead of replaced")
	}
	if len(testproc.Leftovers(other)) != 4 || !o.WriterConnected() && o.v.load(offReaderPID) == 0 {
		t.Errorf("other buffer disturbed: %v", testproc.Leftovers(other))
	}
	r.Close()
}

// TestCrash_SecondWriterAcrossProcesses: a live writer in another process
// excludes this one; after its death a new writer connects and restarts
// the sequence at 1.
func TestCrash_SecondWriterAcrossProcesses(t *testing.T) {
	name := testName(t)
	r := mustReader(t, name, 0, 4096)
	p := testproc.Start(t, "idle-writer", name)
	p.Expect("wrote", 10*time.Second)
	if _, err := NewWriter(name); !errors.Is(err, ErrWriterExists) {
		t.Fatalf("second writer: %v", err)
	}
	p.Kill()
	w, err := NewWriter(name)
	if err != nil {
		t.Fatalf("writer after the first died: %v", err)
	}
	defer w.Close()
	if err := w.WriteFrame(context.Background(), []byte("new")); err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t, 5*time.Second)
	for _, want := range []string{"alive", "new"} {
		f, err := r.ReadFrame(ctx)
		if err != nil || string(f.Data()) != want || f.Sequence() != 1 {
			t.Fatalf("want %q seq 1: %v", want, err)
		}
		f.Release()
	}
}

// TestCrash_SecondReaderAcrossProcesses: exactly one reader per name.
func TestCrash_SecondReaderAcrossProcesses(t *testing.T) {
	name := testName(t)
	mustReader(t, name, 0, 4096)
	p := testproc.Start(t, "owner", name)
	line, _ := p.Line(10 * time.Second)
	if !strings.Contains(line, "already owns") {
		t.Fatalf("child reader: %q", line)
	}
}
