package core

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zerobuffer/zerobuffer-go/internal/testproc"
)

func init() {
	childRoles["stats-writer"] = roleStatsWriter
}

// statsLine renders the counters a child reports.
func statsLine(st Stats) string {
	return fmt.Sprintf("frames=%d bytes=%d blocked=%d waiting=%v hw=%d used=%d peer=%v errors=%v",
		st.Frames, st.Bytes, st.Blocked.Nanoseconds(), st.Waiting, st.RingHighWater, st.RingUsed, st.PeerAlive, st.Errors)
}

// parseStats reads back a statsLine.
func parseStats(t *testing.T, line string) (st Stats) {
	t.Helper()
	var blocked int64
	var errs string
	_, err := fmt.Sscanf(line, "stats frames=%d bytes=%d blocked=%d waiting=%t hw=%d used=%d peer=%t errors=%s",
		&st.Frames, &st.Bytes, &blocked, &st.Waiting, &st.RingHighWater, &st.RingUsed, &st.PeerAlive, &errs)
	if err != nil {
		t.Fatalf("parse %q: %v", line, err)
	}
	st.Blocked = time.Duration(blocked)
	return st
}

// roleStatsWriter: name. Commands: "write N SIZE" writes N frames (as
// WriteFrame, or with "reserve" as a fourth word as Reserve/Commit, or
// "batch" as one WriteFrames), "block SIZE" starts a write that does not
// fit, "stats" reports Stats, "wait-unblocked" waits for the blocked write,
// "close" closes. Every command answers with a "stats" line.
func roleStatsWriter(c *testproc.Child, a []string) int {
	w, err := connectWriter(a[0], 10*time.Second)
	if err != nil {
		c.Printf("fail connect: %v", err)
		return 1
	}
	ctx := context.Background()
	blocked := make(chan error, 1)
	for {
		line, ok := c.Next()
		if !ok {
			return 0
		}
		f := strings.Fields(line)
		switch f[0] {
		case "write":
			n, size := atoi(f[1]), atoi(f[2])
			p := make([]byte, size)
			mode := ""
			if len(f) > 3 {
				mode = f[3]
			}
			var err error
			switch mode {
			case "reserve":
				for range n {
					var b []byte
					if b, err = w.Reserve(ctx, size); err == nil {
						copy(b, p)
						err = w.Commit()
					}
				}
			case "batch":
				frames := make([][]byte, n)
				for i := range frames {
					frames[i] = p
				}
				_, err = w.WriteFrames(ctx, frames)
			default:
				for range n {
					if err = w.WriteFrame(ctx, p); err != nil {
						break
					}
				}
			}
			if err != nil {
				c.Printf("fail write: %v", err)
				return 1
			}
		case "block":
			p := make([]byte, atoi(f[1]))
			go func() { blocked <- w.WriteFrame(ctx, p) }()
			for !w.Stats().Waiting {
				time.Sleep(time.Millisecond)
			}
		case "wait-unblocked":
			if err := <-blocked; err != nil {
				c.Printf("fail blocked write: %v", err)
				return 1
			}
		case "close":
			w.Close()
		}
		c.Printf("stats %s", statsLine(w.Stats()))
	}
}

