package duplex

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/zerobuffer/zerobuffer-go/codec"
	"github.com/zerobuffer/zerobuffer-go/core"
)

// Server answers typed requests: each request frame is decoded into a Req,
// passed to the handler, and the handler's Resp is encoded into the
// response frame; a handler error becomes an error response that the
// client returns as a [*HandlerError]. Lifecycle, options and ordering are
// those of [RawServer], which carries it ([RawMultiServer] for a server
// from [NewMultiServer]).
//
// Unless [WithoutCodecCheck] is given, the server writes
// "zerobuffer-codec=NAME\n" (NAME of the response encoder) into each
// client's response buffer metadata, and answers every request of a client
// whose request metadata does not declare the request decoder's codec with
// an error response naming the mismatch (the client gets a [*HandlerError];
// the error hook gets an error matching codec.ErrMismatch).
//
// A Server is safe for concurrent use.
type Server[Req, Resp any] struct {
	raw      *RawServer
	multi    *RawMultiServer // instead of raw, for NewMultiServer
	decode   func([]byte) (Req, error)
	enc      codec.Encoder[Resp]
	h        func(ctx context.Context, req Req) (Resp, error)
	mismatch atomic.Pointer[error] // codec mismatch of the current client
}

// NewServer creates the request buffer of channel name (see
// [NewRawServer]) and returns a server that decodes requests with dec
// (owned values), calls h, and encodes its responses with enc.
func NewServer[Req, Resp any](name string, dec codec.Decoder[Req], enc codec.Encoder[Resp],
	h func(ctx context.Context, req Req) (Resp, error), opts ...Option) (*Server[Req, Resp], error) {
	if dec == nil {
		return nil, errors.New("zerobuffer: duplex: nil decoder")
	}
	return newServer(name, dec.Name(), func(b []byte) (Req, error) { return codec.Decode(dec, b) }, enc, h, opts)
}

// NewViewServer is [NewServer] with a borrowing decoder: h receives a view
// of the request frame in shared memory (a FlatBuffers table, say), valid
// only until h returns. Copy what you keep.
func NewViewServer[Req, Resp any](name string, dec codec.ViewDecoder[Req], enc codec.Encoder[Resp],
	h func(ctx context.Context, req Req) (Resp, error), opts ...Option) (*Server[Req, Resp], error) {
	if dec == nil {
		return nil, errors.New("zerobuffer: duplex: nil decoder")
	}
	return newServer(name, dec.Name(), func(b []byte) (Req, error) { return codec.View(dec, b) }, enc, h, opts)
}

func newServer[Req, Resp any](name, reqCodec string, decode func([]byte) (Req, error), enc codec.Encoder[Resp],
	h func(context.Context, Req) (Resp, error), opts []Option) (*Server[Req, Resp], error) {
	s, hook, err := prepareServer(reqCodec, 0, decode, enc, h, func(s *Server[Req, Resp], o *options) {
		user := o.onConnect
		o.onConnect = func(md []byte) { s.connected(md, reqCodec, user) }
	})
	if err != nil {
		return nil, err
	}
	if s.raw, err = NewRawServer(name, s.handle, append(slices.Clip(opts), hook)...); err != nil {
		return nil, err
	}
	return s, nil
}

// prepareServer does what every typed server constructor shares: it checks
// enc, h and the request codec's name, builds the Server, and returns the
// option hook that (unless [WithoutCodecCheck] is given) declares enc's
// codec in the response metadata, makes room for reqCodec's declaration
// plus extra bytes in the request metadata, and then calls check to
// install the constructor's own codec check.
func prepareServer[Req, Resp any](reqCodec string, extra int, decode func([]byte) (Req, error), enc codec.Encoder[Resp],
	h func(context.Context, Req) (Resp, error), check func(*Server[Req, Resp], *options)) (*Server[Req, Resp], Option, error) {
	if enc == nil || h == nil {
		return nil, nil, errors.New("zerobuffer: duplex: nil encoder or handler")
	}
	if err := codec.ValidateName(reqCodec); err != nil {
		return nil, nil, err
	}
	respMeta, err := codec.AppendMetadata(nil, enc.Name(), nil)
	if err != nil {
		return nil, nil, err
	}
	s := &Server[Req, Resp]{decode: decode, enc: enc, h: h}
	hook := func(o *options) {
		if o.noCheck {
			return
		}
		o.respMeta = respMeta
		o.reqCfg = withDefaults(o.reqCfg)
		o.reqCfg.MetadataSize = max(o.reqCfg.MetadataSize, 8+extra+codec.MetadataLen(reqCodec, 0))
		check(s, o)
	}
	return s, hook, nil
}

