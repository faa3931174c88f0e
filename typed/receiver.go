package typed

import (
	"context"
	"errors"
	"iter"
	"sync"
	"sync/atomic"

	"github.com/zerobuffer/zerobuffer-go/codec"
	"github.com/zerobuffer/zerobuffer-go/core"
)

// Receiver receives values from an owning [codec.Decoder]: every value
// owns its memory, so it may be returned ([Receiver.Recv]), kept, or sent
// to another goroutine ([Receiver.C]). Borrowing decoders need a
// [ViewReceiver] instead; passing one here does not compile.
//
// A Receiver owns its *core.Reader. It is safe for concurrent use;
// messages are delivered one at a time, in order.
type Receiver[T any] struct {
	l    *link
	dec  codec.Decoder[T]
	safe codec.IntoDecoder[T] // codec.Guard(dec): decodes without panicking
	same codec.IntoDecoder[T] // codec.Guard of dec's codec.SameTypeDecoder form, or nil
	// solo and soloSame are safe and same in their codec.ExclusiveDecoder
	// form when the codec has one (else equal to them). Only recvBatch
	// decodes with them, inside core.Reader.ReadBatch's callback, which
	// runs with the reader locked: their calls never overlap.
	solo, soloSame codec.IntoDecoder[T]
	o              options

	chOnce sync.Once
	ch     chan T
	done   chan struct{} // closed by Close; stops the C goroutine
	wg     sync.WaitGroup
	mu     sync.Mutex
	err    error // why C's channel closed
	closed sync.Once

	queued atomic.Int64  // messages in queue[head:], read without mu
	queue  []item[T]     // under mu: decoded, not yet delivered, oldest first from head
	head   int           // under mu
	fill   chan struct{} // holds a token while a goroutine reads a batch, so that queue stays in order
	batch  []item[T]     // while holding fill: the slots recvBatch decodes into (zero beyond len)
}

// NewReceiver wraps r. Unless [WithoutCodecCheck] is given, the first
// message checks that the sender declared dec's codec in the buffer
// metadata; if not, that and every later receive fails with
// [ErrCodecMismatch] (a sender that wrote no metadata counts as a
// mismatch). On success the Receiver owns r.
func NewReceiver[T any](r *core.Reader, dec codec.Decoder[T], opts ...Option) (*Receiver[T], error) {
	if dec == nil {
		return nil, errNilDecoder
	}
	o := buildOptions(opts)
	l, err := newLink(r, dec.Name(), o)
	if err != nil {
		return nil, err
	}
	l.fp = codec.FingerprintOf(dec)
	rx := &Receiver[T]{l: l, dec: dec, safe: codec.Guard(dec), o: o, done: make(chan struct{}), fill: make(chan struct{}, 1)}
	rx.solo = exclusive(dec, rx.safe)
	if sd, ok := dec.(codec.SameTypeDecoder[T]); ok && l.fp != "" {
		same := sd.ForSameType()
		rx.same = codec.Guard(same)
		rx.soloSame = exclusive(same, rx.same)
	}
	return rx, nil
}

// exclusive returns the guarded codec.ExclusiveDecoder form of dec, or
// guarded (dec's guarded shared form) when it has none.
func exclusive[T any](dec codec.Decoder[T], guarded codec.IntoDecoder[T]) codec.IntoDecoder[T] {
	if ed, ok := dec.(codec.ExclusiveDecoder[T]); ok {
		return codec.Guard[T](ed.Exclusive())
	}
	return guarded
}

// decoder returns the decoder for frames that passed the first-message
// check: dec's codec.SameTypeDecoder form when the sender declared dec's
// own type, dec otherwise, both guarded against panics (codec.Guard).
func (r *Receiver[T]) decoder() codec.IntoDecoder[T] { return r.pick(r.same, r.safe) }

// soloDecoder is decoder in its exclusive form, for recvBatch.
func (r *Receiver[T]) soloDecoder() codec.IntoDecoder[T] { return r.pick(r.soloSame, r.solo) }

