package duplex

import (
	"context"
	"errors"

	"github.com/zerobuffer/zerobuffer-go/core"
)

// Call sends req and waits for its response, which it returns as a new
// slice owned by the caller. A handler error arrives as a [*HandlerError]
// (matching [ErrHandler]); [ErrServerClosed] and [ErrServerDead] report
// that the server went away. If ctx ends while the request waits for
// space, nothing is sent; if it ends after the request was sent, Call
// returns the ctx error and the response is discarded when it arrives.
// req is not retained.
func (c *RawClient) Call(ctx context.Context, req []byte) ([]byte, error) {
	k, err := c.send(ctx, req, false)
	if err != nil {
		return nil, c.afterClose(err)
	}
	resp, err := c.wait(ctx, k, nil)
	return resp, c.afterClose(err)
}

// CallFunc is [RawClient.Call] without the copy of the response: fn
// receives the response in place in shared memory when the calling
// goroutine reads it itself, or the private copy another caller made for
// it. Either way the slice is valid only until fn returns. fn is not
// called for an error response; its error is returned.
func (c *RawClient) CallFunc(ctx context.Context, req []byte, fn func(resp []byte) error) error {
	if fn == nil {
		return errors.New("zerobuffer: duplex: nil response func")
	}
	k, err := c.send(ctx, req, false)
	if err != nil {
		return c.afterClose(err)
	}
	_, err = c.wait(ctx, k, fn)
	return c.afterClose(err)
}

// Send writes req as the next request without waiting for its response;
// collect the responses with [RawClient.Receive] in the same order. Send
// blocks while the request ring is full, so a pipelining caller must
// receive concurrently (or bound the requests in flight); the server
// blocks likewise when the client's response ring is full.
func (c *RawClient) Send(ctx context.Context, req []byte) error {
	_, err := c.send(ctx, req, true)
	return c.afterClose(err)
}

// Reserve returns a slice of exactly n bytes in the request ring, to be
// filled in place and sent by [RawClient.Commit] (the zero-copy request
// path); collect the response with [RawClient.Receive]. Between Reserve
// and Commit the client's send side is held: other requests from other
// goroutines wait, and Close waits. It fails like [RawClient.Send], and
// with core.ErrFrameTooLarge when n exceeds the request ring.
func (c *RawClient) Reserve(ctx context.Context, n int) ([]byte, error) {
	if err := c.lockSend(ctx); err != nil {
		return nil, err
	}
	b, err := c.reserve(ctx, n)
	if err != nil {
		c.unlockSend()
		return nil, c.afterClose(err)
	}
	c.reserving.Store(true)
	return b, nil
}

// Commit sends the request prepared by [RawClient.Reserve]. Without an
// open reservation it returns core.ErrNoReservation.
func (c *RawClient) Commit() error {
	if !c.reserving.CompareAndSwap(true, false) {
		return core.ErrNoReservation
	}
	_, err := c.commit(true)
	c.unlockSend()
	return c.afterClose(err)
}

// Receive waits for the response to the oldest request sent by
// [RawClient.Send] or [RawClient.Commit] and not yet received, and returns
// it as a slice owned by the caller. It returns [ErrNoPending] when there
// is none. If ctx ends, Receive returns the ctx error and that response is
// discarded; the next Receive waits for the one after it.
func (c *RawClient) Receive(ctx context.Context) ([]byte, error) {
	k, err := c.claim()
	if err != nil {
		return nil, c.afterClose(err)
	}
	resp, err := c.wait(ctx, k, nil)
	return resp, c.afterClose(err)
}

// ReceiveFunc is [RawClient.Receive] without the copy; see
// [RawClient.CallFunc] for the lifetime of the slice fn receives.
func (c *RawClient) ReceiveFunc(ctx context.Context, fn func(resp []byte) error) error {
	if fn == nil {
		return errors.New("zerobuffer: duplex: nil response func")
	}
	k, err := c.claim()
	if err != nil {
		return c.afterClose(err)
	}
	_, err = c.wait(ctx, k, fn)
	return c.afterClose(err)
}

func (c *RawClient) claim() (*call, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.unclaimed.len() > 0:
		return c.unclaimed.pop(), nil
	case c.err != nil:
		return nil, c.err
	}
	return nil, ErrNoPending
}

func (c *RawClient) lockSend(ctx context.Context) error {
	select {
	case c.sendMu <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *RawClient) unlockSend() { <-c.sendMu }

// send writes req as one request and registers its call.
func (c *RawClient) send(ctx context.Context, req []byte, unclaimed bool) (*call, error) {
	if err := c.lockSend(ctx); err != nil {
		return nil, err
	}
	defer c.unlockSend()
	b, err := c.reserve(ctx, len(req))
	if err != nil {
		return nil, err
	}
	copy(b, req)
	return c.commit(unclaimed)
}

// reserve reserves a request in the ring. The send side must be held.
func (c *RawClient) reserve(ctx context.Context, n int) ([]byte, error) {
	if err := c.sendable(); err != nil {
		return nil, err
	}
	b, err := c.req.Reserve(ctx, n)
	if err != nil {
		return nil, c.sendFailed(err)
	}
	return b, nil
}

// commit registers the call of the reserved request, then publishes the
// request: in this order the response can never arrive before its call is
// pending. The send side must be held.
func (c *RawClient) commit(unclaimed bool) (*call, error) {
	k := &call{done: make(chan struct{})}
	c.mu.Lock()
	err := c.err
	if err == nil {
		c.pending.push(k)
		if unclaimed {
			c.unclaimed.push(k)
		}
	}
	c.mu.Unlock()
	if cerr := c.req.Commit(); cerr != nil && err == nil {
		err = c.fail(cerr) // cannot happen: the reservation is ours
	}
	if err != nil {
		return nil, err
	}
	return k, nil
}
