package duplex

// Multi-client server. Invariants:
//
//   - The request side is a core.FanIn on NAME_request: each client
//     writes into a lane of its own (lane 0 is NAME_request itself, where a
//     C++ DuplexClient connects; Go clients of DialRawMulti take lanes 1
//     and up). Lanes are recreated once their client has left and every
//     request it sent was read (core.FanInConfig.ResetOnLeave), so a lane's
//     metadata always belongs to the lane's one client.
//   - A Go client declares its response buffer in its lane's metadata
//     ("zerobuffer-duplex-response=NAME_response.PID-NONCE\n" before its
//     own metadata). The name is unique to that client; a lane-0 client
//     uses NAME_response. The server answers lane k's requests only into
//     the buffer lane k declares, and only after checking that its
//     reader_pid is the PID of lane k's writer: a dead client's requests
//     can therefore never be answered into another client's buffer, and a
//     client cannot redirect responses into a buffer it does not own.
//   - Per lane, exactly one response per request read while the client is
//     reachable, in that lane's request order; a request with sequence
//     number 1 starts the lane's session (the core restarts sequences per
//     writer). Handlers run one at a time on the Serve goroutine.
//   - The Serve goroutine never waits for a client's response ring: a
//     handler builds its response in heap memory, and a response that
//     finds the ring full goes to the client's response queue, written by
//     a goroutine of that client's own (multiqueue.go). A client whose
//     ring stays full for the stall timeout, or that lets more than a
//     ring's worth of responses queue up, is disconnected: its later
//     requests are dropped and it reads the farewell frame, an error
//     response carrying ErrClientDisconnected's text, after the responses
//     already in its ring. The queue goroutine ends before the session's
//     writer closes.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/zerobuffer/zerobuffer-go/core"
)

// multiRespKey prefixes the response buffer name in a Go client's lane
// metadata.
const multiRespKey = "zerobuffer-duplex-response="

// DefaultStallTimeout is how long a [RawMultiServer] waits by default for
// room in one client's response ring before it disconnects that client
// (see [WithStallTimeout]).
const DefaultStallTimeout = 2 * time.Second

// WithStallTimeout sets how long a [RawMultiServer] waits for room in a
// client's full response ring (a client that does not read its
// responses) before it disconnects the client. The server keeps serving
// the other clients meanwhile: the waiting client's responses queue up
// in server memory, at most as many bytes as its ring holds; a client
// that exceeds that is disconnected at once. A disconnected client's
// later requests are dropped and its pending calls fail with
// [ErrClientDisconnected] once it reads the responses written before.
// Default [DefaultStallTimeout]. Multi server only: [RawServer] serves
// one client and waits for it as long as it lives.
func WithStallTimeout(d time.Duration) Option {
	return func(o *options) { o.stallTimeout = d }
}

// RawMultiServer answers requests of raw bytes from many client processes
// at once on channel NAME: every client has a request lane and a response
// buffer of its own, and gets only the responses to its own requests, in
// its request order. Clients dial with [DialRawMulti]; a C++ DuplexClient
// (or [DialRaw]) connects to NAME_request/NAME_response as to a
// [RawServer], as one more client.
//
// Handlers run one at a time on the goroutine that called Serve, taking
// the clients' requests round robin (see core.FanIn). [WithWorkers] is
// ignored. Each response is built in heap memory and copied into the
// client's ring once, so that no client can stall the others: a response
// that finds its client's ring full waits in a queue of that client's
// own, and a client that leaves its ring full for [WithStallTimeout], or
// lets more than a ring's worth of responses queue up, is disconnected
// (logged, and reported to [WithOnError] as [ErrClientDisconnected]).
// Its methods are safe for concurrent use.
type RawMultiServer struct {
	name    string
	o       options
	handler HandlerFunc
	fi      *core.FanIn

	mu       sync.Mutex
	reportMu sync.Mutex // serialises report: queue goroutines report too
	serving  bool
	closing  bool
	cancel   context.CancelFunc
	done     chan struct{}
	release  sync.Once

	// Owned by the serving goroutine.
	sess []multiSession
	rw   ResponseWriter
}

// multiSession is the server's side of the client on one lane.
type multiSession struct {
	w        *core.Writer // writer on the client's response buffer; nil if none
	resp     string       // name of that buffer
	gone     bool         // the client died or was disconnected: drop its requests
	mismatch error        // the client's metadata failed o.checkMeta: answer with it
	q        *respQueue   // responses waiting for room in the client's ring, if any
}

// NewRawMultiServer creates the request lanes of channel name (lane 0 is
// NAME_request, sized by [WithRequestBuffer] like every other lane) and
// returns a server that answers with h once Serve runs. It fails with an
// error matching core.ErrReaderExists while another server owns name.
// maxClients bounds the clients connected at once (1..core.MaxLanes;
// 0 means 16).
func NewRawMultiServer(name string, maxClients int, h HandlerFunc, opts ...Option) (*RawMultiServer, error) {
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
	switch {
	case o.stallTimeout == 0:
		o.stallTimeout = DefaultStallTimeout
	case o.stallTimeout < 0:
		return nil, fmt.Errorf("zerobuffer: duplex: stall timeout %v must be positive", o.stallTimeout)
	}
	fc := core.FanInConfig{MaxLanes: maxClients, ResetOnLeave: true}
	fi, err := core.NewFanIn(RequestName(name), o.reqCfg, fc, o.coreOpts...)
	if err != nil {
		return nil, fmt.Errorf("duplex: create request lanes: %w", err)
	}
	return &RawMultiServer{name: name, o: o, handler: h, fi: fi}, nil
}