// connected checks a new client's codec and passes the user part of its
// metadata to the user's hook.
func (s *Server[Req, Resp]) connected(md []byte, want string, user func([]byte)) {
	s.mismatch.Store(nil)
	if err := codec.CheckMetadata(md, want); err != nil {
		s.mismatch.Store(&err)
	}
	if user != nil {
		_, rest, err := codec.ParseMetadata(md)
		if err != nil {
			rest = md
		}
		user(rest)
	}
}

func (s *Server[Req, Resp]) handle(ctx context.Context, data []byte, rw *ResponseWriter) error {
	if p := s.mismatch.Load(); p != nil {
		return *p
	}
	req, err := s.decode(data)
	if err != nil {
		return fmt.Errorf("duplex: decode request: %w", err)
	}
	resp, err := s.h(ctx, req)
	if err != nil {
		return err
	}
	return s.enc.EncodeFrame(ctx, rw, resp)
}

// Name returns the channel name.
func (s *Server[Req, Resp]) Name() string {
	if s.multi != nil {
		return s.multi.Name()
	}
	return s.raw.Name()
}

// Serve answers requests; see [RawServer.Serve] and [RawMultiServer.Serve].
func (s *Server[Req, Resp]) Serve(ctx context.Context) error {
	if s.multi != nil {
		return s.multi.Serve(ctx)
	}
	return s.raw.Serve(ctx)
}

// Shutdown stops the server gracefully; see [RawServer.Shutdown]. A
// server from [NewMultiServer] has no graceful drain: Shutdown closes it
// at once, like Close.
func (s *Server[Req, Resp]) Shutdown(ctx context.Context) error {
	if s.multi != nil {
		return s.multi.Close()
	}
	return s.raw.Shutdown(ctx)
}

// Close stops the server at once; see [RawServer.Close].
func (s *Server[Req, Resp]) Close() error {
	if s.multi != nil {
		return s.multi.Close()
	}
	return s.raw.Close()
}

// Client calls a typed [Server]: [Client.Call] encodes a Req into one
// request frame and decodes the response into a Resp the caller owns.
// Unless [WithoutCodecCheck] is given, it declares the request encoder's
// codec in the request buffer metadata (followed by [WithMetadata] bytes)
// and checks that the server declared the response decoder's codec,
// failing with an error matching codec.ErrMismatch otherwise.
//
// A Client is safe for concurrent use; see [RawClient], which carries it.
type Client[Req, Resp any] struct {
	raw     *RawClient
	enc     codec.Encoder[Req]
	dec     codec.Decoder[Resp]
	noCheck bool

	checked  atomic.Bool
	mu       sync.Mutex
	mismatch error
}

// Dial connects to the typed server of channel name; see [DialRaw]. A
// second client of the same server succeeds only if it declares the same
// request codec as the first (metadata is write-once per request buffer).
func Dial[Req, Resp any](ctx context.Context, name string, enc codec.Encoder[Req], dec codec.Decoder[Resp],
	opts ...Option) (*Client[Req, Resp], error) {
	return dialTyped(ctx, name, enc, dec, opts, DialRaw)
}

