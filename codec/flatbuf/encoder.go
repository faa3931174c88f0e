package flatbuf

import (
	"context"
	"fmt"
	"sync"

	flatbuffers "github.com/google/flatbuffers/go"

	"github.com/zerobuffer/zerobuffer-go/codec"
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
// reserved ring slot. It is safe for concurrent use.
type Encoder[T any] struct {
	name  string
	ident []byte
	build BuildFunc[T]
	pool  sync.Pool // *flatbuffers.Builder
}

// EncoderOption configures an [Encoder].
type EncoderOption func(*encoderConfig)

type encoderConfig struct {
	ident       string
	initialSize int
}

// WithFileIdentifier makes the encoder finish buffers with the 4-byte file
// identifier id (the schema's file_identifier). Default: none.
func WithFileIdentifier(id string) EncoderOption {
	return func(c *encoderConfig) { c.ident = id }
}

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
	if cfg.ident != "" {
		e.ident = []byte(cfg.ident)
	}
	size := cfg.initialSize
	e.pool.New = func() any { return flatbuffers.NewBuilder(size) }
	return e, nil
}

// Name returns the codec name.
func (e *Encoder[T]) Name() string { return e.name }

// EncodeFrame builds v and copies the finished buffer into one frame of w.
// A panic raised by the BuildFunc (builder misuse) is returned as an error
// wrapping [codec.ErrEncode] before anything is reserved; errors of w are
// returned unchanged.
func (e *Encoder[T]) EncodeFrame(ctx context.Context, w codec.FrameWriter, v T) error {
	b := e.pool.Get().(*flatbuffers.Builder)
	fb, err := e.finish(b, v)
	if err != nil {
		return err // b is in an unknown state: not returned to the pool
	}
	defer e.put(b)
	p, err := w.Reserve(ctx, len(fb))
	if err != nil {
		return err
	}
	copy(p, fb)
	return w.Commit()
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

func (e *Encoder[T]) put(b *flatbuffers.Builder) {
	if cap(b.Bytes) <= maxPooledBuilder {
		e.pool.Put(b)
	}
}
