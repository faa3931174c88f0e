//go:build linux

package core

// Reliability matrix rows C3-C8: peers that die, hang or are replaced.

import (
	"context"
	"errors"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zerobuffer/zerobuffer-go/internal/hostile"
	"github.com/zerobuffer/zerobuffer-go/internal/testproc"
	"github.com/zerobuffer/zerobuffer-go/platform"
)

// TestCrash_C3_WriterKilledWhileBlocked: a writer killed while it waits
// for space loses nothing it committed: the reader drains every frame,
// then gets ErrWriterDead.
func TestCrash_C3_WriterKilledWhileBlocked(t *testing.T) {
	name := testName(t)
	r := mustReader(t, name, 0, 4096, fastPeer)
	p := testproc.Start(t, "rel-filler", name, "1000")
	last := 0
	lines := func(timeout time.Duration) {
		for {
			l, err := p.Line(timeout)
			if err != nil {
				return
			}
			if n, ok := strings.CutPrefix(l, "wrote "); ok {
				last = atoi(n)
			} else {
				t.Fatalf("filler: %s", l)
			}
		}
	}
	// The ring holds 4 frames of 1000 bytes; then the filler blocks.
	for deadline := time.Now().Add(10 * time.Second); last < 4 && time.Now().Before(deadline); {
		lines(300 * time.Millisecond)
	}
	lines(300 * time.Millisecond)
	if last != 4 {
		t.Fatalf("filler wrote %d frames before blocking, want 4", last)
	}
	// Read slowly, so that the writer blocks, wakes, writes and blocks again.
	for i := 1; i <= 2; i++ {
		time.Sleep(30 * time.Millisecond)
		expectSeqs(t, r, i, i, nil)
	}
	lines(200 * time.Millisecond)
	before := last
	p.Kill()
	killed := time.Now()
	lines(100 * time.Millisecond) // lines written before the death
	t.Logf("writer committed at least %d frames (%d when killed while blocked)", last, before)
	seq := 3
	for ; ; seq++ {
		f, err := r.ReadFrame(ctxT(t, 5*time.Second))
		if errors.Is(err, ErrWriterDead) {
			checkLatency(t, "writer death after draining", time.Since(killed))
			break
		}
		if err != nil {
			t.Fatalf("drain at %d: %v", seq, err)
		}
		if f.Sequence() != uint64(seq) || f.Len() != 1000 || checkPattern(f.Data(), uint64(seq)) >= 0 {
			t.Fatalf("drained frame %d: seq %d, %d bytes", seq, f.Sequence(), f.Len())
		}
		f.Release()
	}
	if got := seq - 1; got < last || got > last+1 {
		t.Errorf("drained up to frame %d, the writer reported %d committed", got, last)
	}
	if _, err := r.ReadFrame(ctxT(t, time.Second)); !errors.Is(err, ErrWriterDead) {
		t.Errorf("ErrWriterDead not repeated: %v", err)
	}
}

// blockOnDeadHolder starts a reader child that reads k frames and keeps
// them, fills the ring from this process and returns the writer, the child
// and a channel with the result of a write blocked on the full ring.
func blockOnDeadHolder(t *testing.T, name string, k int) (*Writer, *testproc.Proc, chan error) {
	t.Helper()
	p := testproc.Start(t, "holder", name, "4096", strconv.Itoa(k))
	p.Expect("ready", 10*time.Second)
	w := mustWriter(t, name, fastPeer)
	for range k {
		if err := w.WriteFrame(ctxT(t, 5*time.Second), make([]byte, 500)); err != nil {
			t.Fatal(err)
		}
	}
	p.Expect("held", 10*time.Second)
	n := fillRing(t, w, 500)
	t.Logf("holder keeps %d frames, %d more fill the ring", k, n)
	done := make(chan error, 1)
	go func() { done <- w.WriteFrame(ctxT(t, 10*time.Second), make([]byte, 500)) }()
	time.Sleep(30 * time.Millisecond)
	return w, p, done
}

// TestCrash_C4_ReaderKilledHoldingFrames: a reader killed while holding K
// unreleased frames ends the writer's blocked write with ErrReaderDead
// within the detection budget.
func TestCrash_C4_ReaderKilledHoldingFrames(t *testing.T) {
	for _, k := range []int{1, 3} {
		t.Run("K="+strconv.Itoa(k), func(t *testing.T) {
			name := testName(t)
			t.Cleanup(func() { reclaim(name) })
			w, p, done := blockOnDeadHolder(t, name, k)
			death := watchDeath(p)
			p.Kill()
			select {
			case err := <-done:
				if !errors.Is(err, ErrReaderDead) {
					t.Fatalf("blocked write after the reader died: %v", err)
				}
				checkLatency(t, "reader death (blocked writer)", death.since(time.Now()))
			case <-time.After(5 * time.Second):
				t.Fatal("blocked write never returned: deadlock")
			}
			if err := w.WriteFrame(ctxT(t, time.Second), []byte("x")); !errors.Is(err, ErrReaderDead) {
				t.Errorf("next write: %v, want sticky ErrReaderDead", err)
			}
		})
	}
}

