package codec

import (
	"context"
	"fmt"

	"github.com/zerobuffer/zerobuffer-go/internal/memcopy"
)

// FrameWriter is the write side of a buffer as an [Encoder] sees it.
// *core.Writer implements it; [Marshal] uses an in-memory implementation.
type FrameWriter interface {
	// Reserve returns a slice of exactly n bytes that becomes the payload of
	// the next frame. It blocks while the ring lacks space and honours ctx.
	Reserve(ctx context.Context, n int) ([]byte, error)
	// Commit publishes the frame obtained by the preceding Reserve.
	Commit() error
}

// MaxFrameWriter is a [FrameWriter] that can also place a frame before
// its size is known: ReserveMax returns up to max bytes in the ring, the
// encoder fills them, and CommitN publishes the n bytes it used (or Abort
// publishes nothing). Encoders whose size is only known after encoding
// (msgpack) use it, when the FrameWriter has it, to encode straight into
// the ring without a scratch buffer and a second copy. *core.Writer
// implements it; see core.Writer.ReserveMax for what max costs in ring
// space while the frame is reserved.
type MaxFrameWriter interface {
	FrameWriter
	// ReserveMax returns a slice of max bytes for the next frame. It
	// blocks while the ring lacks space and honours ctx.
	ReserveMax(ctx context.Context, max int) ([]byte, error)
	// CommitN publishes the first n bytes of the slice of the preceding
	// ReserveMax as one frame.
	CommitN(n int) error
	// Abort drops the reservation; nothing is published.
	Abort() error
}

// CopyFrameWriter is a [FrameWriter] that also takes a finished frame in
// one call: WriteFrame copies p into the ring and publishes it, the work
// of Reserve, copy and Commit under one acquisition of the writer, which
// costs less than the three calls. *core.Writer implements it. Encoders
// that build a frame in their own memory first use it through
// [WriteFrame].
type CopyFrameWriter interface {
	FrameWriter
	WriteFrame(ctx context.Context, p []byte) error
}

// WriteFrame publishes p as one frame of w: with w.WriteFrame when w is a
// [CopyFrameWriter], otherwise with Reserve, a copy and Commit. Errors of
// w are returned unchanged.
func WriteFrame(ctx context.Context, w FrameWriter, p []byte) error {
	if cw, ok := w.(CopyFrameWriter); ok {
		return cw.WriteFrame(ctx, p)
	}
	b, err := w.Reserve(ctx, len(p))
	if err != nil {
		return err
	}
	memcopy.Copy(b, p) // cached stores: the reader reads the frame next
	return w.Commit()
}

// Encoder turns values of type T into frames.
//
// Implementations are safe for concurrent use: state such as scratch
// buffers or builders is pooled inside the encoder.
type Encoder[T any] interface {
	// Name is the codec name written into the buffer metadata. It must
	// satisfy [ValidateName] and be equal to the Name of the matching decoder.
	Name() string
	// EncodeFrame encodes v as exactly one frame through w: it calls
	// w.Reserve once with the exact encoded size, fills the slice and calls
	// w.Commit, or, having encoded v into memory of its own, publishes it
	// with one [WriteFrame]. It fails before reserving if v cannot be
	// encoded (errors wrap [ErrEncode]); errors of w are returned
	// unchanged. The encoder does not retain v.
	EncodeFrame(ctx context.Context, w FrameWriter, v T) error
}

// Decoder turns frames into values of type T that OWN their memory: the
// result never references the frame, so it stays valid after the frame is
// released. Owning decoders can be used with every receive API, including
// ones that return the value (Recv) or hand it to another goroutine (C).
//
// Implementations are safe for concurrent use.
type Decoder[T any] interface {
	// Name is the codec name expected in the buffer metadata.
	Name() string
	// Decode decodes one frame. Errors caused by the bytes wrap
	// [ErrInvalid]; Decode never panics on peer data.
	Decode(frame []byte) (T, error)
}

