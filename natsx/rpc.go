package natsx

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/zerobuffer/zerobuffer-go/codec"
	"github.com/zerobuffer/zerobuffer-go/duplex"
)

// Headers of requests and responses.
const (
	// hdrTimeout carries the caller's remaining time in nanoseconds; a
	// duration, not a time, so that clocks of different hosts need not
	// agree.
	hdrTimeout = "Zb-Timeout"
	// hdrError marks an error response and carries the handler's message.
	hdrError = "Zb-Error"
)

// Server answers typed requests sent to a subject with NATS request-reply:
// the handler of a duplex.Server, the same codecs. Each request is decoded
// into a Req, passed to the handler with a ctx that carries the caller's
// deadline, and the Resp is encoded into the reply; a handler error (or
// panic, or a request of another codec) becomes an error reply that the
// client returns as a *duplex.HandlerError. Up to [WithWorkers] requests
// are handled at once; servers of one [WithQueueGroup] share a subject.
type Server[Req, Resp any] struct {
	nc      *nats.Conn
	subject string
	dec     codec.Decoder[Req]
	enc     codec.Encoder[Resp]
	h       func(ctx context.Context, req Req) (Resp, error)
	o       options
	respHdr string

	mu      sync.Mutex
	serving bool
	stopped bool
	stop    chan struct{}
	exited  chan struct{} // closed when Serve returns
	in      chan *nats.Msg
	sub     *nats.Subscription
	// ErrorLog, if set before Serve, receives handler errors and panics.
	ErrorLog func(error)
}

// NewServer returns a server for subject on nc; call [Server.Serve].
func NewServer[Req, Resp any](nc *nats.Conn, subject string, dec codec.Decoder[Req], enc codec.Encoder[Resp],
	h func(ctx context.Context, req Req) (Resp, error), opts ...Option) (*Server[Req, Resp], error) {
	if nc == nil || dec == nil || enc == nil || h == nil {
		return nil, errors.New("zerobuffer: natsx: nil connection, codec or handler")
	}
	if err := validSubject(subject); err != nil {
		return nil, err
	}
	for _, n := range []string{dec.Name(), enc.Name()} {
		if err := codec.ValidateName(n); err != nil {
			return nil, err
		}
	}
	s := &Server[Req, Resp]{nc: nc, subject: subject, dec: dec, enc: enc, h: h, o: buildOptions(opts),
		respHdr: enc.Name(), stop: make(chan struct{}), exited: make(chan struct{})}
	// Subscribe now, as duplex.NewServer creates its buffer now: a client
	// may call before Serve runs; its request waits in s.in.
	s.in = make(chan *nats.Msg, 1024)
	sub, err := nc.ChanQueueSubscribe(subject, s.o.queue, s.in)
	if err != nil {
		return nil, fmt.Errorf("natsx: serve %s: %w", subject, err)
	}
	if err := nc.Flush(); err != nil {
		sub.Unsubscribe()
		return nil, fmt.Errorf("natsx: serve %s: %w", subject, err)
	}
	s.sub = sub
	return s, nil
}

// Serve answers requests until ctx ends (it returns the ctx error) or
// Close or Shutdown is called (duplex.ErrServerClosed). On return no
// handler is running.
func (s *Server[Req, Resp]) Serve(ctx context.Context) error {
	s.mu.Lock()
	if s.serving {
		s.mu.Unlock()
		return duplex.ErrServing
	}
	if s.stopped {
		s.mu.Unlock()
		return duplex.ErrServerClosed
	}
	s.serving = true
	s.mu.Unlock()
	defer close(s.exited)
	in := s.in
	hctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	quit := make(chan struct{})
	var wg sync.WaitGroup
	for range s.o.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case m := <-in:
					s.handle(hctx, m)
				case <-quit:
					for { // answer what is queued, then stop
						select {
						case m := <-in:
							s.handle(hctx, m)
						default:
							return
						}
					}
				}
			}
		}()
	}
	var ret error
	select {
	case <-ctx.Done():
		ret = ctx.Err()
	case <-s.stop:
		ret = duplex.ErrServerClosed
	}
	// Drain: no new requests; the ones queued are answered. in is never
	// closed: the client library owns the sending side.
	s.sub.Unsubscribe()
	s.mu.Lock()
	s.stopped = true // the subscription is gone: Serve cannot run again
	s.mu.Unlock()
	close(quit)
	wg.Wait()
	return ret
}

func (s *Server[Req, Resp]) handle(ctx context.Context, m *nats.Msg) {
	if m.Reply == "" {
		return // a publish, not a request: nobody to answer
	}
	if d := m.Header.Get(hdrTimeout); d != "" {
		ns, err := strconv.ParseInt(d, 10, 64)
		if err != nil || ns <= 0 {
			s.replyErr(m, fmt.Errorf("%w: %w: bad %s header %q", ErrBadMessage, codec.ErrInvalid, hdrTimeout, d))
			return
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(ns))
		defer cancel()
	}
	if got := m.Header.Get(hdrCodec); !s.o.noCheck && got != s.dec.Name() {
		s.replyErr(m, &codec.MismatchError{Want: s.dec.Name(), Got: got})
		return
	}
	resp, err := s.call(ctx, m.Data)
	if err != nil {
		s.replyErr(m, err)
		return
	}
	var bw bufWriter
	if err := s.enc.EncodeFrame(ctx, &bw, resp); err != nil {
		s.replyErr(m, err)
		return
	}
	out := &nats.Msg{Subject: m.Reply, Data: bw.buf}
	if !s.o.noCheck {
		out.Header = nats.Header{hdrCodec: []string{s.respHdr}}
	}
	if err := s.nc.PublishMsg(out); err != nil {
		s.log(fmt.Errorf("natsx: reply: %w", err))
	}
}