// TestCrash_C5_ReaderReplacement: after a reader crash a new reader takes
// the name over (fresh objects), the old writer keeps ErrReaderDead, and a
// new writer starts at sequence 1.
func TestCrash_C5_ReaderReplacement(t *testing.T) {
	name := testName(t)
	t.Cleanup(func() { reclaim(name) })
	old, p, done := blockOnDeadHolder(t, name, 2)
	oldIno := inode(t, "/dev/shm/"+name)
	p.Kill()
	if err := <-done; !errors.Is(err, ErrReaderDead) {
		t.Fatalf("blocked write: %v", err)
	}

	q := testproc.Start(t, "rel-replacement", name)
	line := q.Expect("ready", 10*time.Second)
	newIno, _ := strconv.ParseUint(strings.TrimPrefix(line, "ready ino="), 10, 64)
	if newIno == oldIno {
		t.Errorf("new reader reused the dead reader's segment (inode %d)", oldIno)
	}
	if got := shmEntries(t, "/dev/shm", name); len(got) != 3 {
		t.Errorf("after replacement /dev/shm holds %v, want the segment and two semaphores", got)
	}
	if err := old.WriteFrame(ctxT(t, time.Second), []byte("lost")); !errors.Is(err, ErrReaderDead) {
		t.Errorf("old writer after replacement: %v, want ErrReaderDead", err)
	}
	// The old Writer saw ErrReaderDead but is still open: it should not
	// keep a new writer off the replacement buffer.
	blocked := false
	if w, err := NewWriter(name, fastPeer); err == nil {
		w.Close()
	} else {
		t.Logf("NewWriter while the dead-ended old Writer is still open: %v", err)
		blocked = errors.Is(err, ErrWriterExists)
		if !blocked {
			t.Errorf("NewWriter on the replacement buffer: %v", err)
		}
	}
	old.Close()
	w := mustWriter(t, name, fastPeer)
	if err := w.WriteFrame(ctxT(t, 5*time.Second), []byte("hello")); err != nil {
		t.Fatal(err)
	}
	q.Expect("frame seq=1 data=hello", 10*time.Second)
	w.Close()
	q.Send("close")
	if code, err := q.Wait(10 * time.Second); code != 0 || err != nil {
		t.Errorf("replacement reader: exit %d, %v", code, err)
	}
	if blocked {
		regressed(t, "a Writer that got ErrReaderDead keeps the Go writer lock of the name until Close, "+
			"so every new writer (any process) gets ErrWriterExists on the replacement buffer")
	}
}

// TestCrash_C6_HungWriter: a stopped (SIGSTOP) writer is hung, not dead:
// ReadFrame ends with the ctx deadline, never ErrWriterDead; after SIGCONT
// the stream continues with no frame lost.
func TestCrash_C6_HungWriter(t *testing.T) {
	name := testName(t)
	r := mustReader(t, name, 0, 16<<10, fastPeer)
	p := testproc.Start(t, "rel-pacer", name, "5", "200")
	p.Expect("connected", 10*time.Second)
	next := frameSizes(5, 200)
	expectSeqs(t, r, 1, 50, next)
	p.Signal(syscall.SIGSTOP)
	seq := 51
	for stopped := 0; stopped < 2; {
		start := time.Now() // before the deadline is set, so "took" cannot fall short of 200ms
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		f, err := r.ReadFrame(ctx)
		took := time.Since(start)
		cancel()
		if err == nil { // committed before the stop
			if f.Sequence() != uint64(seq) || f.Len() != next() || checkPattern(f.Data(), uint64(seq)) >= 0 {
				t.Fatalf("frame %d before the stop: seq %d", seq, f.Sequence())
			}
			f.Release()
			seq++
			continue
		}
		stopped++
		t.Logf("ReadFrame on a stopped writer returned after %v: %v", took, err)
		if errors.Is(err, ErrWriterDead) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("stopped writer: %v, want the deadline error, not ErrWriterDead", err)
		}
		if took < 200*time.Millisecond || took > 200*time.Millisecond+hardBound/2 {
			t.Errorf("deadline error after %v, want 200ms (+50ms, +500ms on a loaded machine)", took)
		}
	}
	if !r.WriterConnected() {
		t.Error("WriterConnected false for a stopped writer")
	}
	p.Signal(syscall.SIGCONT)
	expectSeqs(t, r, seq, seq+50, next)
	p.Kill()
}

