package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/zerobuffer/zerobuffer-go/platform"
)

// The machine's limits, measured in the same run as the transports:
// memcpy bandwidth, the round trip of one cache line between two
// processes, and a minimal busy-polling single-producer single-consumer
// ring in shared memory (fixed-size slots, head and tail counters, both
// sides spinning), labelled the "ceiling": no blocking IPC can beat it
// by much, since it does nothing but copy, verify and publish.

// memcpyGBps copies size bytes between two buffers for about d and
// returns the copy rate in GB/s (bytes copied per second, 1e9 bytes).
func memcpyGBps(size int, d time.Duration) float64 {
	src, dst := make([]byte, size), make([]byte, size)
	for i := range src {
		src[i] = byte(i)
	}
	copy(dst, src) // fault the pages in
	var n int
	t0 := time.Now()
	for time.Since(t0) < d {
		copy(dst, src)
		n++
	}
	return float64(n) * float64(size) / time.Since(t0).Seconds() / 1e9
}

var shmSeq atomic.Uint64

// limitSegment creates a private shared-memory file for a limit
// benchmark and returns it with a function that unlinks and unmaps it.
func limitSegment(tag string, size int) (*platform.Segment, func(), error) {
	name := "zbbench-" + strconv.Itoa(os.Getpid()) + "-" + tag + "-" + strconv.FormatUint(shmSeq.Add(1), 10)
	path := filepath.Join(platform.DefaultShmDir, name)
	seg, err := platform.CreateSegment(path, int64(size), 0o600)
	if err != nil {
		return nil, nil, err
	}
	return seg, func() { _ = platform.Remove(path); _ = seg.Close() }, nil
}

// spinner bounds a busy-wait: it yields the CPU now and then (the peer
// may share the core) and gives up after a deadline.
type spinner struct {
	n        uint64
	deadline time.Time
}

var errSpinTimeout = errors.New("bench: peer did not answer (spin timeout)")

func (s *spinner) pause() error {
	s.n++
	if s.n%256 == 0 {
		platform.Yield()
	}
	if s.n%(1<<16) == 0 {
		if s.deadline.IsZero() {
			s.deadline = time.Now().Add(10 * time.Second)
		} else if time.Now().After(s.deadline) {
			return errSpinTimeout
		}
	}
	return nil
}

func (s *spinner) reset() { s.n, s.deadline = 0, time.Time{} }

const cachelineStop = 1 << 63

// cachelineRTT measures how long one 8-byte counter takes to go to a
// peer process and back through shared memory: the parent writes an odd
// value, the child answers with the next even one.
func cachelineRTT(ctx context.Context, d time.Duration) (time.Duration, error) {
	seg, done, err := limitSegment("cl", 4096)
	if err != nil {
		return 0, err
	}
	defer done()
	w, err := shmWord(seg.Bytes(), 0)
	if err != nil {
		return 0, err
	}
	p, err := startPeer(job{Role: "cacheline", Name: seg.Path()})
	if err != nil {
		return 0, err
	}
	defer p.stop()
	if _, err := p.ready(ctx); err != nil {
		p.kill()
		return 0, err
	}
	var sp spinner
	t0 := time.Now()
	warm, deadline := t0.Add(d/10), t0.Add(d)
	var tw time.Time
	var n uint64
	for i := uint64(0); ; i++ {
		w.Store(2*i + 1)
		for w.Load() != 2*i+2 {
			if err := sp.pause(); err != nil {
				p.kill()
				return 0, err
			}
		}
		sp.reset()
		if i%64 != 0 {
			continue
		}
		now := time.Now()
		switch {
		case tw.IsZero() && now.After(warm):
			tw, n = now, i
		case !tw.IsZero() && (now.After(deadline) || ctx.Err() != nil):
			w.Store(cachelineStop)
			_, err := p.result(ctx, 10*time.Second)
			return now.Sub(tw) / time.Duration(max(i-n, 1)), err
		}
	}
}

