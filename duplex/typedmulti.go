package duplex

import (
	"context"
	"errors"
	"slices"

	"github.com/zerobuffer/zerobuffer-go/codec"
)

// NewMultiServer is [NewServer] for many client processes at once: the
// typed counterpart of [NewRawMultiServer], with the same lanes,
// per-client response buffers, stall timeout and ordering. Clients dial
// it with [DialMulti]; maxClients bounds the clients connected at once
// (0 means 16).
//
// The codec check is per client: unless [WithoutCodecCheck] is given,
// the server writes "zerobuffer-codec=NAME\n" into each client's response
// buffer metadata, and a client whose lane metadata does not declare the
// request decoder's codec gets an error response naming the mismatch for
// every request (the error hook gets one error matching codec.ErrMismatch
// when that client connects); the other clients are served as usual.
// [WithOnConnect] receives each client's metadata after the codec header.
// The returned Server has no graceful drain: [Server.Shutdown] closes it.
func NewMultiServer[Req, Resp any](name string, maxClients int, dec codec.Decoder[Req], enc codec.Encoder[Resp],
	h func(ctx context.Context, req Req) (Resp, error), opts ...Option) (*Server[Req, Resp], error) {
	if dec == nil {
		return nil, errors.New("zerobuffer: duplex: nil decoder")
	}
	return newMultiServer(name, maxClients, dec.Name(), func(b []byte) (Req, error) { return codec.Decode(dec, b) }, enc, h, opts)
}

// NewMultiViewServer is [NewMultiServer] with a borrowing decoder, as
// [NewViewServer]: h receives a view of the request frame in shared
// memory, valid only until h returns.
func NewMultiViewServer[Req, Resp any](name string, maxClients int, dec codec.ViewDecoder[Req], enc codec.Encoder[Resp],
	h func(ctx context.Context, req Req) (Resp, error), opts ...Option) (*Server[Req, Resp], error) {
	if dec == nil {
		return nil, errors.New("zerobuffer: duplex: nil decoder")
	}
	return newMultiServer(name, maxClients, dec.Name(), func(b []byte) (Req, error) { return codec.View(dec, b) }, enc, h, opts)
}

func newMultiServer[Req, Resp any](name string, maxClients int, reqCodec string, decode func([]byte) (Req, error),
	enc codec.Encoder[Resp], h func(context.Context, Req) (Resp, error), opts []Option) (*Server[Req, Resp], error) {
	s, hook, err := prepareServer(reqCodec, multiDeclLen(name), decode, enc, h, func(_ *Server[Req, Resp], o *options) {
		o.checkMeta = func(md []byte) error { return codec.CheckMetadata(md, reqCodec) }
		if user := o.onConnect; user != nil {
			o.onConnect = func(md []byte) {
				if _, rest, err := codec.ParseMetadata(md); err == nil {
					md = rest
				}
				user(md)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	if s.multi, err = NewRawMultiServer(name, maxClients, s.handle, append(slices.Clip(opts), hook)...); err != nil {
		return nil, err
	}
	return s, nil
}

// multiDeclLen bounds the response buffer declaration a client of channel
// name writes before its own metadata: the key, NAME_response, '.', a PID
// of up to 20 digits, '-', 12 hex digits of nonce and '\n'.
func multiDeclLen(name string) int {
	return len(multiRespKey) + len(ResponseName(name)) + 1 + 20 + 1 + 12 + 1
}

// DialMulti connects to a typed server from [NewMultiServer] as one of its
// many clients: [DialRawMulti] with the codec declaration and check of
// [Dial]. The returned Client works like one from Dial; Close frees its
// lane.
func DialMulti[Req, Resp any](ctx context.Context, name string, enc codec.Encoder[Req], dec codec.Decoder[Resp],
	opts ...Option) (*Client[Req, Resp], error) {
	return dialTyped(ctx, name, enc, dec, opts, DialRawMulti)
}