// pick returns same when there is one and the sender declared dec's own
// type, other otherwise.
func (r *Receiver[T]) pick(same, other codec.IntoDecoder[T]) codec.IntoDecoder[T] {
	if same != nil && r.l.sameType.Load() {
		return same
	}
	return other
}

// Listen creates the buffer name with cfg (see core.NewReader) and returns
// a Receiver for it. cfg.MetadataSize is raised if needed to fit the codec
// header; add room for [WithMetadata] bytes of the sender yourself.
// [WithCoreOptions] are passed to core.NewReader. Errors of core.NewReader
// are returned unchanged.
func Listen[T any](name string, cfg core.BufferConfig, dec codec.Decoder[T], opts ...Option) (*Receiver[T], error) {
	if dec == nil {
		return nil, errNilDecoder
	}
	return listenWith(name, cfg, dec.Name(), opts, func(r *core.Reader) (*Receiver[T], error) {
		return NewReceiver(r, dec, opts...)
	})
}

// listenWith creates the buffer for a receiver of the named codec and
// wraps the new Reader with wrap, closing the Reader if wrap fails.
func listenWith[R any](name string, cfg core.BufferConfig, codecName string, opts []Option, wrap func(*core.Reader) (R, error)) (R, error) {
	var zero R
	o := buildOptions(opts)
	r, err := core.NewReader(name, listenConfig(cfg, codecName, o), o.coreOpts...)
	if err != nil {
		return zero, err
	}
	rx, err := wrap(r)
	if err != nil {
		return zero, closeAfter(r, err)
	}
	return rx, nil
}

func closeAfter(r *core.Reader, err error) error { return errors.Join(err, r.Close()) }

// Recv waits for the next message and returns it. It returns the core's
// error unchanged — io.EOF after the sender closed and every message was
// received, core.ErrWriterDead if the sender died (after the messages it
// committed), the ctx error, core.ErrClosed — or [ErrCodecMismatch], or a
// decode error wrapping codec.ErrInvalid (that message is skipped; the next
// Recv continues with the following one).
func (r *Receiver[T]) Recv(ctx context.Context) (v T, err error) {
	if r.pop(&v, &err) {
		return v, err
	}
	v, _, err = r.recv(ctx)
	return v, err
}

// recv is Recv that also tells whether err ends the stream (a core error
// or a codec mismatch) or only concerns this message (a decode error).
func (r *Receiver[T]) recv(ctx context.Context) (v T, fatal bool, err error) {
	if r.pop(&v, &err) {
		return v, false, err
	}
	if r.l.ready() {
		return r.recvBatch(ctx)
	}
	f, err := r.l.next(ctx)
	if err != nil {
		return v, true, err
	}
	v, err = r.decoder().Decode(f.Data())
	if err != nil {
		var zero T
		return zero, false, releaseErr(f, decodeErr(f, err))
	}
	return v, false, releaseErr(f, nil)
}

// RecvFunc is [Receiver.Recv] with a callback: it calls fn with the next
// message and returns fn's error, or Recv's error without calling fn.
func (r *Receiver[T]) RecvFunc(ctx context.Context, fn func(v T) error) error {
	v, err := r.Recv(ctx)
	if err != nil {
		return err
	}
	return fn(v)
}

// All returns an iterator over the messages. io.EOF ends the sequence
// without an error. A decode error is yielded with the zero T and the loop
// may continue; any other error is yielded once and ends the sequence.
func (r *Receiver[T]) All(ctx context.Context) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for {
			v, fatal, err := r.recv(ctx)
			if fatal {
				if !isEnd(err) {
					yield(v, err)
				}
				return
			}
			if !yield(v, err) {
				return
			}
		}
	}
}

// Close closes the underlying reader (removing the buffer, see
// core.Reader.Close), stops the goroutine of [Receiver.C] and waits for it.
// Blocked receives return core.ErrClosed. Close is idempotent.
func (r *Receiver[T]) Close() error {
	err := r.l.r.Close()
	r.closed.Do(func() { close(r.done) })
	r.wg.Wait()
	return err
}

// Reader returns the underlying reader, e.g. for WaitWriter or
// WriterConnected. Reading frames from it directly bypasses the codec.
func (r *Receiver[T]) Reader() *core.Reader { return r.l.r }
