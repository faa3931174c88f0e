package duplex

import (
	"context"
	"fmt"

	"github.com/zerobuffer/zerobuffer-go/core"
)

// ResponseWriter takes the one response a handler produces for a request.
// Either fill a slot in place — [ResponseWriter.Reserve], then
// [ResponseWriter.Commit] — or hand over a finished slice with
// [ResponseWriter.Write]. It implements the FrameWriter interface of
// package codec, so an encoder can write a response directly.
//
// With one worker (the default) a reserved slot of 12 bytes or more lies in
// the response ring itself: the response is built in shared memory and
// Commit publishes it without a copy. Smaller slots, and every slot when
// the server runs several workers or is a [RawMultiServer], are heap
// memory copied into the ring once.
//
// A ResponseWriter belongs to one handler call: use it only from the
// handler's goroutine and not after the handler returns. If the handler
// returns without committing, the server sends an error response in its
// place (reusing a reserved ring slot) so that responses stay in request
// order.
type ResponseWriter struct {
	w     *core.Writer    // direct mode: the session's response writer
	max   int             // largest response the client's ring takes
	ctx   context.Context // of an open heap reservation, for Commit
	state rwState
	slot  []byte // open ring reservation
	buf   []byte // heap reservation, or the response of buffered mode
}

type rwState uint8

const (
	rwEmpty    rwState = iota // nothing written
	rwRingOpen                // Reserve in the ring, awaiting Commit
	rwBufOpen                 // Reserve in rw.buf, awaiting Commit
	rwBufReady                // rw.buf holds the response, not yet sent
	rwSent                    // the response is in the ring
)

// reset prepares rw for a request. w is nil in buffered (worker) mode.
func (rw *ResponseWriter) reset(w *core.Writer, maxSize int) {
	rw.w, rw.max, rw.ctx, rw.state, rw.slot = w, maxSize, nil, rwEmpty, nil
	rw.buf = rw.buf[:0]
}

// Reserve returns a slice of exactly n bytes that becomes the response
// when [ResponseWriter.Commit] is called. It blocks while the client's
// response ring is full (the client reads late) until space frees up or
// ctx ends. It fails with [ErrResponseWritten] after a response was
// written or reserved, core.ErrInvalidFrameSize for n <= 0 and
// core.ErrFrameTooLarge when n exceeds the client's ring. The slice must
// not be used after Commit or after the handler returns.
func (rw *ResponseWriter) Reserve(ctx context.Context, n int) ([]byte, error) {
	if rw.state != rwEmpty {
		return nil, ErrResponseWritten
	}
	if n <= 0 {
		return nil, fmt.Errorf("%w: response of %d bytes", core.ErrInvalidFrameSize, n)
	}
	if n > rw.max {
		return nil, fmt.Errorf("%w: response of %d bytes, client's ring takes %d", core.ErrFrameTooLarge, n, rw.max)
	}
	if rw.w != nil && n >= errFrameMin {
		b, err := rw.w.Reserve(ctx, n)
		if err != nil {
			return nil, err
		}
		rw.slot, rw.state = b, rwRingOpen
		return b, nil
	}
	if cap(rw.buf) < n {
		rw.buf = make([]byte, n)
	}
	rw.buf = rw.buf[:n]
	rw.ctx, rw.state = ctx, rwBufOpen
	return rw.buf, nil
}

// Commit sends the response reserved by [ResponseWriter.Reserve]. Without
// an open reservation it returns core.ErrNoReservation. A failed Commit of
// a small (heap) reservation leaves no response written, so the handler
// may still return an error.
func (rw *ResponseWriter) Commit() error {
	switch rw.state {
	case rwRingOpen:
		rw.state, rw.slot = rwSent, nil
		return rw.w.Commit()
	case rwBufOpen:
		rw.state = rwBufReady
		if rw.w == nil {
			return nil // the sequencer sends it
		}
		err := rw.send(rw.ctx)
		if err != nil {
			rw.state = rwEmpty
		}
		return err
	}
	return core.ErrNoReservation
}

// Write sends p as the response (one copy into the ring). It blocks and
// fails like [ResponseWriter.Reserve]; if it fails, no response was
// written. p is not retained.
func (rw *ResponseWriter) Write(ctx context.Context, p []byte) error {
	if rw.state != rwEmpty {
		return ErrResponseWritten
	}
	if len(p) == 0 {
		return fmt.Errorf("%w: empty response", core.ErrInvalidFrameSize)
	}
	if len(p) > rw.max {
		return fmt.Errorf("%w: response of %d bytes, client's ring takes %d", core.ErrFrameTooLarge, len(p), rw.max)
	}
	if rw.w == nil {
		rw.buf = append(rw.buf[:0], p...)
		rw.state = rwBufReady
		return nil
	}
	if err := rw.w.WriteFrame(ctx, p); err != nil {
		return err
	}
	rw.state = rwSent
	return nil
}

// finish completes the request after the handler returned herr: an
// uncommitted or missing response becomes an error response. In direct
// mode the response is sent; in buffered mode it is left in rw.buf.
func (rw *ResponseWriter) finish(ctx context.Context, herr error) error {
	if rw.state != rwSent && rw.state != rwBufReady {
		if herr == nil {
			herr = ErrNoResponse
		}
		msg := handlerText(herr)
		if rw.state == rwRingOpen {
			putErrorFrame(rw.slot, msg) // reuse the slot: the core cannot undo a Reserve
			rw.state, rw.slot = rwSent, nil
			return rw.w.Commit()
		}
		rw.buf = AppendErrorFrame(rw.buf[:0], errorText(msg, rw.max-errFrameMin))
		rw.state = rwBufReady
	}
	if rw.state == rwBufReady && rw.w != nil {
		return rw.send(ctx)
	}
	return nil
}

// flush sends a buffered-mode response through w.
func (rw *ResponseWriter) flush(ctx context.Context, w *core.Writer) error {
	rw.w = w
	return rw.send(ctx)
}

func (rw *ResponseWriter) send(ctx context.Context) error {
	if err := rw.w.WriteFrame(ctx, rw.buf); err != nil {
		return err
	}
	rw.state = rwSent
	return nil
}

// committed reports whether the handler produced its own response.
func (rw *ResponseWriter) committed() bool { return rw.state == rwSent || rw.state == rwBufReady }

// handlerText is the text of a handler's error response. A handler error
// that reads exactly like a multi server's farewell (a proxy passing on
// ErrClientDisconnected from upstream) gets a prefix, so that a client
// never takes a handler's answer for its own disconnection.
func handlerText(herr error) string {
	msg := herr.Error()
	if msg == ErrClientDisconnected.Error() {
		return "handler: " + msg
	}
	return msg
}
