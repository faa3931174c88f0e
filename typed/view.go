package typed

import (
	"context"
	"fmt"
	"iter"

	"github.com/zerobuffer/zerobuffer-go/codec"
	"github.com/zerobuffer/zerobuffer-go/core"
)

// ViewReceiver receives values from a borrowing [codec.ViewDecoder]
// (zero-copy views such as FlatBuffers tables or raw frames). A view is
// only valid while its frame is held, so ViewReceiver offers only scoped
// forms whose lifetimes are lexical: [ViewReceiver.RecvFunc] and
// [ViewReceiver.RecvBatch] (inside the callback) and [ViewReceiver.All]
// (inside the loop body). There is no
// Recv and no channel, and [Receiver] does not accept a ViewDecoder, so a
// view cannot outlive its frame through this package without the compiler
// rejecting the code.
//
// A ViewReceiver owns its *core.Reader. It is safe for concurrent use;
// frames are handed out one at a time, in order.
type ViewReceiver[T any] struct {
	l   *link
	dec codec.ViewDecoder[T]
	// raw is set for codec.Raw (see rawView): the view is the frame.
	raw func([]byte) T
}

// NewViewReceiver wraps r; see [NewReceiver] for the codec check. On
// success the ViewReceiver owns r.
func NewViewReceiver[T any](r *core.Reader, dec codec.ViewDecoder[T], opts ...Option) (*ViewReceiver[T], error) {
	if dec == nil {
		return nil, errNilDecoder
	}
	l, err := newLink(r, dec.Name(), buildOptions(opts))
	if err != nil {
		return nil, err
	}
	l.fp = codec.FingerprintOf(dec)
	return &ViewReceiver[T]{l: l, dec: dec, raw: rawView(dec)}, nil
}

// rawView returns, for codec.Raw (whose view of a frame is the frame and
// which cannot fail or panic), the identity as a func([]byte) T, so that
// a receive skips the decoder call and its panic guard; nil for every
// other decoder. The assertion succeeds only when T is []byte.
func rawView[T any](dec codec.ViewDecoder[T]) func([]byte) T {
	if !codec.IsRaw(dec) {
		return nil
	}
	f, _ := any(func(b []byte) []byte { return b }).(func([]byte) T)
	return f
}

// view decodes the frame's data with the ViewReceiver's decoder.
func (r *ViewReceiver[T]) view(data []byte) (T, error) {
	if r.raw != nil {
		return r.raw(data), nil
	}
	return codec.View(r.dec, data)
}

// ListenView creates the buffer name and returns a ViewReceiver for it;
// see [Listen].
func ListenView[T any](name string, cfg core.BufferConfig, dec codec.ViewDecoder[T], opts ...Option) (*ViewReceiver[T], error) {
	if dec == nil {
		return nil, errNilDecoder
	}
	return listenWith(name, cfg, dec.Name(), opts, func(r *core.Reader) (*ViewReceiver[T], error) {
		return NewViewReceiver(r, dec, opts...)
	})
}

// RecvFunc waits for the next message and calls fn with a view of it. The
// view, and anything derived from it (strings, slices), is valid only until
// fn returns; then the frame is released, also if fn panics. RecvFunc
// returns fn's error, a decode error (wrapping codec.ErrInvalid, fn is not
// called) or the core's error unchanged: io.EOF after the sender closed and
// every message was received, core.ErrWriterDead if it died, the ctx error,
// core.ErrClosed, or [ErrCodecMismatch].
func (r *ViewReceiver[T]) RecvFunc(ctx context.Context, fn func(v T) error) error {
	// link.next, without its call: this is the per-message path.
	f, err := r.l.r.ReadFrame(ctx)
	if err == nil && !r.l.ready() {
		f, err = r.l.checkFrame(f)
	}
	if err != nil {
		return err
	}
	defer f.Release()
	if r.raw != nil {
		return fn(r.raw(f.Data()))
	}
	v, err := codec.View(r.dec, f.Data())
	if err != nil {
		return decodeErr(f, err)
	}
	return fn(v)
}

// RecvBatch waits like [ViewReceiver.RecvFunc] for a message, then calls
// fn with a view of it and of every further message already committed, up
// to limit messages (limit <= 0: no limit), in one pass over the ring
// (core.Reader.ReadBatch): the reader's lock is taken and the ring's
// shared counters are published once per batch instead of once per
// message, which makes it the cheapest way to drain a stream of small
// messages. n is the number of messages taken from the ring: passed to
// fn, or failed to decode.
//
// Each view is valid only until fn returns; its frame is then released.
// fn runs with the reader locked: it must not call methods of r (that
// deadlocks; receive nested messages with RecvFunc or All instead), and
// other goroutines' receives wait for it. fn should not wait for the
// sender either: space freed by the batch's earlier messages may reach
// the sender only when the batch ends.
//
// When fn returns an error, RecvBatch stops and returns it; the message fn
// was given counts as received. A message that fails to decode stops the
// batch with the decode error (wrapping codec.ErrInvalid; fn is not called
// for it, it counts as received, and the next call continues after it).
// The other errors are RecvFunc's, with n == 0.
func (r *ViewReceiver[T]) RecvBatch(ctx context.Context, limit int, fn func(v T) error) (n int, err error) {
	if !r.l.ready() {
		// The first message runs the codec check (see link.check).
		f, err := r.l.next(ctx)
		if err != nil {
			return 0, err
		}
		defer f.Release()
		v, err := r.view(f.Data())
		if err != nil {
			return 1, decodeErr(f, err)
		}
		return 1, fn(v)
	}
	return r.l.r.ReadBatch(ctx, limit, func(data []byte, seq uint64) error {
		v, err := r.view(data)
		if err != nil {
			return fmt.Errorf("typed: frame %d: %w", seq, err)
		}
		return fn(v)
	})
}

// All returns an iterator over the messages: each view is valid only
// within its loop iteration, after which the frame is released (also on
// break or panic). io.EOF ends the sequence without an error. A decode
// error is yielded with the zero T and the loop may continue with the
// next message; any other error is yielded once and ends the sequence.
func (r *ViewReceiver[T]) All(ctx context.Context) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for {
			more, stop := r.step(ctx, yield)
			if stop || !more {
				return
			}
		}
	}
}

// step handles one message of All. more is false when the loop body broke
// out; stop is true when the sequence ended.
func (r *ViewReceiver[T]) step(ctx context.Context, yield func(T, error) bool) (more, stop bool) {
	var zero T
	f, err := r.l.next(ctx)
	if err != nil {
		if !isEnd(err) {
			yield(zero, err)
		}
		return false, true
	}
	defer f.Release()
	v, err := r.view(f.Data())
	if err != nil {
		return yield(zero, decodeErr(f, err)), false
	}
	return yield(v, nil), false
}

// Close closes the underlying reader and removes the buffer; see
// core.Reader.Close. Blocked receives return core.ErrClosed.
func (r *ViewReceiver[T]) Close() error { return r.l.r.Close() }

// Reader returns the underlying reader, e.g. for WaitWriter or
// WriterConnected. Reading frames from it directly bypasses the codec.
func (r *ViewReceiver[T]) Reader() *core.Reader { return r.l.r }