// TestCrash_C7_PIDReuse decides liveness when writer_pid names a live
// process that is not the writer. The rules (objects.go writerAlive and
// readerAlive, writer.go takeWriterSlot):
//
//   - a Go writer holds writer/NAME.lock and writes its PID into it; a
//     free lock naming writer_pid means that writer died, whoever has
//     the PID now (PID reuse) -> ErrWriterDead;
//   - a free lock naming another PID, or no lock at all, is a foreign
//     (C++/C#/Python) writer: the PID decides, EPERM counts as alive;
//   - for the reader side the reader lock decides whatever reader_pid says.
func TestCrash_C7_PIDReuse(t *testing.T) {
	s := testproc.Start(t, "rel-sleeper")
	live, _ := strconv.ParseUint(strings.TrimPrefix(s.Expect("pid ", 10*time.Second), "pid "), 10, 64)

	// deadWriter leaves a buffer whose Go writer was SIGKILLed after one
	// frame, read and released, and a hostile mapping of it.
	deadWriter := func(t *testing.T) (string, *Reader, *hostile.Segment) {
		name := testName(t)
		r := mustReader(t, name, 0, 4096, fastPeer)
		p := testproc.Start(t, "idle-writer", name)
		p.Expect("wrote", 10*time.Second)
		f, err := r.ReadFrame(ctxT(t, 5*time.Second))
		if err != nil || string(f.Data()) != "alive" {
			t.Fatalf("first frame: %v", err)
		}
		f.Release()
		p.Kill()
		h, err := hostile.Open(name, platform.Dirs{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close() })
		return name, r, h
	}
	readEnd := func(r *Reader) (error, time.Duration) {
		start := time.Now()
		_, err := r.ReadFrame(ctxT(t, 300*time.Millisecond))
		return err, time.Since(start)
	}

	t.Run("lock names reused PID: dead", func(t *testing.T) {
		name, r, h := deadWriter(t)
		if err := os.WriteFile(writerLockPath(name), []byte(strconv.FormatUint(live, 10)+"\n"), 0o666); err != nil {
			t.Fatal(err)
		}
		h.PokeName("writer_pid", live)
		err, took := readEnd(r)
		if !errors.Is(err, ErrWriterDead) {
			t.Fatalf("writer_pid = live PID %d named by the free Go writer lock: %v, want ErrWriterDead", live, err)
		}
		checkLatency(t, "dead Go writer behind a reused PID", took)
		// A new Go writer may take over: the previous holder is dead.
		w := mustWriter(t, name, fastPeer)
		w.Close()
	})
	t.Run("lock names another PID: foreign writer, alive", func(t *testing.T) {
		_, r, h := deadWriter(t)
		h.PokeName("writer_pid", live)
		if err, _ := readEnd(r); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("writer_pid = live PID %d, free lock naming the old writer: %v, want a timeout (PID fallback: alive)", live, err)
		}
	})
	t.Run("no lock: PID fallback", func(t *testing.T) {
		name, r, h := deadWriter(t)
		if err := os.Remove(writerLockPath(name)); err != nil {
			t.Fatal(err)
		}
		h.PokeName("writer_pid", live)
		if err, _ := readEnd(r); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("foreign writer with live PID: %v, want a timeout", err)
		}
		if _, err := NewWriter(name); !errors.Is(err, ErrWriterExists) {
			t.Errorf("Go writer while a live foreign writer_pid is set: %v, want ErrWriterExists", err)
		}
		h.PokeName("writer_pid", 1) // init: alive (EPERM for non-root also counts as alive)
		if err, _ := readEnd(r); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("writer_pid 1: %v, want a timeout (alive)", err)
		}
		// The foreign writer's PID dies: detected through the PID path.
		g := testproc.Start(t, "rel-sleeper")
		gpid, _ := strconv.ParseUint(strings.TrimPrefix(g.Expect("pid ", 10*time.Second), "pid "), 10, 64)
		h.PokeName("writer_pid", gpid)
		done := make(chan error, 1)
		go func() { _, err := r.ReadFrame(ctxT(t, 5*time.Second)); done <- err }()
		time.Sleep(50 * time.Millisecond)
		death := watchDeath(g)
		g.Kill()
		if err := <-done; !errors.Is(err, ErrWriterDead) {
			t.Fatalf("foreign writer PID died: %v", err)
		}
		checkLatency(t, "foreign writer death (PID path)", death.since(time.Now()))
	})
	t.Run("reader lock free, reader_pid live: dead", func(t *testing.T) {
		name := testName(t)
		t.Cleanup(func() { reclaim(name) })
		p := testproc.Start(t, "owner", name)
		p.Expect("ready", 10*time.Second)
		w := mustWriter(t, name, fastPeer)
		p.Kill()
		killed := time.Now()
		h, err := hostile.Open(name, platform.Dirs{})
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		h.PokeName("reader_pid", live)
		if _, err := NewWriter(name); !errors.Is(err, ErrReaderDead) {
			t.Errorf("NewWriter, reader lock free, reader_pid live: %v, want ErrReaderDead", err)
		}
		for ; ; time.Sleep(time.Millisecond) {
			err := w.WriteFrame(ctxT(t, time.Second), []byte("x"))
			if errors.Is(err, ErrReaderDead) {
				checkLatency(t, "reader death (streaming writer, reader_pid live)", time.Since(killed))
				break
			}
			if err != nil || time.Since(killed) > 5*time.Second {
				t.Fatalf("connected writer: %v, want ErrReaderDead", err)
			}
		}
	})
}

