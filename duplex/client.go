package duplex

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zerobuffer/zerobuffer-go/core"
)

const (
	// dialPoll is how often Dial retries while the server's request buffer
	// does not exist yet.
	dialPoll = 10 * time.Millisecond
	// watchInterval is how long a goroutine waiting for a response sleeps
	// before it checks that the server still reads the request buffer.
	watchInterval = 50 * time.Millisecond
)

// RawClient sends requests of raw bytes to a [RawServer] (or any
// ZeroBuffer duplex server, such as the C++ reference) and receives one
// response per request, in order. It owns its response buffer
// NAME_response and the writer on NAME_request.
//
// A RawClient is safe for concurrent use: concurrent [RawClient.Call]s
// each get their own response, and Call may be mixed with the pipelined
// [RawClient.Send]/[RawClient.Receive]. Requests are written in the order
// their calls obtain the client's send side, and responses are matched to
// requests in that order.
type RawClient struct {
	name string
	req  *core.Writer // NAME_request
	resp *core.Reader // NAME_response, ours
	lane *core.Lane   // DialRawMulti (multi.go): the request lane; its writer rings the server's doorbell

	sendMu    chan struct{} // held from a request's Reserve to its Commit
	recvMu    chan struct{} // held by the goroutine reading responses
	reserving atomic.Bool   // a public Reserve awaits its Commit
	connected atomic.Bool   // a response arrived: the server's writer is attached

	mu        sync.Mutex
	pending   fifo[*call] // requests written, awaiting responses, in write order
	unclaimed fifo[*call] // Send/Commit requests not yet claimed by Receive
	err       error       // sticky: the client is unusable; pending calls failed
	sendErr   error       // sticky: requests cannot be sent; pending calls may still be answered

	closeOnce sync.Once
	closeErr  error
	closing   atomic.Bool
	closeMu   sync.Mutex // held by Close until both buffers are closed
}

// call is one request awaiting its response.
type call struct {
	done      chan struct{} // closed when resp or err is set
	resp      []byte        // owned copy of the response
	err       error
	abandoned atomic.Bool // its caller gave up: drop the response
}

// DialRaw connects to the server of channel name. It first creates the
// response buffer NAME_response (see [WithResponseBuffer]), then connects
// to NAME_request, and writes [WithMetadata] if given. While NAME_request
// does not exist yet, DialRaw retries every 10ms until ctx ends. It fails
// with an error matching fs.ErrExist when another client is connected to
// the channel.
func DialRaw(ctx context.Context, name string, opts ...Option) (*RawClient, error) {
	o, err := buildOptions(opts)
	if err != nil {
		return nil, err
	}
	if err := validateName(name); err != nil {
		return nil, err
	}
	accept := o.acceptMeta
	if accept == nil {
		want := o.metadata
		accept = func(have []byte) error {
			if !bytes.Equal(have, want) {
				return ErrMetadataConflict
			}
			return nil
		}
	}
	// Order matters: the server connects back when it sees our first
	// request, so the response buffer must exist before we can send one.
	resp, err := newResponseReader(ctx, name, o)
	if err != nil {
		return nil, err
	}
	req, err := dialWriter(ctx, RequestName(name), o.coreOpts)
	if err == nil {
		if err = declare(req, o.metadata, accept); err != nil {
			err = errors.Join(err, req.Close())
		}
	}
	if err != nil {
		return nil, errors.Join(err, resp.Close())
	}
	c := &RawClient{
		name: name, req: req, resp: resp,
		sendMu: make(chan struct{}, 1), recvMu: make(chan struct{}, 1),
	}
	return c, nil
}

