package duplex

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/zerobuffer/zerobuffer-go/core"
)

// HandlerFunc handles one request. req is the request frame in place, in
// shared memory: it is valid only until the handler returns and must not
// be modified or retained. The handler writes exactly one response through
// resp. If it returns an error without having written one, the client gets
// the error as an error response ([*HandlerError]); an error returned after
// the response was written only reaches the server's error hook.
//
// ctx is the server's: it is cancelled by [RawServer.Close], by the end of
// the ctx passed to Serve, and when a [RawServer.Shutdown] runs out of time.
type HandlerFunc func(ctx context.Context, req []byte, resp *ResponseWriter) error

// RawServer answers requests of raw bytes on the channel NAME: it owns the
// request buffer NAME_request and writes responses into the response
// buffer NAME_response of whichever client is connected, one client at a
// time (docs/PROTOCOL.md section 12), one response per request, in request order.
// When a client leaves or dies the server waits for the next one.
//
// Its methods are safe for concurrent use. The zero value is not usable;
// create servers with [NewRawServer].
type RawServer struct {
	name    string
	o       options
	handler HandlerFunc
	req     *core.Reader

	mu       sync.Mutex
	serving  bool
	closing  bool               // Close or Shutdown was called
	cancel   context.CancelFunc // ends handlers and writes of Serve
	stopRead context.CancelFunc // wakes the reader for Shutdown
	done     chan struct{}      // closed when Serve has released everything
	draining atomic.Bool
	release  sync.Once

	reportMu sync.Mutex
	statsW   atomic.Pointer[core.Writer] // the current session's writer, for Stats

	// Owned by the serving goroutine.
	sess session
	rw   ResponseWriter
	pool *pool
}

// session is the server's side of the current client.
type session struct {
	w    *core.Writer // writer on the client's response buffer; nil if none
	gone atomic.Bool  // the client's response reader died: drop its requests
}

// NewRawServer creates the request buffer NAME_request (see
// [WithRequestBuffer]) and returns a server that answers with h once
// [RawServer.Serve] runs. Clients may dial as soon as NewRawServer returns;
// their requests wait in the buffer. It fails with an error matching
// core.ErrReaderExists (and fs.ErrExist) while another server owns name.
func NewRawServer(name string, h HandlerFunc, opts ...Option) (*RawServer, error) {
	if h == nil {
		return nil, errors.New("zerobuffer: duplex: nil handler")
	}
	o, err := buildOptions(opts)
	if err != nil {
		return nil, err
	}
	if err := validateName(name); err != nil {
		return nil, err
	}
	r, err := core.NewReader(RequestName(name), o.reqCfg, o.coreOpts...)
	if err != nil {
		return nil, fmt.Errorf("duplex: create request buffer: %w", err)
	}
	return &RawServer{name: name, o: o, handler: h, req: r}, nil
}

// Name returns the channel name.
func (s *RawServer) Name() string { return s.name }

// Serve answers requests until ctx ends, [RawServer.Close] or
// [RawServer.Shutdown] is called, or the request buffer fails (corruption
// by a misbehaving peer). It returns [ErrServerClosed] after Close or
// Shutdown and the ctx error when ctx ended; in every case the server is
// closed when Serve returns. Serve may be called once; a concurrent second
// call returns [ErrServing].
func (s *RawServer) Serve(ctx context.Context) error {
	s.mu.Lock()
	switch {
	case s.closing:
		s.mu.Unlock()
		return ErrServerClosed
	case s.serving:
		s.mu.Unlock()
		return ErrServing
	}
	runCtx, cancel := context.WithCancel(ctx)
	readCtx, stopRead := context.WithCancel(runCtx)
	s.serving, s.cancel, s.stopRead, s.done = true, cancel, stopRead, make(chan struct{})
	s.mu.Unlock()

	if s.o.workers > 1 {
		s.pool = newPool(s, runCtx, s.o.workers)
	}
	err := s.run(runCtx, readCtx)
	cancel()
	s.releaseAll()

	s.mu.Lock()
	closing := s.closing
	s.closing = true
	close(s.done)
	s.mu.Unlock()
	switch {
	case closing:
		return ErrServerClosed
	case ctx.Err() != nil:
		return ctx.Err()
	}
	return err
}