// TestCrash_C8_StaleObjects: a new reader replaces exactly the objects a
// crashed reader of the same name left (new inodes, one segment and two
// semaphores), removes them all on Close, and touches no other name, live
// or stale.
func TestCrash_C8_StaleObjects(t *testing.T) {
	name, staleOther, liveOther := testName(t), testName(t), testName(t)
	t.Cleanup(func() { reclaim(name); reclaim(staleOther) })
	mustReader(t, liveOther, 0, 4096)
	for _, n := range []string{name, staleOther} {
		p := testproc.Start(t, "owner", n)
		p.Expect("ready", 10*time.Second)
		p.Kill()
	}
	objects := func(n string) []string {
		return []string{"/dev/shm/" + n, "/dev/shm/sem.sem-w-" + n, "/dev/shm/sem.sem-r-" + n, "/tmp/zerobuffer/" + n + ".lock"}
	}
	inodes := func(n string) []uint64 {
		var out []uint64
		for _, p := range objects(n) {
			out = append(out, inode(t, p))
		}
		return out
	}
	before, otherStale, otherLive := inodes(name), inodes(staleOther), inodes(liveOther)

	r, err := NewReader(name, BufferConfig{PayloadSize: 4096})
	if err != nil {
		t.Fatalf("NewReader over stale objects: %v", err)
	}
	got := shmEntries(t, "/dev/shm", name)
	want := []string{name, "sem.sem-r-" + name, "sem.sem-w-" + name}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("/dev/shm entries of the name: %v, want %v", got, want)
	}
	after := inodes(name)
	for i, p := range objects(name)[:3] {
		if after[i] == before[i] {
			t.Errorf("%s kept its inode %d: stale object reused", p, before[i])
		}
	}
	if !slices.Equal(inodes(staleOther), otherStale) || !slices.Equal(inodes(liveOther), otherLive) {
		t.Error("objects of other names were touched")
	}
	r.Close()
	if l := testproc.Leftovers(name); len(l) != 0 {
		t.Errorf("after Close: %v", l)
	}
	if len(testproc.Leftovers(staleOther)) != 4 {
		t.Errorf("stale objects of another name removed: %v", testproc.Leftovers(staleOther))
	}
}

// TestCrash_C11_NextWriterAfterDeath: after a writer died, the next writer
// is a new session: its frames arrive from sequence 1 and its graceful
// Close ends the stream with io.EOF, not with the previous ErrWriterDead.
func TestCrash_C11_NextWriterAfterDeath(t *testing.T) {
	name := testName(t)
	r := mustReader(t, name, 0, 64<<10, fastPeer)
	p := testproc.Start(t, "idle-writer", name)
	p.Expect("wrote", 10*time.Second)
	f, err := r.ReadFrame(ctxT(t, 5*time.Second))
	if err != nil || string(f.Data()) != "alive" {
		t.Fatalf("first frame: %v", err)
	}
	f.Release()
	p.Kill()
	if _, err := r.ReadFrame(ctxT(t, 5*time.Second)); !errors.Is(err, ErrWriterDead) {
		t.Fatalf("after the kill: %v", err)
	}
	// The next writer connects, writes and closes while the reader is
	// not looking.
	w := mustWriter(t, name, fastPeer)
	for i := 1; i <= 100; i++ {
		b := make([]byte, 10)
		pattern(b, uint64(i))
		if err := w.WriteFrame(ctxT(t, time.Second), b); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	expectSeqs(t, r, 1, 100, nil)
	_, err = r.ReadFrame(ctxT(t, time.Second))
	if errors.Is(err, ErrWriterDead) {
		regressed(t, "a writer that closes gracefully after a dead one is reported as ErrWriterDead, not io.EOF: "+
			"the reader keeps the dead session's end (session.ended) because it never saw the new writer_pid "+
			"while frames came with tokens")
	}
	if !errors.Is(err, io.EOF) {
		t.Fatalf("after the second writer's Close: %v, want io.EOF", err)
	}
}
