package natsx

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/zerobuffer/zerobuffer-go/codec"
	"github.com/zerobuffer/zerobuffer-go/core"
	"github.com/zerobuffer/zerobuffer-go/typed"
)

// closeTimeout bounds the end-of-stream publish of Close.
const closeTimeout = 10 * time.Second

// Sender sends values of type T to a channel over NATS: each
// [Sender.Send] encodes one value with its codec into one NATS message.
// It satisfies typed.Producer, like typed.Sender.
//
// A Sender is safe for concurrent use. It does not own the *nats.Conn.
type Sender[T any] struct {
	nc      *nats.Conn
	enc     codec.Encoder[T]
	subject string
	mode    Mode
	pub     *publisher    // JetStream mode
	id      string        // announced at Dial, ended at Close
	reply   string        // core mode: replyCodec + id + "." + codec name
	raw     func(T) error // core mode with codec.Raw or RawCopy; see rawPublish
	co      *coalescer    // core mode, unless WithoutCoalescing
	bufs    sync.Pool
	closed  atomic.Bool
	once    sync.Once
	err     error
}

var _ typed.Producer[int] = (*Sender[int])(nil)

// Dial returns a Sender for the channel subject on nc. In [JetStream] mode
// (the default) it creates the channel's stream if no receiver did yet and
// declares enc's codec in the channel's metadata (write-once, as in a shared
// buffer; package doc, "Metadata and codecs"): if the channel already
// declares another codec, Dial fails with
// an error matching typed.ErrCodecMismatch. In [Core] mode every message
// carries the codec name (in its reply subject, which costs no header).
//
// In JetStream mode, while the server does not answer (it is restarting,
// the connection is reconnecting, JetStream is not ready yet) Dial retries
// until ctx ends; a ctx without a deadline waits as long as that lasts.
func Dial[T any](ctx context.Context, nc *nats.Conn, subject string, enc codec.Encoder[T], opts ...Option) (*Sender[T], error) {
	if nc == nil || enc == nil {
		return nil, errors.New("zerobuffer: natsx: nil connection or encoder")
	}
	if err := validSubject(subject); err != nil {
		return nil, err
	}
	o := buildOptions(opts)
	md, err := codec.AppendMetadata(nil, enc.Name(), o.userMetadata)
	if err != nil {
		return nil, err
	}
	if o.noCheck {
		md = o.userMetadata
	}
	s := &Sender[T]{nc: nc, enc: enc, subject: subject, mode: o.mode}
	if o.mode == Core {
		s.id = newCoreID()
		name := enc.Name()
		if o.noCheck {
			name = ""
		}
		s.reply = replyCodec + s.id + "." + name
		// The announcement is at most once, like every core message; a
		// receiver also learns the sender from its messages.
		if err := s.publish(ctx, s.hello()); err != nil {
			return nil, err
		}
		if !o.noCoalesce {
			s.co = newCoalescer(nc, subject, s.reply)
		}
		s.raw = rawPublish(s)
		return s, nil
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("natsx: %w", err)
	}
	st, err := ensureStream(ctx, js, subject, o)
	if err != nil {
		return nil, err
	}
	if len(md) > 0 {
		have, err := declareMetadata(ctx, nc, js, st, md)
		if err != nil {
			return nil, err
		}
		if !o.noCheck {
			if err := codec.CheckMetadata(have, enc.Name()); err != nil {
				return nil, err
			}
		}
	}
	s.pub = newPublisher(nc, js, subject, o)
	s.id = s.pub.id
	// Stored before Dial returns, so a receiver that reads a later
	// sender's end-of-stream message knows this sender is still open.
	if err := s.publish(ctx, s.hello()); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Sender[T]) hello() *nats.Msg {
	return &nats.Msg{Subject: s.subject, Reply: s.reply, Header: nats.Header{hdrHello: []string{s.id}}}
}

// Send encodes v into one message and sends it. In JetStream mode it
// returns once the server has stored the message; while the channel is
// full (the receiver is slow or absent) or the server is unreachable it
// waits and retries until ctx ends, then fails with the ctx error (and
// [ErrFull] if the channel was full); a channel deleted meanwhile (see
// [Remove]) fails with [ErrRemoved]. In core mode it returns once the
// message is in the connection's buffer (at most once). A message above
// the server's max_payload fails with core.ErrFrameTooLarge; an encoding
// failure wraps codec.ErrEncode; after Close, Send fails with
// core.ErrClosed.
//
// In core mode, unless [WithoutCoalescing], Send queues the encoded value
// and a goroutine of the Sender publishes the values queued meanwhile
// together, as one message; an idle sender's value leaves at once. A
// connection error met by that goroutine is returned by a later Send, or
// by [Sender.Flush] or Close. [Sender.Flush] pushes queued values to the
// server (nats.Conn.Flush alone does not).
func (s *Sender[T]) Send(ctx context.Context, v T) error {
	if s.closed.Load() {
		return core.ErrClosed
	}
	if s.raw != nil {
		return s.raw(v)
	}
	bw, _ := s.bufs.Get().(*bufWriter)
	if bw == nil {
		bw = new(bufWriter)
	}
	defer s.bufs.Put(bw)
	if err := s.enc.EncodeFrame(ctx, bw, v); err != nil {
		return err
	}
	if !bw.committed {
		return fmt.Errorf("%w: encoder %q did not commit a frame", codec.ErrEncode, s.enc.Name())
	}
	if s.co != nil {
		return s.co.add(bw.buf) // copies bw.buf
	}
	if s.mode == Core {
		// Straight to the connection: no *nats.Msg to allocate, and
		// nats.go checks max_payload itself (no second lock per message).
		if err := s.nc.PublishRequest(s.subject, s.reply, bw.buf); err != nil {
			return coreSendErr(err, len(bw.buf), s.nc)
		}
		return nil
	}
	return s.publish(ctx, &nats.Msg{Subject: s.subject, Reply: s.reply, Data: bw.buf})
}