// Close stops the server at once: the handlers' ctx is cancelled, Close
// waits for the running handlers to return, then closes the client's
// response buffer (a waiting client gets [ErrServerClosed]) and removes the
// request buffer. Close is idempotent.
func (s *RawServer) Close() error {
	s.mu.Lock()
	s.closing = true
	serving, done, cancel := s.serving, s.done, s.cancel
	s.mu.Unlock()
	if serving {
		cancel()
		<-done
		return nil
	}
	s.releaseAll()
	return nil
}

// Shutdown stops the server gracefully: it stops waiting for new requests,
// answers every request already in the request buffer (including those
// arriving while it drains), then closes like [RawServer.Close]. If ctx
// ends first, Shutdown closes the server at once and returns the ctx
// error.
func (s *RawServer) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	serving, done := s.serving, s.done
	if serving {
		s.draining.Store(true)
		s.stopRead()
	}
	s.mu.Unlock()
	if !serving {
		s.releaseAll()
		return nil
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.Close()
		return ctx.Err()
	}
}

// releaseAll closes the response writer and removes the request buffer.
func (s *RawServer) releaseAll() {
	s.release.Do(func() {
		if s.pool != nil {
			s.pool.close()
		}
		s.endSession()
		if err := s.req.Close(); err != nil {
			s.report(fmt.Errorf("duplex: close request buffer: %w", err))
		}
	})
}

// report hands an error to the hook and the logger.
func (s *RawServer) report(err error) {
	s.reportMu.Lock()
	defer s.reportMu.Unlock()
	s.o.logger.Warn("server error", "name", s.name, "err", err)
	if s.o.onError != nil {
		s.o.onError(err)
	}
}

// callHandler runs the handler; see runHandler.
func (s *RawServer) callHandler(ctx context.Context, req []byte, rw *ResponseWriter) error {
	return runHandler(s.handler, ctx, req, rw)
}

// runHandler runs h, turning a panic into an error, and a missing
// response into ErrNoResponse. Both servers call handlers through it.
func runHandler(h HandlerFunc, ctx context.Context, req []byte, rw *ResponseWriter) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &panicError{val: p, stack: debug.Stack()}
		}
		if err == nil && !rw.committed() {
			err = ErrNoResponse
		}
	}()
	return h(ctx, req, rw)
}

// panicError keeps the stack for the error hook; the client gets only
// ErrHandlerPanic's text.
type panicError struct {
	val   any
	stack []byte
}

func (e *panicError) Error() string { return ErrHandlerPanic.Error() }
func (e *panicError) Unwrap() error { return ErrHandlerPanic }
func (e *panicError) detail() error {
	return fmt.Errorf("%w: %v\n%s", ErrHandlerPanic, e.val, e.stack)
}

// handlerFailure is the error hook's view of a handler error: with the
// panic value and stack of a panic.
func handlerFailure(herr error) error {
	var pe *panicError
	if errors.As(herr, &pe) {
		herr = pe.detail()
	}
	return fmt.Errorf("duplex: handler: %w", herr)
}

// after reports the outcome of one request: the handler's error and the
// error of writing its response. A dead client marks the session gone.
func (s *RawServer) after(ctx context.Context, herr, werr error) {
	if errors.Is(herr, core.ErrReaderDead) { // the handler passed on a failed write
		herr, werr = nil, cmp.Or(werr, herr)
	}
	if herr != nil {
		s.report(handlerFailure(herr))
	}
	switch {
	case werr == nil:
	case errors.Is(werr, core.ErrReaderDead):
		if !s.sess.gone.Swap(true) {
			s.report(fmt.Errorf("duplex: client gone, dropping its requests: %w", werr))
		}
	case ctx.Err() != nil:
		// Closing: the client learns it from the closed response buffer.
	default:
		s.report(fmt.Errorf("duplex: write response: %w", werr))
	}
}