// newResponseReader creates NAME_response. An earlier client's response
// buffer may still exist although no reader owns it: on Windows a section
// lives while any process holds a handle, and the server's writer holds
// the buffer of a client that died until the server notices the death
// (within its peer-check interval) and ends that session. Creating the
// buffer then fails with fs.ErrExist, which is not core.ErrReaderExists
// (a live client): retry every dialPoll until the old buffer is gone or
// ctx ends.
func newResponseReader(ctx context.Context, name string, o options) (*core.Reader, error) {
	t := time.NewTicker(dialPoll)
	defer t.Stop()
	for {
		r, err := core.NewReader(ResponseName(name), o.respCfg, o.coreOpts...)
		if err == nil {
			return r, nil
		}
		if !errors.Is(err, fs.ErrExist) || errors.Is(err, core.ErrReaderExists) {
			return nil, fmt.Errorf("duplex: create response buffer: %w", err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("duplex: create response buffer: %w (the previous client's buffer still exists: %w)", ctx.Err(), err)
		case <-t.C:
		}
	}
}

func dialWriter(ctx context.Context, name string, opts []core.Option) (*core.Writer, error) {
	t := time.NewTicker(dialPoll)
	defer t.Stop()
	for {
		w, err := core.NewWriter(name, opts...)
		if err == nil || !(errors.Is(err, core.ErrNotFound) || errors.Is(err, core.ErrNotReady)) {
			if err != nil {
				err = fmt.Errorf("duplex: connect to request buffer: %w", err)
			}
			return w, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("duplex: dial %q: %w (last error: %w)", name, ctx.Err(), err)
		case <-t.C:
		}
	}
}

// declare writes md into the request buffer's metadata. If an earlier
// client wrote metadata already, accept judges it.
func declare(w *core.Writer, md []byte, accept func(have []byte) error) error {
	if len(md) == 0 {
		return nil
	}
	err := w.SetMetadata(md)
	if !errors.Is(err, core.ErrMetadataAlreadyWritten) {
		return err
	}
	have, err := w.Metadata()
	if err != nil {
		return fmt.Errorf("duplex: read metadata: %w", err)
	}
	return accept(have)
}

// Name returns the channel name.
func (c *RawClient) Name() string { return c.name }

// Close closes the client. Calls waiting for a response return
// core.ErrClosed (matching os.ErrClosed); the server answers nothing more
// and waits for the next client. Close waits for an open
// [RawClient.Reserve] to be committed. It is idempotent.
//
// Every Close call, and every call that fails because of it, returns only
// after the response buffer is removed and the request writer released,
// whichever goroutine closes them: a program may exit as soon as one
// returns.
func (c *RawClient) Close() error {
	c.closeOnce.Do(func() { // a concurrent Close waits in Do until this is done
		c.closeMu.Lock()
		defer c.closeMu.Unlock()
		c.closing.Store(true)
		c.closeErr = errors.Join(c.closeReq(), c.resp.Close())
		c.fail(core.ErrClosed)
	})
	return c.closeErr
}

// afterClose returns err, first waiting for a Close in progress, so that a
// call failing because the client is closing returns only once the
// buffers are closed.
func (c *RawClient) afterClose(err error) error {
	if err != nil && c.closing.Load() {
		c.closeMu.Lock()
		c.closeMu.Unlock() // nothing to guard: this waits for Close to finish
	}
	return err
}

// fail makes err (the first one given) sticky and completes every pending
// call with it. Unclaimed calls that already have their response keep it
// for Receive. It returns the sticky error.
func (c *RawClient) fail(err error) error {
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	err = c.err
	var calls []*call
	for c.pending.len() > 0 {
		calls = append(calls, c.pending.pop())
	}
	c.mu.Unlock()
	for _, k := range calls {
		k.err = err
		close(k.done)
	}
	return err
}

// sendable returns the error that prevents sending, if any.
func (c *RawClient) sendable() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return c.err
	}
	return c.sendErr
}

func (c *RawClient) hasPending() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pending.len() > 0
}

// sendFailed maps an error of the request buffer to the client's view.
// A vanished server makes sending impossible for good, but the responses
// it wrote before it left are still delivered to their calls.
func (c *RawClient) sendFailed(err error) error {
	switch {
	case errors.Is(err, core.ErrReaderDead):
		err = c.classifyGone(err)
	case errors.Is(err, core.ErrClosed), errors.Is(err, core.ErrCorrupt):
	default:
		return err // ctx errors, frame too large: only this request failed
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return c.err
	}
	if c.sendErr == nil {
		c.sendErr = err
	}
	return c.sendErr
}

// classifyGone tells a graceful shutdown from a death when the server no
// longer reads requests: if no response is outstanding, a server that
// closed has left io.EOF in the response buffer.
func (c *RawClient) classifyGone(cause error) error {
	dead := fmt.Errorf("%w: %w", ErrServerDead, cause)
	select {
	case c.recvMu <- struct{}{}:
		defer func() { <-c.recvMu }()
	default:
		return dead // someone is reading: the response side will tell
	}
	if c.hasPending() {
		return dead
	}
	f, err := c.resp.ReadFrame(doneCtx) // does not block
	switch {
	case err == nil:
		_ = f.Release()
		return c.fail(ErrUnexpectedResponse)
	case errors.Is(err, io.EOF), errors.Is(err, core.ErrWriterDead):
		return c.recvErr(err)
	}
	return dead
}

// recvErr maps an error of the response buffer to the client's view and
// makes it sticky when the client is unusable afterwards.
func (c *RawClient) recvErr(err error) error {
	switch {
	case errors.Is(err, io.EOF):
		return c.fail(ErrServerClosed)
	case errors.Is(err, ErrServerDead):
		return c.fail(err)
	case errors.Is(err, core.ErrWriterDead), errors.Is(err, core.ErrReaderDead):
		return c.fail(fmt.Errorf("%w: %w", ErrServerDead, err))
	case errors.Is(err, core.ErrClosed), errors.Is(err, core.ErrCorrupt), errors.Is(err, core.ErrSequence):
		return c.fail(err)
	}
	return err
}

// fifo is a growable ring of values in insertion order.
type fifo[T any] struct {
	buf        []T
	head, size int
}

func (q *fifo[T]) len() int { return q.size }

func (q *fifo[T]) push(v T) {
	if q.size == len(q.buf) {
		nb := make([]T, max(8, 2*len(q.buf)))
		for i := range q.size {
			nb[i] = q.buf[(q.head+i)%len(q.buf)]
		}
		q.buf, q.head = nb, 0
	}
	q.buf[(q.head+q.size)%len(q.buf)] = v
	q.size++
}

func (q *fifo[T]) pop() T {
	var zero T
	v := q.buf[q.head]
	q.buf[q.head] = zero
	q.head = (q.head + 1) % len(q.buf)
	q.size--
	return v
}
