package duplex

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/zerobuffer/zerobuffer-go/core"
)

// respQueue holds the responses of one multi-server client whose response
// ring was full, in order, for a writer goroutine of their own: the Serve
// goroutine never waits for a client's ring. Invariants:
//
//   - While running, the goroutine is the only writer of the client's
//     ring and the Serve goroutine only appends; once the queue is empty
//     the goroutine clears running and exits, and only then does the Serve
//     goroutine write into the ring itself again. Responses therefore
//     reach the ring in request order.
//   - failed is set once, by either side: ErrClientDisconnected (a write
//     waited the stall timeout, or more than a ring's worth of responses
//     queued up) or the write error (the client died). The queue is then
//     dropped; after ErrClientDisconnected the goroutine writes the
//     farewell frame behind the responses already in the ring, waiting
//     for room until the client reads, dies, or the session ends.
type respQueue struct {
	mu      sync.Mutex
	frames  [][]byte
	bytes   int
	running bool
	failed  error
	stop    context.CancelFunc
	done    chan struct{}
}

// farewellFrame is the error response a disconnected client reads last.
var farewellFrame = AppendErrorFrame(nil, ErrClientDisconnected.Error())

// send writes the response p of lane k's client, or queues it while the
// client's ring is full. It never waits for the client.
func (s *RawMultiServer) send(ctx context.Context, k int, p []byte) {
	ss := &s.sess[k]
	if q := ss.q; q != nil {
		q.mu.Lock()
		switch {
		case q.failed != nil:
			q.mu.Unlock()
			ss.gone = true // reported by whoever set failed
			return
		case q.running && q.bytes+len(p) > ss.w.MaxFrameSize():
			q.frames, q.bytes = nil, 0
			q.failed = ErrClientDisconnected
			q.mu.Unlock()
			ss.gone = true
			s.report(fmt.Errorf("duplex: lane %d: %w: more responses waiting than its ring %q holds, dropping its requests",
				k, ErrClientDisconnected, ss.resp))
			return
		case q.running:
			q.frames = append(q.frames, bytes.Clone(p))
			q.bytes += len(p)
			q.mu.Unlock()
			return
		}
		q.mu.Unlock()
		ss.stopQueue() // the goroutine emptied the queue and is leaving
	}
	err := ss.w.WriteFrame(doneCtx, p) // does not wait for room
	switch {
	case err == nil:
	case errors.Is(err, core.ErrBufferFull) && ctx.Err() == nil:
		s.startQueue(ctx, k, bytes.Clone(p))
	case errors.Is(err, core.ErrReaderDead):
		ss.gone = true // the client died: drop the rest of its requests
	case ctx.Err() != nil:
		// Closing: the client learns it from the closed response buffer.
	default:
		s.report(fmt.Errorf("duplex: write response: %w", err))
	}
}

// startQueue starts lane k's response queue with p and its writer.
func (s *RawMultiServer) startQueue(ctx context.Context, k int, p []byte) {
	ss := &s.sess[k]
	qctx, stop := context.WithCancel(ctx)
	q := &respQueue{frames: [][]byte{p}, bytes: len(p), running: true, stop: stop, done: make(chan struct{})}
	ss.q = q
	go s.runQueue(qctx, k, ss.w, ss.resp, q)
}

// runQueue writes q's responses into w as room frees up; see respQueue.
func (s *RawMultiServer) runQueue(ctx context.Context, k int, w *core.Writer, resp string, q *respQueue) {
	defer close(q.done)
	for {
		q.mu.Lock()
		if q.failed != nil {
			failed := q.failed
			q.mu.Unlock()
			if failed == ErrClientDisconnected {
				_ = w.WriteFrame(ctx, farewellFrame) // fails when the client dies or the session ends
			}
			return
		}
		if len(q.frames) == 0 {
			q.running = false
			q.mu.Unlock()
			return
		}
		p := q.frames[0]
		q.mu.Unlock()
		wctx, cancel := context.WithTimeout(ctx, s.o.stallTimeout)
		t0 := time.Now()
		err := w.WriteFrame(wctx, p)
		cancel()
		var rep error
		q.mu.Lock()
		switch {
		case q.failed != nil: // the Serve goroutine disconnected the client meanwhile
		case err == nil:
			q.frames[0] = nil
			q.frames = q.frames[1:]
			q.bytes -= len(p)
		case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
			q.frames, q.bytes, q.failed = nil, 0, ErrClientDisconnected
			rep = fmt.Errorf("duplex: lane %d: %w: response ring %q full for %v, dropping its requests",
				k, ErrClientDisconnected, resp, time.Since(t0).Round(time.Millisecond))
		default: // the client died, or the session or server ends
			q.frames, q.bytes, q.failed = nil, 0, err
		}
		q.mu.Unlock()
		if rep != nil {
			s.report(rep)
		}
	}
}

// stopQueue ends the session's queue writer, if any, and waits for it.
func (ss *multiSession) stopQueue() {
	if ss.q != nil {
		ss.q.stop()
		<-ss.q.done
		ss.q = nil
	}
}