// IntoDecoder is implemented by decoders that can decode into a value the
// caller provides, such as a slot of a receive queue, instead of returning
// it: that saves copying each value once more. DecodeInto overwrites all
// of *dst, as if with the result of Decode(frame); after an error *dst is
// the zero T. Like Decode, it never panics on peer data and is safe for
// concurrent use (with distinct dst).
type IntoDecoder[T any] interface {
	Decoder[T]
	DecodeInto(frame []byte, dst *T) error
}

// SameTypeDecoder is implemented by decoders that check every message
// for signs of a sender of another Go type (msgpack's unknown-field
// check). ForSameType returns the decoder to use for a stream whose
// sender declared, in the buffer metadata, a type fingerprint matching
// this decoder's (see [Fingerprinter] and [DeclaresType]): it may skip
// those checks, since such a sender has the same fields, but it must
// refuse malformed bytes as Decode does. The typed receivers switch to it
// after their first-message check.
type SameTypeDecoder[T any] interface {
	Decoder[T]
	ForSameType() Decoder[T]
}

// ExclusiveDecoder is implemented by decoders that share scratch memory
// through a pool. Exclusive returns a decoder for one goroutine at a time
// (its calls must not overlap) that keeps scratch memory of its own,
// which saves the pool's cost on every message. It decodes exactly as the
// decoder it was called on (a [SameTypeDecoder] form included), never
// panics on peer data (it is [Recovering]) and returns values that own
// their memory. A typed Receiver decodes its batches, which it reads one
// at a time, with one.
type ExclusiveDecoder[T any] interface {
	Decoder[T]
	Exclusive() IntoDecoder[T]
}

// ViewDecoder turns frames into values of type T that BORROW the frame's
// memory (zero-copy): the result is a view that is only valid until the
// frame is released. Because the method is View and not Decode, a
// ViewDecoder cannot be passed where a [Decoder] is required; receive APIs
// that would let a value outlive its frame only accept Decoder, so misuse is
// a compile-time error.
//
// Implementations are safe for concurrent use.
type ViewDecoder[T any] interface {
	// Name is the codec name expected in the buffer metadata.
	Name() string
	// View returns a view of frame. The view aliases frame and must not be
	// used after the frame is released. Errors caused by the bytes wrap
	// [ErrInvalid]; View never panics on peer data.
	View(frame []byte) (T, error)
}

// Codec is an [Encoder] and an owning [Decoder] for the same type.
type Codec[T any] interface {
	Encoder[T]
	Decoder[T]
}

// ViewCodec is an [Encoder] and a borrowing [ViewDecoder] for the same type.
type ViewCodec[T any] interface {
	Encoder[T]
	ViewDecoder[T]
}

// Marshal encodes v with enc into a new byte slice, without a buffer. The
// result is exactly what [Encoder.EncodeFrame] would place in a frame; it is
// useful for tests, fuzz corpora and storing messages.
func Marshal[T any](enc Encoder[T], v T) ([]byte, error) {
	var m memWriter
	if err := enc.EncodeFrame(context.Background(), &m, v); err != nil {
		return nil, err
	}
	if !m.committed {
		return nil, fmt.Errorf("%w: encoder %q did not commit a frame", ErrEncode, enc.Name())
	}
	return m.buf, nil
}

// memWriter is a FrameWriter that keeps one frame in memory.
type memWriter struct {
	buf       []byte
	committed bool
}

// Reserve allocates the frame.
func (m *memWriter) Reserve(_ context.Context, n int) ([]byte, error) {
	if n < 0 {
		return nil, fmt.Errorf("%w: negative size %d", ErrEncode, n)
	}
	m.buf = make([]byte, n)
	m.committed = false
	return m.buf, nil
}

// Commit marks the frame complete.
func (m *memWriter) Commit() error {
	m.committed = true
	return nil
}
