package bench

import (
	"context"
	"errors"
	"io"
	"time"
)

// clockEvery returns how many messages pass between two clock reads in
// the hot loops: reading the clock for every 64-byte message would cost
// as much as the transfer, while large messages are slow enough to time
// one by one.
func clockEvery(size int) uint64 { return uint64(max(1, 4096/max(size, 1))) }

// sendLoop calls send with sequence numbers 1, 2, ... until d has passed
// and reports the sender's side: messages sent, wall time and CPU.
func sendLoop(ctx context.Context, size int, d time.Duration, send func(seq uint64) error) (sideResult, error) {
	every := clockEvery(size)
	c0, t0 := cpuTime(), time.Now()
	deadline := t0.Add(d)
	var seq uint64
	for {
		seq++
		if err := send(seq); err != nil {
			return sideResult{}, err
		}
		if seq%every == 0 && (time.Now().After(deadline) || ctx.Err() != nil) {
			break
		}
	}
	el := time.Since(t0)
	return sideResult{Count: seq, Elapsed: el, CPU: cpuTime() - c0, CPUWall: el, Received: seq}, ctx.Err()
}

// recvTimer times a receiver without reading the clock for every small
// message: the rate is taken between the first message and the last
// clock stamp, so the time the receiver spends noticing the end of the
// stream (EOF) is not counted.
type recvTimer struct {
	every       uint64
	n, nLast    uint64
	first, last time.Time
	cpu0        time.Duration
}

func newRecvTimer(size int) *recvTimer { return &recvTimer{every: clockEvery(size)} }

// tick records one received message.
func (t *recvTimer) tick() {
	t.n++
	switch {
	case t.n == 1:
		t.cpu0, t.first = cpuTime(), time.Now()
		t.last, t.nLast = t.first, 1
	case t.n%t.every == 0:
		t.last, t.nLast = time.Now(), t.n
	}
}

// result summarises the receiver's side.
func (t *recvTimer) result() sideResult {
	if t.n == 0 {
		return sideResult{}
	}
	end := time.Now()
	r := sideResult{Count: t.nLast - 1, Elapsed: t.last.Sub(t.first), CPU: cpuTime() - t.cpu0, CPUWall: end.Sub(t.first), Received: t.n}
	if r.Count == 0 { // a single message or one clock interval: use the end
		r.Count, r.Elapsed = t.n, end.Sub(t.first)
	}
	return r
}

// recvLoop calls recv with sequence numbers 1, 2, ... until it returns
// io.EOF. recv receives and verifies message seq.
func recvLoop(size int, recv func(seq uint64) error) (sideResult, error) {
	t := newRecvTimer(size)
	for seq := uint64(1); ; seq++ {
		err := recv(seq)
		if errors.Is(err, io.EOF) {
			return t.result(), nil
		}
		if err != nil {
			return t.result(), err
		}
		t.tick()
	}
}

// echoLoop calls echo until it returns io.EOF and reports the server's
// CPU from its first message on.
func echoLoop(echo func(seq uint64) error) (sideResult, error) {
	var t recvTimer
	t.every = 1 << 62
	for seq := uint64(1); ; seq++ {
		err := echo(seq)
		if errors.Is(err, io.EOF) {
			r := t.result()
			r.Count, r.Elapsed = r.Received, r.CPUWall
			return r, nil
		}
		if err != nil {
			return t.result(), err
		}
		t.tick()
	}
}

// rttLoop runs round trips 1, 2, ... for d, sleeping gap before each
// request, and records every round trip after a warm-up of d/10.
func rttLoop(ctx context.Context, d, gap time.Duration, rt func(seq uint64) error) (*Histogram, sideResult, error) {
	h := &Histogram{}
	t0 := time.Now()
	warm, deadline := t0.Add(d/10), t0.Add(d)
	var c0 time.Duration
	var tw time.Time
	for seq := uint64(1); ; seq++ {
		if gap > 0 {
			time.Sleep(gap)
		}
		s := time.Now()
		if err := rt(seq); err != nil {
			return h, sideResult{}, err
		}
		e := time.Now()
		if tw.IsZero() {
			if e.After(warm) {
				c0, tw = cpuTime(), e
			}
			continue
		}
		h.Record(e.Sub(s).Nanoseconds())
		if e.After(deadline) || ctx.Err() != nil {
			break
		}
	}
	el := time.Since(tw)
	return h, sideResult{Count: h.Count(), Elapsed: el, CPU: cpuTime() - c0, CPUWall: el, Received: h.Count()}, ctx.Err()
}
