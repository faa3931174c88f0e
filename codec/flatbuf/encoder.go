package flatbuf

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sync"

	flatbuffers "github.com/google/flatbuffers/go"

	"github.com/zerobuffer/zerobuffer-go/codec"
	"github.com/zerobuffer/zerobuffer-go/internal/memcopy"
)

// NamePrefix starts the codec name of every FlatBuffers codec; the rest
// names the root table, e.g. "flatbuffers:sensor.Reading".
const NamePrefix = "flatbuffers:"

// maxPooledBuilder is the largest builder buffer kept for reuse; a builder
// that grew beyond it (one huge message) is dropped instead of pinning the
// memory.
const maxPooledBuilder = 4 << 20

// BuildFunc adds v to b and returns the offset of the root table. It must
// not call Finish: the [Encoder] finishes the buffer (with the file
// identifier, if any). For generated object-API types this is
// func(b *flatbuffers.Builder, t *XT) flatbuffers.UOffsetT { return t.Pack(b) }.
type BuildFunc[T any] func(b *flatbuffers.Builder, v T) flatbuffers.UOffsetT

// Encoder is a [codec.Encoder] that builds each message with a pooled,
// reused flatbuffers.Builder and copies the finished bytes once into the
// reserved ring slot, or, given a size bound ([WithSizeBound]), builds it
// in the ring slot. It is safe for concurrent use.
type Encoder[T any] struct {
	name  string
	ident []byte
	build BuildFunc[T]
	bound func(T) int // WithSizeBound, or nil
	pool  sync.Pool   // *flatbuffers.Builder
}

// EncoderOption configures an [Encoder].
type EncoderOption func(*encoderConfig)

type encoderConfig struct {
	ident       string
	initialSize int
	bound       any // func(T) int of the Encoder's T
}

// WithFileIdentifier makes the encoder finish buffers with the 4-byte file
// identifier id (the schema's file_identifier). Default: none.
func WithFileIdentifier(id string) EncoderOption {
	return func(c *encoderConfig) { c.ident = id }
}

// WithSizeBound gives the encoder bound(v), an upper bound of the size of
// v's finished buffer. With it, EncodeFrame on a [codec.MaxFrameWriter]
// (a *core.Writer is one) builds a value whose bound is at least
// [MinInRingSize] straight in the ring instead of in a pooled builder
// followed by a copy: it reserves the bound, rounded up to 16 bytes, lets
// the builder fill it from the end, and then publishes one of two layouts:
//   - when the unused space in front of the buffer is at most
//     [MaxDirectGap] bytes and at most 1/16 of the reservation, the whole
//     reservation: the root offset (and file identifier) move to the front
//     and the gap behind them is zeroed. FlatBuffers readers follow offsets
//     only, so the unused bytes are never read; the frame is longer than
//     the tightest encoding by the gap;
//   - otherwise the buffer moved to the front of the reservation (one
//     copy, alignment kept: the builder aligns relative to the end and a
//     finished buffer's length is a multiple of its largest alignment).
//
// A bound that is too small costs only speed: the builder outgrows the
// reservation, which is dropped, and the message is copied into an exact
// one. bound must be a func(T) int for the Encoder's T; NewEncoder fails
// otherwise.
func WithSizeBound[T any](bound func(v T) int) EncoderOption {
	return func(c *encoderConfig) { c.bound = bound }
}

// MinInRingSize is the smallest bound for which EncodeFrame builds in the
// ring (see [WithSizeBound]). Below it the copy from a pooled builder,
// a few cache lines, costs less than building in the ring.
const MinInRingSize = 4 << 10

// MaxDirectGap is the most unused space a frame built in the ring (see
// [WithSizeBound]) may keep in front of its buffer; a larger gap, or one
// above 1/16 of the frame (small messages, whose move is cheap and whose
// ring space matters more), is closed by moving the buffer.
const MaxDirectGap = 256

// WithInitialSize sets the initial capacity of each pooled builder in
// bytes. Default 1024.
func WithInitialSize(n int) EncoderOption {
	return func(c *encoderConfig) { c.initialSize = n }
}

