package duplex

// Invariants of the serving loop:
//
//   - Exactly one response is written for every request read while a
//     client is reachable (s.sess.w != nil and not gone), in read order. A
//     client that cannot be reached gets none: its requests are released
//     unanswered until the next client's first request.
//   - A request with sequence number 1 is the first request of a new
//     client: every writer starts at 1, and the core reader accepts the
//     restart (docs/PROTOCOL.md W6/W7). Before switching to the new client, every
//     response of the previous one is written (pool barrier) and its
//     response writer is closed.
//   - The client creates NAME_response before it connects to
//     NAME_request, so when its first request arrives the response buffer
//     exists; the server connects to it then, not earlier, which also
//     guarantees that the client's metadata is visible.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/zerobuffer/zerobuffer-go/core"
)

const (
	// drainPoll is how long Shutdown waits for one more request before it
	// considers the request buffer drained.
	drainPoll = 10 * time.Millisecond
	// connectPoll is the retry interval while connecting to a client's
	// response buffer.
	connectPoll = 5 * time.Millisecond
)

// errDrained ends the serving loop after Shutdown answered everything.
var errDrained = errors.New("drained")

// run is the serving loop; it returns when the server stops.
func (s *RawServer) run(ctx, readCtx context.Context) error {
	for {
		f, err := s.read(ctx, readCtx)
		switch {
		case err == nil:
			s.serveFrame(ctx, f)
			continue
		case errors.Is(err, io.EOF) || errors.Is(err, core.ErrWriterDead):
			s.barrier()
			s.endSession()
			if s.draining.Load() {
				return nil
			}
			if err = s.req.WaitWriter(readCtx); err == nil {
				continue
			}
		}
		if err != errDrained && readCtx.Err() != nil && ctx.Err() == nil && s.draining.Load() {
			continue // Shutdown woke the reader: drain
		}
		s.barrier()
		s.endSession()
		if err == errDrained || ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("duplex: read request: %w", err)
	}
}

// read returns the next request. While draining it waits at most
// drainPoll, then reports errDrained.
func (s *RawServer) read(ctx, readCtx context.Context) (*core.Frame, error) {
	if !s.draining.Load() {
		return s.req.ReadFrame(readCtx)
	}
	dctx, cancel := context.WithTimeout(ctx, drainPoll)
	defer cancel()
	f, err := s.req.ReadFrame(dctx)
	if err != nil && dctx.Err() != nil && ctx.Err() == nil {
		return nil, errDrained
	}
	return f, err
}

// serveFrame answers one request, starting a new session at a new
// client's first request.
func (s *RawServer) serveFrame(ctx context.Context, f *core.Frame) {
	if f.Sequence() == 1 {
		s.barrier()
		s.endSession()
		s.startSession(ctx)
	}
	if s.sess.w == nil || s.sess.gone.Load() {
		_ = f.Release()
		return
	}
	if s.pool != nil {
		s.pool.submit(f, s.sess.w)
		return
	}
	rw := &s.rw
	rw.reset(s.sess.w, s.sess.w.MaxFrameSize())
	herr := s.callHandler(ctx, f.Data(), rw)
	werr := rw.finish(ctx, herr)
	_ = f.Release()
	s.after(ctx, herr, werr)
}

// barrier waits until every dispatched request is answered.
func (s *RawServer) barrier() {
	if s.pool != nil {
		s.pool.wait()
	}
}

// startSession connects to the new client's response buffer and calls
// the connect hook. On failure the session has no writer and the client's
// requests are dropped.
func (s *RawServer) startSession(ctx context.Context) {
	w, err := s.connectBack(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.report(fmt.Errorf("duplex: connect to %q: %w", ResponseName(s.name), err))
		}
		return
	}
	if len(s.o.respMeta) > 0 {
		if err := w.SetMetadata(s.o.respMeta); err != nil && !errors.Is(err, core.ErrMetadataAlreadyWritten) {
			s.report(fmt.Errorf("duplex: declare response codec: %w", err))
		}
	}
	s.sess.w = w
	s.statsW.Store(w)
	s.sess.gone.Store(false)
	s.o.logger.Info("client connected", "name", s.name)
	if s.o.onConnect != nil {
		md, err := s.req.Metadata()
		if err != nil {
			md = nil
		}
		s.o.onConnect(md)
	}
}

// connectBack connects a writer to NAME_response, retrying while the
// buffer is missing, not ready, or still the stale one of a dead client,
// as long as the client is connected to the request buffer.
func (s *RawServer) connectBack(ctx context.Context) (*core.Writer, error) {
	return connectWriter(ctx, &s.o, ResponseName(s.name), s.req.WriterConnected)
}

// connectWriter connects a writer to the response buffer resp, retrying
// for up to o.connectTimeout while the buffer is missing, not ready, or
// still the stale one of a dead client, as long as clientAlive reports
// the requesting client connected. Both servers connect back through it.
func connectWriter(ctx context.Context, o *options, resp string, clientAlive func() bool) (*core.Writer, error) {
	deadline := time.Now().Add(o.connectTimeout)
	t := time.NewTicker(connectPoll)
	defer t.Stop()
	for {
		w, err := core.NewWriter(resp, o.coreOpts...)
		if err == nil {
			return w, nil
		}
		retry := errors.Is(err, core.ErrNotFound) || errors.Is(err, core.ErrNotReady) || errors.Is(err, core.ErrReaderDead)
		if !retry || time.Now().After(deadline) || !clientAlive() {
			return nil, err // the client that sent the request is gone too
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// endSession closes the response writer of the current client, if any.
// The client reads the responses already written, then gets io.EOF.
func (s *RawServer) endSession() {
	if s.sess.w == nil {
		return
	}
	if err := s.sess.w.Close(); err != nil {
		s.report(fmt.Errorf("duplex: close response writer: %w", err))
	}
	s.sess.w = nil
	s.statsW.Store(nil)
	s.sess.gone.Store(false)
}