// TestStats_CountsAcrossProcesses: the writer (another process) and the
// reader count the same frames and bytes, whatever the write path; the
// ring use, high-water mark and peer liveness follow what happened.
func TestStats_CountsAcrossProcesses(t *testing.T) {
	name := testName(t)
	r := mustReader(t, name, 0, 64<<10)
	w := testproc.Start(t, "stats-writer", name)
	w.Send("stats")
	if st := parseStats(t, w.Expect("stats", 20*time.Second)); st.Frames != 0 || st.Bytes != 0 || !st.PeerAlive {
		t.Fatalf("fresh writer: %+v", st)
	}
	// 10 + 7 + 64 frames of 100, 33 and 1 bytes: 1000 + 231 + 64 bytes,
	// 81 frames of 16-byte headers: 2591 ring bytes in all.
	w.Send("write 10 100")
	w.Expect("stats", 20*time.Second)
	w.Send("write 7 33 reserve")
	w.Expect("stats", 20*time.Second)
	w.Send("write 64 1 batch")
	st := parseStats(t, w.Expect("stats", 20*time.Second))
	const frames, bytes, ring = 81, 1295, 1295 + 81*16
	if st.Frames != frames || st.Bytes != bytes {
		t.Errorf("writer counted %d frames, %d bytes; sent %d, %d", st.Frames, st.Bytes, frames, bytes)
	}
	if st.RingHighWater != ring || st.RingUsed != ring || st.Blocked != 0 || len(st.Errors) != 0 {
		t.Errorf("writer with nothing read: %+v, want high-water and use %d, no wait, no errors", st, ring)
	}
	if rs := r.Stats(); rs.Frames != 0 || rs.RingUsed != ring || rs.RingSize != 64<<10 || !rs.PeerAlive {
		t.Errorf("reader before reading: %+v", rs)
	}
	ctx := ctxT(t, 30*time.Second)
	f, err := r.ReadFrame(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f.Release()
	n := 1
	for n < frames {
		k, err := r.ReadBatch(ctx, 0, func([]byte, uint64) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		n += k
	}
	rs := r.Stats()
	if rs.Frames != frames || rs.Bytes != bytes {
		t.Errorf("reader counted %d frames, %d bytes; sent %d, %d", rs.Frames, rs.Bytes, frames, bytes)
	}
	if rs.RingUsed != 0 || rs.RingHighWater != ring {
		t.Errorf("reader after draining: use %d (want 0), high-water %d (want %d)", rs.RingUsed, rs.RingHighWater, ring)
	}
	w.Send("close")
	w.Expect("stats", 20*time.Second)
	if _, err := r.ReadFrame(ctx); err != io.EOF {
		t.Fatalf("after the writer's Close: %v, want io.EOF", err)
	}
	if rs := r.Stats(); rs.Errors[ErrorKindWriterClosed] != 1 || rs.PeerAlive {
		t.Errorf("reader after a graceful end: %+v", rs)
	}
}

// TestStats_BlockedGrowsOnlyWhileFull: a writer's blocked time is zero
// until the ring fills, grows while a write waits for space, and stops
// growing once the reader frees space. A SIGKILL of the writer then counts
// as writer_dead on the reader.
func TestStats_BlockedGrowsOnlyWhileFull(t *testing.T) {
	name := testName(t)
	r := mustReader(t, name, 0, 4096)
	w := testproc.Start(t, "stats-writer", name)
	w.Send("write 3 1000") // 3048 of 4096 bytes
	if st := parseStats(t, w.Expect("stats", 20*time.Second)); st.Blocked != 0 || st.Waiting {
		t.Fatalf("writer with room: %+v, want no blocked time", st)
	}
	w.Send("block 1500") // 1516 more bytes do not fit
	b1 := parseStats(t, w.Expect("stats", 20*time.Second))
	time.Sleep(200 * time.Millisecond)
	w.Send("stats")
	b2 := parseStats(t, w.Expect("stats", 20*time.Second))
	if !b1.Waiting || !b2.Waiting || b2.Blocked-b1.Blocked < 200*time.Millisecond {
		t.Fatalf("while full: %v then, 200ms later, %v (waiting %v, %v); want growth of at least 200ms",
			b1.Blocked, b2.Blocked, b1.Waiting, b2.Waiting)
	}
	if b2.Frames != 3 || b2.RingHighWater != 3048 {
		t.Errorf("blocked writer: %+v, want 3 frames, high-water 3048", b2)
	}
	ctx := ctxT(t, 30*time.Second)
	for range 2 {
		f, err := r.ReadFrame(ctx)
		if err != nil {
			t.Fatal(err)
		}
		f.Release()
	}
	w.Send("wait-unblocked")
	b3 := parseStats(t, w.Expect("stats", 20*time.Second))
	if b3.Waiting || b3.Blocked < b2.Blocked || b3.Frames != 4 {
		t.Fatalf("after the reader freed space: %+v, want not waiting, 4 frames, blocked >= %v", b3, b2.Blocked)
	}
	time.Sleep(200 * time.Millisecond)
	w.Send("write 1 10") // fits: no wait
	b4 := parseStats(t, w.Expect("stats", 20*time.Second))
	if b4.Blocked != b3.Blocked {
		t.Errorf("blocked time grew from %v to %v while the ring had room", b3.Blocked, b4.Blocked)
	}
	w.Kill()
	for {
		f, err := r.ReadFrame(ctx)
		if err != nil {
			if !errors.Is(err, ErrWriterDead) {
				t.Fatalf("after SIGKILL of the writer: %v, want ErrWriterDead", err)
			}
			break
		}
		f.Release()
	}
	if rs := r.Stats(); rs.Errors[ErrorKindWriterDead] != 1 || rs.Frames != 5 || rs.PeerAlive {
		t.Errorf("reader after the writer's SIGKILL: %+v, want 5 frames, writer_dead 1, peer not alive", rs)
	}
}

// TestStats_WriterErrors: failed writes are counted by kind, and Stats
// answers after Close.
func TestStats_WriterErrors(t *testing.T) {
	name := testName(t)
	r := mustReader(t, name, 0, 4096)
	w := mustWriter(t, name)
	ctx := ctxT(t, 30*time.Second)
	if err := w.WriteFrame(ctx, make([]byte, 8192)); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("oversized frame: %v", err)
	}
	if err := w.WriteFrame(ctx, make([]byte, 4000)); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := w.WriteFrame(short, make([]byte, 4000)); !errors.Is(err, ErrBufferFull) {
		t.Fatalf("full ring, short deadline: %v", err)
	}
	st := w.Stats()
	if st.Errors[ErrorKindFrameTooLarge] != 1 || st.Errors[ErrorKindBufferFull] != 1 || st.Frames != 1 || st.Blocked <= 0 {
		t.Errorf("writer stats: %+v", st)
	}
	r.Close()
	w.Close()
	if st := w.Stats(); st.RingSize != 0 || st.PeerAlive || st.Frames != 1 {
		t.Errorf("after Close: %+v", st)
	}
	if st := r.Stats(); st.RingSize != 0 || st.PeerAlive {
		t.Errorf("reader after Close: %+v", st)
	}
}

// TestStats_WaitMirror: a wait for space publishes the counters for
// Stats without allocating once warm, and Stats calls that read a
// published copy while waits come and go never see it overwritten (the
// race detector would report the write).
func TestStats_WaitMirror(t *testing.T) {
	var s writerStats
	s.frames, s.bytes = 3, 300
	s.waited(s.wait())
	if !raceEnabled {
		if n := testing.AllocsPerRun(1000, func() { s.waited(s.wait()) }); n != 0 {
			t.Fatalf("a wait allocates %v times", n)
		}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				if since := s.waitingSince.Load(); since != 0 {
					if st, ok := s.waitingCopy(since); ok && (st.Frames != 3 || st.Bytes != 300 || !st.Waiting) {
						t.Errorf("copy during a wait: %+v", st)
						return
					}
				}
			}
		}()
	}
	for range 20000 {
		start := s.wait()
		s.waited(start)
	}
	close(done)
	wg.Wait()
}