// NewEncoder returns an encoder named name (see [codec.ValidateName]; by
// convention [NamePrefix] + "namespace.Table") that builds messages with
// build. It fails if name, build or an option is invalid.
func NewEncoder[T any](name string, build BuildFunc[T], opts ...EncoderOption) (*Encoder[T], error) {
	cfg := encoderConfig{initialSize: 1024}
	for _, o := range opts {
		o(&cfg)
	}
	if err := codec.ValidateName(name); err != nil {
		return nil, err
	}
	if build == nil {
		return nil, fmt.Errorf("%w: nil BuildFunc", codec.ErrEncode)
	}
	if cfg.ident != "" && len(cfg.ident) != identLen {
		return nil, fmt.Errorf("%w: file identifier %q is not %d bytes", codec.ErrEncode, cfg.ident, identLen)
	}
	if cfg.initialSize < 0 {
		return nil, fmt.Errorf("%w: negative initial size %d", codec.ErrEncode, cfg.initialSize)
	}
	e := &Encoder[T]{name: name, build: build}
	if cfg.bound != nil {
		f, ok := cfg.bound.(func(T) int)
		if !ok {
			return nil, fmt.Errorf("%w: WithSizeBound takes a %T, got %T", codec.ErrEncode, f, cfg.bound)
		}
		e.bound = f
	}
	if cfg.ident != "" {
		e.ident = []byte(cfg.ident)
	}
	size := cfg.initialSize
	e.pool.New = func() any { return flatbuffers.NewBuilder(size) }
	return e, nil
}

// Name returns the codec name.
func (e *Encoder[T]) Name() string { return e.name }

// EncodeFrame builds v and copies the finished buffer into one frame of w;
// with [WithSizeBound] and a [codec.MaxFrameWriter] it builds v in the
// frame itself. A panic raised by the BuildFunc (builder misuse) is
// returned as an error wrapping [codec.ErrEncode] and publishes nothing;
// errors of w are returned unchanged.
func (e *Encoder[T]) EncodeFrame(ctx context.Context, w codec.FrameWriter, v T) error {
	if mw, ok := w.(codec.MaxFrameWriter); ok && e.bound != nil {
		if done, err := e.encodeInto(ctx, mw, v); done {
			return err
		}
	}
	b := e.pool.Get().(*flatbuffers.Builder)
	fb, err := e.finish(b, v)
	if err != nil {
		return err // b is in an unknown state: not returned to the pool
	}
	defer e.put(b)
	return codec.WriteFrame(ctx, w, fb)
}

// finish runs the BuildFunc on a reset builder and returns the finished
// bytes, which alias b.
func (e *Encoder[T]) finish(b *flatbuffers.Builder, v T) (fb []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			fb, err = nil, fmt.Errorf("%w: %s: build panicked: %v", codec.ErrEncode, e.name, r)
		}
	}()
	b.Reset()
	root := e.build(b, v)
	if e.ident != nil {
		b.FinishWithFileIdentifier(root, e.ident)
	} else {
		b.Finish(root)
	}
	return b.FinishedBytes(), nil
}

// encodeInto is EncodeFrame's path straight into the ring (see
// [WithSizeBound]). done is false, with nothing reserved, when the
// reservation could not be had (the bound exceeds the ring, or any other
// error): EncodeFrame then takes the builder path, which returns the
// error again if it persists.
func (e *Encoder[T]) encodeInto(ctx context.Context, w codec.MaxFrameWriter, v T) (done bool, err error) {
	n := e.bound(v)
	if n < MinInRingSize || n > math.MaxInt32-15 {
		return false, nil
	}
	n = (n + 15) &^ 15
	p, err := w.ReserveMax(ctx, n)
	if err != nil {
		return false, nil
	}
	if len(p) < n { // not a ReserveMax as documented: use Reserve instead
		err := w.Abort()
		return err != nil, err
	}
	p = p[:n:n] // the builder must never reach past the reservation
	b := e.pool.Get().(*flatbuffers.Builder)
	own := b.Bytes
	b.Bytes = p
	fb, err := e.finish(b, v)
	if err != nil {
		b.Bytes = own
		return true, errors.Join(err, w.Abort()) // b is in an unknown state: not pooled
	}
	if len(b.Bytes) != n || &b.Bytes[0] != &p[0] {
		// Outgrew the reservation: fb is in heap memory now.
		if err := w.Abort(); err != nil {
			return true, err
		}
		defer e.put(b) // the grown heap buffer is the builder's own now
		return true, codec.WriteFrame(ctx, w, fb)
	}
	b.Bytes = own
	defer e.put(b)
	head := n - len(fb)
	switch {
	case head == 0:
		return true, w.CommitN(n)
	case head <= MaxDirectGap && head <= n/16:
		hdr := 4 + len(e.ident)
		root := binary.LittleEndian.Uint32(p[head:]) + uint32(head)
		clear(p[hdr : head+hdr]) // the gap and the old header
		binary.LittleEndian.PutUint32(p, root)
		copy(p[4:hdr], e.ident)
		return true, w.CommitN(n)
	default:
		memcopy.Copy(p, p[head:]) // overlapping, but forward: each piece reads before it writes
		return true, w.CommitN(len(fb))
	}
}

func (e *Encoder[T]) put(b *flatbuffers.Builder) {
	if cap(b.Bytes) <= maxPooledBuilder {
		e.pool.Put(b)
	}
}