// call decodes the request and runs the handler, turning a panic into
// duplex.ErrHandlerPanic.
func (s *Server[Req, Resp]) call(ctx context.Context, data []byte) (resp Resp, err error) {
	req, err := s.dec.Decode(data)
	if err != nil {
		return resp, fmt.Errorf("natsx: decode request: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			s.log(fmt.Errorf("%w: %v\n%s", duplex.ErrHandlerPanic, p, debug.Stack()))
			err = duplex.ErrHandlerPanic
		}
	}()
	return s.h(ctx, req)
}

func (s *Server[Req, Resp]) replyErr(m *nats.Msg, err error) {
	s.log(err)
	msg := err.Error()
	if len(msg) > duplex.MaxErrorMessage {
		msg = msg[:duplex.MaxErrorMessage]
	}
	out := &nats.Msg{Subject: m.Reply, Header: nats.Header{hdrError: []string{msg}}}
	if perr := s.nc.PublishMsg(out); perr != nil {
		s.log(fmt.Errorf("natsx: error reply: %w", perr))
	}
}

func (s *Server[Req, Resp]) log(err error) {
	if s.ErrorLog != nil {
		s.ErrorLog(err)
	}
}

// Shutdown stops taking requests and waits, until ctx ends, for a running
// Serve to answer the ones it took and return.
func (s *Server[Req, Resp]) Shutdown(ctx context.Context) error {
	if !s.stopNow() {
		return nil
	}
	select {
	case <-s.exited:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops the server; Serve returns duplex.ErrServerClosed after
// answering the requests it already took. Close is idempotent.
func (s *Server[Req, Resp]) Close() error {
	s.stopNow()
	return nil
}

// stopNow signals Serve to stop and reports whether Serve runs (or ran);
// without a Serve it unsubscribes itself.
func (s *Server[Req, Resp]) stopNow() (serving bool) {
	s.mu.Lock()
	first := !s.stopped
	s.stopped = true
	serving = s.serving
	s.mu.Unlock()
	if first {
		close(s.stop)
		if !serving {
			s.sub.Unsubscribe()
		}
	}
	return serving
}

// Client calls a typed [Server] over NATS request-reply, like
// duplex.Client over shared memory. It is safe for concurrent use: calls
// run in parallel. It does not own the *nats.Conn.
type Client[Req, Resp any] struct {
	nc      *nats.Conn
	subject string
	enc     codec.Encoder[Req]
	dec     codec.Decoder[Resp]
	noCheck bool
	hdr     string
}

// DialClient returns a client of the server on subject. No message is
// sent until the first call; a call with no server listening fails with an
// error matching nats.ErrNoResponders.
func DialClient[Req, Resp any](nc *nats.Conn, subject string, enc codec.Encoder[Req], dec codec.Decoder[Resp],
	opts ...Option) (*Client[Req, Resp], error) {
	if nc == nil || enc == nil || dec == nil {
		return nil, errors.New("zerobuffer: natsx: nil connection or codec")
	}
	if err := validSubject(subject); err != nil {
		return nil, err
	}
	for _, n := range []string{dec.Name(), enc.Name()} {
		if err := codec.ValidateName(n); err != nil {
			return nil, err
		}
	}
	o := buildOptions(opts)
	return &Client[Req, Resp]{nc: nc, subject: subject, enc: enc, dec: dec, noCheck: o.noCheck, hdr: enc.Name()}, nil
}

// Call sends req and returns the response. ctx's deadline travels with the
// request: the handler's ctx ends when the caller stops waiting. Errors: a
// *duplex.HandlerError (matching duplex.ErrHandler) for an error reply, an
// encoding error wrapping codec.ErrEncode, a decoding error wrapping
// codec.ErrInvalid, a codec mismatch, the ctx error, or the nats.go error
// (nats.ErrNoResponders when no server listens).
func (c *Client[Req, Resp]) Call(ctx context.Context, req Req) (Resp, error) {
	var out Resp
	var bw bufWriter
	if err := c.enc.EncodeFrame(ctx, &bw, req); err != nil {
		return out, err
	}
	m := &nats.Msg{Subject: c.subject, Data: bw.buf, Header: nats.Header{}}
	if !c.noCheck {
		m.Header.Set(hdrCodec, c.hdr)
	}
	if dl, ok := ctx.Deadline(); ok {
		m.Header.Set(hdrTimeout, strconv.FormatInt(int64(max(time.Until(dl), 1)), 10))
	}
	r, err := c.nc.RequestMsgWithContext(ctx, m)
	if err != nil {
		return out, fmt.Errorf("natsx: call %s: %w", c.subject, err)
	}
	if msg, ok := r.Header[hdrError]; ok {
		return out, &duplex.HandlerError{Message: first(msg)}
	}
	if got := r.Header.Get(hdrCodec); !c.noCheck && got != c.dec.Name() {
		return out, &codec.MismatchError{Want: c.dec.Name(), Got: got}
	}
	v, err := c.dec.Decode(r.Data)
	if err != nil {
		return out, fmt.Errorf("natsx: decode response: %w", err)
	}
	return v, nil
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}
