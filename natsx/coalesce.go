package natsx

import (
	"strconv"
	"sync"

	"github.com/nats-io/nats.go"
)

// Core-mode coalescing. A core Send does not publish its frame itself: it
// appends the frame to a pending batch, and a flusher goroutine publishes
// the batch as one NATS message (a single frame as a plain message). While
// the flusher publishes, later sends fill the next batch, so a sender
// faster than one publish per message sends fewer, larger messages, and an
// idle sender's frame leaves after one goroutine hand-off. Client and
// server then parse one subject, reply and header per batch instead of
// per message.
//
// Invariants:
//   - pubMu is held from taking a batch out of c.buf to the end of its
//     publication, so batches reach the connection in the order they were
//     taken, and frames appended by one goroutine keep their order.
//   - c.running is true while a flusher goroutine is scheduled or running;
//     the flusher clears it (under c.mu) only when it found c.buf empty,
//     so a frame appended while running is true is always published.
//   - c.buf never exceeds c.limit bytes: a frame that does not fit, or one
//     larger than c.direct, is published by its Send after the pending
//     batch (holding pubMu), which also bounds the memory a sender holds
//     when the connection is slower than the sender.

const (
	// coalesceLimit bounds a batch's payload.
	coalesceLimit = 64 << 10
	// batchHeaderRoom is kept free below the server's max_payload for
	// the batch header ("Zb-Batch: N") of a coalesced message.
	batchHeaderRoom = 256
)

type coalescer struct {
	nc      *nats.Conn
	subject string
	reply   string
	limit   int // bytes of a batch payload
	direct  int // frames above this are never coalesced

	pubMu sync.Mutex // held while a batch is published; see the invariants

	mu      sync.Mutex
	buf     []byte // pending frames, each a u32 length and its bytes
	n       int    // frames in buf
	spare   []byte // the previous batch's buffer, for reuse
	running bool   // a flusher goroutine is scheduled or running
	err     error  // first publish error of the flusher; returned by later sends
}

// newCoalescer returns the coalescer of a core-mode sender, or nil when
// the server's max_payload leaves no room for batches.
func newCoalescer(nc *nats.Conn, subject, reply string) *coalescer {
	limit := coalesceLimit
	if mp := nc.MaxPayload(); mp > 0 && mp-batchHeaderRoom < int64(limit) {
		limit = int(mp - batchHeaderRoom)
	}
	if limit < 1024 {
		return nil
	}
	return &coalescer{nc: nc, subject: subject, reply: reply, limit: limit, direct: limit / 4}
}

// add queues frame for publication; frame is copied before add returns.
// It returns the first error a flusher met since the last call (the
// connection closed, say), so such an error reaches the sender one send
// late.
func (c *coalescer) add(frame []byte) error {
	c.mu.Lock()
	if err := c.err; err != nil {
		c.err = nil
		c.mu.Unlock()
		return err
	}
	if len(frame) > c.direct || len(c.buf)+4+len(frame) > c.limit {
		c.mu.Unlock()
		return c.publishNow(frame)
	}
	c.buf = appendFrame(c.buf, frame)
	c.n++
	start := !c.running
	c.running = true
	c.mu.Unlock()
	if start {
		go c.flusher()
	}
	return nil
}

// publishNow publishes the pending batch and then frame, as a message of
// its own, before it returns.
func (c *coalescer) publishNow(frame []byte) error {
	c.pubMu.Lock()
	defer c.pubMu.Unlock()
	if err := c.flushLocked(); err != nil {
		return err
	}
	if err := c.nc.PublishRequest(c.subject, c.reply, frame); err != nil {
		return coreSendErr(err, len(frame), c.nc)
	}
	return nil
}

// flush publishes the pending batch, if any, before it returns; it also
// returns a pending flusher error.
func (c *coalescer) flush() error {
	c.pubMu.Lock()
	err := c.flushLocked()
	c.pubMu.Unlock()
	c.mu.Lock()
	if err == nil {
		err = c.err
	}
	c.err = nil
	c.mu.Unlock()
	return err
}

// flusher publishes batches until it finds none pending.
func (c *coalescer) flusher() {
	for {
		c.pubMu.Lock()
		c.mu.Lock()
		if c.n == 0 {
			c.running = false
			c.mu.Unlock()
			c.pubMu.Unlock()
			return
		}
		c.mu.Unlock()
		err := c.flushLocked()
		c.pubMu.Unlock()
		if err != nil {
			c.mu.Lock()
			if c.err == nil {
				c.err = err
			}
			c.mu.Unlock()
		}
	}
}

// flushLocked publishes the pending batch. The caller holds pubMu.
func (c *coalescer) flushLocked() error {
	c.mu.Lock()
	buf, n := c.buf, c.n
	c.buf, c.n, c.spare = c.spare[:0], 0, nil
	c.mu.Unlock()
	if n == 0 {
		c.recycle(buf)
		return nil
	}
	var err error
	if n == 1 {
		err = c.nc.PublishRequest(c.subject, c.reply, buf[4:])
	} else {
		err = c.nc.PublishMsg(&nats.Msg{Subject: c.subject, Reply: c.reply, Data: buf,
			Header: nats.Header{hdrBatch: []string{strconv.Itoa(n)}}})
	}
	// nats.go has copied the bytes into its write buffer.
	c.recycle(buf)
	if err != nil {
		return coreSendErr(err, len(buf), c.nc)
	}
	return nil
}

func (c *coalescer) recycle(buf []byte) {
	c.mu.Lock()
	if c.spare == nil {
		c.spare = buf[:0]
	}
	c.mu.Unlock()
}