// dialTyped is Dial over dialRaw ([DialRaw] or [DialRawMulti]).
func dialTyped[Req, Resp any](ctx context.Context, name string, enc codec.Encoder[Req], dec codec.Decoder[Resp],
	opts []Option, dialRaw func(context.Context, string, ...Option) (*RawClient, error)) (*Client[Req, Resp], error) {
	if enc == nil || dec == nil {
		return nil, errors.New("zerobuffer: duplex: nil encoder or decoder")
	}
	if err := codec.ValidateName(dec.Name()); err != nil {
		return nil, err
	}
	var noCheck bool
	hook := func(o *options) {
		if noCheck = o.noCheck; noCheck {
			return
		}
		md, err := codec.AppendMetadata(nil, enc.Name(), o.metadata)
		if err != nil {
			return // reported by the encoder check below
		}
		o.metadata = md
		o.acceptMeta = func(have []byte) error { return codec.CheckMetadata(have, enc.Name()) }
		o.respCfg = withDefaults(o.respCfg)
		o.respCfg.MetadataSize = max(o.respCfg.MetadataSize, 8+codec.MetadataLen(dec.Name(), 0))
	}
	if err := codec.ValidateName(enc.Name()); err != nil {
		return nil, err
	}
	raw, err := dialRaw(ctx, name, append(slices.Clip(opts), hook)...)
	if err != nil {
		return nil, err
	}
	return &Client[Req, Resp]{raw: raw, enc: enc, dec: dec, noCheck: noCheck}, nil
}

// Call sends req and returns the server's response. Errors are those of
// [RawClient.Call], an encoding error wrapping codec.ErrEncode (nothing is
// sent), a decoding error wrapping codec.ErrInvalid, or a codec mismatch.
func (c *Client[Req, Resp]) Call(ctx context.Context, req Req) (Resp, error) {
	var out Resp
	k, err := c.send(ctx, req)
	if err != nil {
		return out, err
	}
	_, err = c.raw.wait(ctx, k, func(b []byte) error {
		if err := c.check(); err != nil {
			return err
		}
		v, err := codec.Decode(c.dec, b)
		if err != nil {
			return fmt.Errorf("duplex: decode response: %w", err)
		}
		out = v
		return nil
	})
	return out, err
}

// send encodes req straight into the request ring.
func (c *Client[Req, Resp]) send(ctx context.Context, req Req) (*call, error) {
	if err := c.raw.lockSend(ctx); err != nil {
		return nil, err
	}
	defer c.raw.unlockSend()
	w := requestWriter{c: c.raw}
	err := c.enc.EncodeFrame(ctx, &w, req)
	if w.slot != nil {
		// The encoder reserved and did not commit. The core cannot undo a
		// Reserve: send zeros and drop the answer.
		clear(w.slot)
		if k, cerr := c.raw.commit(false); cerr == nil {
			k.abandoned.Store(true)
		}
		return nil, errors.Join(err, fmt.Errorf("%w: encoder %q did not commit", codec.ErrEncode, c.enc.Name()))
	}
	if err != nil {
		return nil, err
	}
	if w.k == nil {
		return nil, fmt.Errorf("%w: encoder %q wrote no frame", codec.ErrEncode, c.enc.Name())
	}
	return w.k, nil
}

// check compares the response buffer's metadata with the decoder's codec
// once; the server writes it before its first response.
func (c *Client[Req, Resp]) check() error {
	if c.noCheck || c.checked.Load() {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mismatch != nil || c.checked.Load() {
		return c.mismatch
	}
	md, err := c.raw.resp.Metadata()
	if err != nil {
		return err
	}
	if err := codec.CheckMetadata(md, c.dec.Name()); err != nil {
		c.mismatch = err
		return err
	}
	c.checked.Store(true)
	return nil
}

// Name returns the channel name.
func (c *Client[Req, Resp]) Name() string { return c.raw.Name() }

// Close closes the client; see [RawClient.Close].
func (c *Client[Req, Resp]) Close() error { return c.raw.Close() }

// requestWriter is the codec.FrameWriter of one typed request.
type requestWriter struct {
	c    *RawClient
	slot []byte // open reservation
	k    *call  // the committed request's call
}

func (w *requestWriter) Reserve(ctx context.Context, n int) ([]byte, error) {
	if w.slot != nil || w.k != nil {
		return nil, fmt.Errorf("%w: one frame per request", codec.ErrEncode)
	}
	b, err := w.c.reserve(ctx, n)
	if err != nil {
		return nil, err
	}
	w.slot = b
	return b, nil
}

func (w *requestWriter) Commit() error {
	if w.slot == nil {
		return core.ErrNoReservation
	}
	w.slot = nil
	k, err := w.c.commit(false)
	w.k = k
	return err
}