// rawPublish returns, for a core-mode sender whose encoder is codec.Raw or
// codec.RawCopy, a send function that publishes (or queues, see
// coalescer) the value's bytes as they are (the raw encoding is the
// identity, and both copy the bytes before they return), and nil
// otherwise. The returned
// function has type func(T) error only when T is []byte, which the
// assertion checks.
func rawPublish[T any](s *Sender[T]) func(T) error {
	if !codec.IsRaw(s.enc) {
		return nil
	}
	if co := s.co; co != nil {
		f, _ := any(co.add).(func(T) error)
		return f
	}
	nc, subject, reply := s.nc, s.subject, s.reply
	f, _ := any(func(v []byte) error {
		if err := nc.PublishRequest(subject, reply, v); err != nil {
			return coreSendErr(err, len(v), nc)
		}
		return nil
	}).(func(T) error)
	return f
}

// coreSendErr wraps a core publish error; a message above max_payload
// matches core.ErrFrameTooLarge, as in JetStream mode.
func coreSendErr(err error, n int, nc *nats.Conn) error {
	if errors.Is(err, nats.ErrMaxPayload) {
		return fmt.Errorf("natsx: %d-byte message, server max_payload %d: %w: %w", n, nc.MaxPayload(), core.ErrFrameTooLarge, err)
	}
	return fmt.Errorf("natsx: send: %w", err)
}

func (s *Sender[T]) publish(ctx context.Context, m *nats.Msg) error {
	if s.mode == Core {
		if mp := s.nc.MaxPayload(); mp > 0 && int64(len(m.Data)+headerLen(m.Header)) > mp {
			return fmt.Errorf("natsx: %d-byte message, server max_payload %d: %w", len(m.Data), mp, core.ErrFrameTooLarge)
		}
		var err error
		if m.Header == nil {
			err = s.nc.PublishRequest(m.Subject, m.Reply, m.Data)
		} else {
			err = s.nc.PublishMsg(m)
		}
		if err != nil {
			return fmt.Errorf("natsx: send: %w", err)
		}
		return nil
	}
	return s.pub.publish(ctx, m, s.pub.nextID())
}

// Flush returns once every value sent before it is with the server (in
// core mode: queued values published, then the connection flushed; in
// JetStream mode Send already waited for that), or with the error of a
// queued value's publication. Without a deadline in ctx, the connection's
// flush gives up after 10s.
func (s *Sender[T]) Flush(ctx context.Context) error {
	if s.mode != Core {
		return ctx.Err()
	}
	if s.co != nil {
		if err := s.co.flush(); err != nil {
			return err
		}
	}
	if _, ok := ctx.Deadline(); !ok { // nats.go requires one
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, closeTimeout)
		defer cancel()
	}
	if err := s.nc.FlushWithContext(ctx); err != nil {
		return fmt.Errorf("natsx: flush: %w", err)
	}
	return nil
}

// Close ends this sender's part of the stream: it publishes an
// end-of-stream message (waiting up to 10s for JetStream to store it,
// flushing in core mode). The receiver, having received everything sent
// before, gets io.EOF when this was the last open sender it knows of (see
// "Several senders" in the package documentation). On a channel deleted
// meanwhile it returns [ErrRemoved].
// Close does not close the *nats.Conn. It is idempotent.
func (s *Sender[T]) Close() error {
	s.once.Do(func() {
		s.closed.Store(true)
		ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
		defer cancel()
		if s.co != nil {
			// Queued values go before the end-of-stream message.
			s.err = s.co.flush()
		}
		h := nats.Header{hdrEOS: []string{s.id}}
		if err := s.publish(ctx, &nats.Msg{Subject: s.subject, Reply: s.reply, Header: h}); s.err == nil {
			s.err = err
		}
		if s.err == nil && s.mode == Core {
			s.err = s.nc.FlushWithContext(ctx)
		}
	})
	return s.err
}

// newCoreID returns a core-mode sender id: 12 random characters of
// [0-9A-Za-z] (71 bits), enough that two senders of one channel never
// share one, and short because every message carries it.
func newCoreID() string {
	const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	var b [12]byte
	for i := range b {
		b[i] = digits[rand.IntN(len(digits))]
	}
	return string(b[:])
}

// bufWriter is the codec.FrameWriter of a Sender: it keeps one frame in a
// reused buffer. nats.go copies a message's data before Publish returns,
// so the buffer may be reused by the next Send.
type bufWriter struct {
	buf       []byte
	committed bool
}

// Reserve returns n bytes of the buffer.
func (w *bufWriter) Reserve(_ context.Context, n int) ([]byte, error) {
	if n < 0 {
		return nil, fmt.Errorf("%w: negative size %d", codec.ErrEncode, n)
	}
	if cap(w.buf) < n {
		w.buf = make([]byte, n)
	}
	w.buf = w.buf[:n]
	w.committed = false
	return w.buf, nil
}

// Commit marks the frame complete.
func (w *bufWriter) Commit() error {
	w.committed = true
	return nil
}