func cachelineChild(_ context.Context, j job, ready func(string) error) (sideResult, error) {
	seg, err := platform.OpenSegment(j.Name, true)
	if err != nil {
		return sideResult{}, err
	}
	defer seg.Close()
	w, err := shmWord(seg.Bytes(), 0)
	if err != nil {
		return sideResult{}, err
	}
	if err := ready(""); err != nil {
		return sideResult{}, err
	}
	var sp spinner
	var n uint64
	for {
		v := w.Load()
		switch {
		case v == cachelineStop:
			return sideResult{Count: n, Received: n}, nil
		case v&1 == 1:
			w.Store(v + 1)
			n++
			sp.reset()
		default:
			if err := sp.pause(); err != nil {
				return sideResult{}, err
			}
		}
	}
}

// Spin ring layout: head (messages published) at 0, tail (messages
// consumed) at 64, done flag at 128, slots from 4096.
const (
	ringHead  = 0
	ringTail  = 64
	ringDone  = 128
	ringSlots = 4096
)

type spinRing struct {
	head, tail, done *atomic.Uint64
	slots            []byte
	slot, n          int
}

func newSpinRing(b []byte, size int) (*spinRing, error) {
	r := &spinRing{slot: int(roundUp64(uint64(size)))}
	var err1, err2, err3 error
	r.head, err1 = shmWord(b, ringHead)
	r.tail, err2 = shmWord(b, ringTail)
	r.done, err3 = shmWord(b, ringDone)
	if err := errors.Join(err1, err2, err3); err != nil {
		return nil, err
	}
	if len(b) < ringSlots+2*r.slot {
		return nil, fmt.Errorf("bench: spin ring mapping of %d bytes too small", len(b))
	}
	r.slots = b[ringSlots:]
	r.n = len(r.slots) / r.slot
	return r, nil
}

// at returns the slot that message seq (from 1) uses.
func (r *spinRing) at(seq uint64, size int) []byte {
	off := int((seq-1)%uint64(r.n)) * r.slot
	return r.slots[off : off+size : off+size]
}

func spinRingBytes(size int) int {
	return ringSlots + max(ringBytes(size), 2*int(roundUp64(uint64(size))))
}

// ringThroughput streams messages through the spin ring to a child.
func ringThroughput(ctx context.Context, size int, d time.Duration) (sideResult, sideResult, error) {
	seg, done, err := limitSegment("ring", spinRingBytes(size))
	if err != nil {
		return sideResult{}, sideResult{}, err
	}
	defer done()
	r, err := newSpinRing(seg.Bytes(), size)
	if err != nil {
		return sideResult{}, sideResult{}, err
	}
	p, err := startPeer(job{Role: "ring-recv", Name: seg.Path(), Size: size})
	if err != nil {
		return sideResult{}, sideResult{}, err
	}
	defer p.stop()
	if _, err := p.ready(ctx); err != nil {
		p.kill()
		return sideResult{}, sideResult{}, err
	}
	m := newMessage(size)
	var sp spinner
	var tail uint64
	send, err := sendLoop(ctx, size, d, func(seq uint64) error {
		for seq-1-tail >= uint64(r.n) {
			if tail = r.tail.Load(); seq-1-tail < uint64(r.n) {
				break
			}
			if err := sp.pause(); err != nil {
				return err
			}
		}
		sp.reset()
		m.fill(r.at(seq, size), seq)
		r.head.Store(seq)
		return nil
	})
	r.done.Store(1)
	if err != nil {
		p.kill()
		return send, sideResult{}, err
	}
	recv, err := p.result(ctx, resultTimeout(d))
	return send, recv, err
}

func ringRecvChild(_ context.Context, j job, ready func(string) error) (sideResult, error) {
	seg, err := platform.OpenSegment(j.Name, true)
	if err != nil {
		return sideResult{}, err
	}
	defer seg.Close()
	r, err := newSpinRing(seg.Bytes(), j.Size)
	if err != nil {
		return sideResult{}, err
	}
	if err := ready(""); err != nil {
		return sideResult{}, err
	}
	m := newMessage(j.Size)
	var sp spinner
	var head uint64
	return recvLoop(j.Size, func(seq uint64) error {
		for head < seq {
			if head = r.head.Load(); head >= seq {
				break
			}
			if r.done.Load() == 1 && r.head.Load() < seq {
				return io.EOF
			}
			if err := sp.pause(); err != nil {
				return err
			}
		}
		sp.reset()
		err := m.verify(r.at(seq, j.Size), seq)
		r.tail.Store(seq)
		return err
	})
}
