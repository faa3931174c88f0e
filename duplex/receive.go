package duplex

// Responses are read by the callers themselves, without a background
// goroutine: whoever waits for a response and holds recvMu reads frames
// from the response buffer, keeps its own and hands every earlier one (a
// private copy) to the call at the head of the pending queue. A single
// caller therefore reads its response in place, and with many callers no
// response waits for a goroutine switch before it leaves the ring.
//
// Once a response has arrived, the server's writer is attached to the
// response buffer, and the core reports its end itself: ErrWriterDead
// within the peer-check interval when the server dies, io.EOF after the
// last response when it closes. Before that, a server that dies (or
// closes) leaves nothing in the response buffer, so the reader sleeps in
// slices of watchInterval; when a slice ends with nothing to read and the
// server no longer holds the request buffer twice in a row, the pending
// calls fail with ErrServerDead.

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/zerobuffer/zerobuffer-go/core"
)

// doneCtx is an already cancelled context: ReadFrame with it returns what
// is available without waiting.
var doneCtx = func() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}()

// wait returns k's response: as an owned slice when fn is nil, else by
// calling fn. fn runs after recvMu is released, so it may call the client.
func (c *RawClient) wait(ctx context.Context, k *call, fn func([]byte) error) ([]byte, error) {
	select {
	case <-k.done:
		return k.result(fn)
	case c.recvMu <- struct{}{}:
		f, err := c.readUntil(ctx, k)
		<-c.recvMu
		switch {
		case err != nil:
			return nil, err
		case f == nil:
			return k.result(fn)
		}
		return inPlace(f, fn)
	case <-ctx.Done():
		k.abandoned.Store(true)
		return nil, ctx.Err()
	}
}

// readUntil reads responses, handing each earlier one to its call, until
// k's own arrives; it returns that frame, or nil if another goroutine
// delivered k's response meanwhile. recvMu must be held.
func (c *RawClient) readUntil(ctx context.Context, k *call) (*core.Frame, error) {
	for {
		select {
		case <-k.done:
			return nil, nil
		default:
		}
		f, err := c.readFrame(ctx)
		if err != nil {
			if ctx.Err() != nil {
				k.abandoned.Store(true)
				return nil, ctx.Err()
			}
			return nil, c.recvErr(err)
		}
		if msg, ok := ParseErrorFrame(f.Data()); ok && msg == ErrClientDisconnected.Error() {
			_ = f.Release() // a multi server's farewell: nothing after it answers
			return nil, c.fail(ErrClientDisconnected)
		}
		c.mu.Lock()
		var h *call
		if c.pending.len() > 0 {
			h = c.pending.pop()
		}
		c.mu.Unlock()
		switch {
		case h == nil:
			_ = f.Release()
			return nil, c.fail(ErrUnexpectedResponse)
		case h == k:
			return f, nil
		}
		if !h.abandoned.Load() {
			h.resp = bytes.Clone(f.Data())
		}
		_ = f.Release()
		close(h.done)
	}
}

// result returns the response another goroutine delivered to k.
func (k *call) result(fn func([]byte) error) ([]byte, error) {
	if k.err != nil {
		return nil, k.err
	}
	if err := responseError(k.resp); err != nil {
		return nil, err
	}
	if fn == nil {
		return k.resp, nil
	}
	return nil, fn(k.resp)
}

// inPlace returns the response in frame f and releases f, also if fn
// panics.
func inPlace(f *core.Frame, fn func([]byte) error) ([]byte, error) {
	defer f.Release()
	data := f.Data()
	if err := responseError(data); err != nil {
		return nil, err
	}
	if fn == nil {
		return bytes.Clone(data), nil
	}
	return nil, fn(data)
}

// readFrame reads the next response. Until the server has connected to
// the response buffer, it watches the request buffer while it waits.
func (c *RawClient) readFrame(ctx context.Context) (*core.Frame, error) {
	if c.connected.Load() { // the core reports the writer's end itself
		return c.resp.ReadFrame(ctx)
	}
	f, err := c.resp.ReadFrame(doneCtx)
	if err == nil || !errors.Is(err, context.Canceled) {
		c.connected.Store(err == nil)
		return f, err
	}
	misses := 0
	for {
		sctx, cancel := context.WithTimeout(ctx, watchInterval)
		f, err := c.resp.ReadFrame(sctx)
		cancel()
		switch {
		case err == nil:
			c.connected.Store(true)
			return f, nil
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case sctx.Err() == nil || !errors.Is(err, sctx.Err()):
			return nil, err // also when the slice ended just as the core gave its answer
		case c.req.ReaderConnected():
			misses = 0
		default:
			if misses++; misses >= 2 {
				return nil, fmt.Errorf("%w: %w", ErrServerDead, core.ErrReaderDead)
			}
		}
	}
}