// Name returns the channel name.
func (s *RawMultiServer) Name() string { return s.name }

// Lanes describes the request lanes and their clients.
func (s *RawMultiServer) Lanes() []core.LaneInfo { return s.fi.Lanes() }

// Serve answers requests until ctx ends or [RawMultiServer.Close] is
// called; it returns [ErrServerClosed] after Close, the ctx error when ctx
// ended, or the error that stopped the request side. The server is closed
// when Serve returns. A concurrent second call returns [ErrServing].
func (s *RawMultiServer) Serve(ctx context.Context) error {
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
	s.serving, s.cancel, s.done = true, cancel, make(chan struct{})
	s.mu.Unlock()

	var err error
	for err == nil {
		var f *core.Frame
		var k int
		if f, k, err = s.fi.ReadFrame(runCtx); err == nil {
			s.serveFrame(runCtx, f, k)
		}
	}
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
	return fmt.Errorf("duplex: read request: %w", err)
}

// Close stops the server: the handler's ctx is cancelled, Close waits for
// Serve to return, then closes every client's response writer (a waiting
// client gets [ErrServerClosed]) and removes the request lanes. Close is
// idempotent.
func (s *RawMultiServer) Close() error {
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

func (s *RawMultiServer) releaseAll() {
	s.release.Do(func() {
		for k := range s.sess {
			s.endSession(k)
		}
		if err := s.fi.Close(); err != nil {
			s.report(fmt.Errorf("duplex: close request lanes: %w", err))
		}
	})
}

func (s *RawMultiServer) report(err error) {
	s.reportMu.Lock()
	defer s.reportMu.Unlock()
	s.o.logger.Warn("zerobuffer: duplex multi server", "name", s.name, "err", err)
	if s.o.onError != nil {
		s.o.onError(err)
	}
}

// serveFrame answers one request of lane k.
func (s *RawMultiServer) serveFrame(ctx context.Context, f *core.Frame, k int) {
	for len(s.sess) <= k {
		s.sess = append(s.sess, multiSession{})
	}
	if f.Sequence() == 1 {
		s.endSession(k)
		s.startSession(ctx, k)
	}
	ss := &s.sess[k]
	if ss.w == nil || ss.gone {
		_ = f.Release()
		return
	}
	rw := &s.rw
	rw.reset(nil, ss.w.MaxFrameSize()) // heap: send never waits for the client
	herr := ss.mismatch
	if herr == nil {
		herr = runHandler(s.handler, ctx, f.Data(), rw)
	}
	_ = rw.finish(ctx, herr) // buffered: only builds an error response
	_ = f.Release()
	if herr != nil && herr != ss.mismatch && !errors.Is(herr, core.ErrReaderDead) {
		s.report(handlerFailure(herr))
	}
	s.send(ctx, k, rw.buf)
}

// startSession connects to the response buffer lane k declares and checks
// that it belongs to lane k's writer. On failure the lane's requests are
// dropped until its next client.
func (s *RawMultiServer) startSession(ctx context.Context, k int) {
	md, err := s.fi.LaneMetadata(k)
	if err != nil {
		s.report(fmt.Errorf("duplex: lane %d metadata: %w", k, err))
		return
	}
	resp, user, err := parseMultiMeta(s.name, k, md)
	if err != nil {
		s.report(fmt.Errorf("duplex: lane %d: %w", k, err))
		return
	}
	w, err := s.connectBack(ctx, k, resp)
	if err != nil {
		if ctx.Err() == nil {
			s.report(fmt.Errorf("duplex: connect to %q: %w", resp, err))
		}
		if errors.Is(err, core.ErrReaderDead) && k > 0 {
			s.removeDead(resp) // the client died before its first response
		}
		return
	}
	if len(s.o.respMeta) > 0 {
		if err := w.SetMetadata(s.o.respMeta); err != nil && !errors.Is(err, core.ErrMetadataAlreadyWritten) {
			s.report(fmt.Errorf("duplex: declare response codec: %w", err))
		}
	}
	s.sess[k] = multiSession{w: w, resp: resp}
	if s.o.checkMeta != nil {
		if err := s.o.checkMeta(user); err != nil {
			s.sess[k].mismatch = err
			s.report(fmt.Errorf("duplex: lane %d: %w", k, err))
		}
	}
	s.o.logger.Info("zerobuffer: duplex client connected", "name", s.name, "lane", k, "response", resp)
	if s.o.onConnect != nil {
		s.o.onConnect(user)
	}
}

// parseMultiMeta returns the response buffer name lane k declares and the
// client's own metadata after it. Lane 0 without the key is a plain client
// (C++ DuplexClient, DialRaw) on NAME_response. A declared name must be
// one of this channel's client response names.
func parseMultiMeta(channel string, k int, md []byte) (resp string, user []byte, err error) {
	rest, ok := bytes.CutPrefix(md, []byte(multiRespKey))
	if !ok {
		if k == 0 {
			return ResponseName(channel), md, nil
		}
		return "", nil, errors.New("no response buffer declared")
	}
	line, user, ok := bytes.Cut(rest, []byte{'\n'})
	resp = string(line)
	if !ok || !strings.HasPrefix(resp, ResponseName(channel)+".") || strings.ContainsAny(resp, "/\x00") {
		return "", nil, fmt.Errorf("invalid response buffer declaration %q", line)
	}
	return resp, user, nil
}

// connectBack connects a writer to resp while lane k's client is
// connected, and accepts it only if resp's reader is that client.
func (s *RawMultiServer) connectBack(ctx context.Context, k int, resp string) (*core.Writer, error) {
	w, err := connectWriter(ctx, &s.o, resp, func() bool {
		_, alive := s.fi.LaneWriter(k)
		return alive
	})
	if err != nil {
		return nil, err
	}
	if pid, _ := s.fi.LaneWriter(k); pid == 0 || w.ReaderPID() != pid {
		_ = w.Close()
		return nil, fmt.Errorf("response buffer reader (pid %d) is not the lane's client (pid %d)", w.ReaderPID(), pid)
	}
	return w, nil
}

// endSession closes lane k's response writer, if any. The response
// buffer of a client that died is removed: its name is unique to that
// client, so nobody else would ever reuse and clean it.
func (s *RawMultiServer) endSession(k int) {
	ss := s.sess[k]
	s.sess[k] = multiSession{}
	ss.stopQueue()
	if ss.w == nil {
		return
	}
	dead := !ss.w.ReaderConnected()
	if err := ss.w.Close(); err != nil {
		s.report(fmt.Errorf("duplex: close response writer: %w", err))
	}
	if dead && k > 0 {
		s.removeDead(ss.resp)
	}
}

// removeDead removes the response buffer of a client that died: taking
// the name as its reader removes the dead reader's objects (its lock is
// free; a live owner's lock makes this fail harmlessly), and closing
// removes ours.
func (s *RawMultiServer) removeDead(resp string) {
	if r, err := core.NewReader(resp, core.BufferConfig{PayloadSize: 64}, s.o.coreOpts...); err == nil {
		_ = r.Close()
	}
}

// DialRawMulti connects to a [RawMultiServer] of channel name as one of
// its many clients. It creates a response buffer of its own,
// "NAME_response.PID-NONCE" (see [WithResponseBuffer]), claims a request
// lane (1 and up; see core.ClaimLaneFrom) and declares the response
// buffer in the lane's metadata, followed by [WithMetadata]. While the
// server does not exist yet or has no free lane, it retries until ctx
// ends. The client works like one from [DialRaw]; Close frees the lane.
func DialRawMulti(ctx context.Context, name string, opts ...Option) (*RawClient, error) {
	o, err := buildOptions(opts)
	if err != nil {
		return nil, err
	}
	if err := validateName(name); err != nil {
		return nil, err
	}
	var nonce [6]byte
	_, _ = rand.Read(nonce[:])
	respName := fmt.Sprintf("%s.%d-%s", ResponseName(name), os.Getpid(), hex.EncodeToString(nonce[:]))
	resp, err := core.NewReader(respName, o.respCfg, o.coreOpts...)
	if err != nil {
		return nil, fmt.Errorf("duplex: create response buffer: %w", err)
	}
	md := append([]byte(multiRespKey+respName+"\n"), o.metadata...)
	for {
		lane, err := core.ClaimLaneFrom(ctx, RequestName(name), 1, o.coreOpts...)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("duplex: dial %q: %w", name, err), resp.Close())
		}
		err = lane.Writer().SetMetadata(md)
		if err == nil {
			return &RawClient{
				name: name, req: lane.Writer(), resp: resp, lane: lane,
				sendMu: make(chan struct{}, 1), recvMu: make(chan struct{}, 1),
			}, nil
		}
		_ = lane.Close()
		if !errors.Is(err, core.ErrMetadataAlreadyWritten) && !errors.Is(err, core.ErrReaderDead) {
			return nil, errors.Join(fmt.Errorf("duplex: declare response buffer: %w", err), resp.Close())
		}
		// The lane still holds its previous client's metadata (the server
		// recreates it once it has read that client's requests), or the
		// server recreated it between the claim and now (the claimed
		// buffer is the old one, its reader gone): claim again. A server
		// that is really gone makes the claim itself wait.
		select {
		case <-ctx.Done():
			return nil, errors.Join(fmt.Errorf("duplex: dial %q: %w", name, ctx.Err()), resp.Close())
		case <-time.After(time.Millisecond):
		}
	}
}

// closeReq closes the request side: the lane of a multi client, the
// writer otherwise.
func (c *RawClient) closeReq() error {
	if c.lane != nil {
		return c.lane.Close()
	}
	return c.req.Close()
}
