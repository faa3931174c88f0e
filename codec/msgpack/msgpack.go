package msgpack

import (
	"context"
	"fmt"
	"sync"

	vmsgpack "github.com/vmihailenco/msgpack/v5"

	"github.com/zerobuffer/zerobuffer-go/codec"
)

// Name is the codec name written into the buffer metadata.
const Name = "msgpack"

// maxPooledBuf is the largest scratch buffer kept for reuse; one huge
// message does not pin its buffer in the pool.
const maxPooledBuf = 1 << 20

// Marshaler is the encoding method that tinylib/msgp generates; when *T
// implements it, [Codec] uses it instead of reflection. The module is not
// a dependency: the method is found by interface assertion.
type Marshaler interface {
	MarshalMsg(b []byte) ([]byte, error)
}

// Unmarshaler is the decoding method that tinylib/msgp generates; when *T
// implements it, [Codec] uses it instead of reflection. It must copy what
// it keeps (msgp's default; types generated with zero-copy options that
// alias the input are not supported, since decoded values are owned).
type Unmarshaler interface {
	UnmarshalMsg(b []byte) ([]byte, error)
}

// Codec is an owning MessagePack codec for values of type T
// (github.com/vmihailenco/msgpack/v5). It implements [codec.Encoder] and
// [codec.Decoder]; decoded values never reference the frame. Encoders and
// decoders are pooled, with their scratch buffers and a scratch *T, so the
// steady state costs no allocation for encoding and only the allocations
// of T's own strings, slices and maps for decoding. A Codec is safe for
// concurrent use.
type Codec[T any] struct {
	cfg     config
	fastEnc bool
	fastDec bool
	encPool sync.Pool // *encState[T]
	decPool sync.Pool // *decState[T]
}

// Option configures a [Codec].
type Option func(*config)

type config struct {
	encSetup func(*vmsgpack.Encoder)
	decSetup func(*vmsgpack.Decoder)
}

// WithEncoderSetup calls fn on every new pooled encoder, e.g. to
// UseCompactInts or SetCustomStructTag. Both ends must agree on settings
// that change the wire format. Default: library defaults.
func WithEncoderSetup(fn func(*vmsgpack.Encoder)) Option {
	return func(c *config) { c.encSetup = fn }
}

// WithDecoderSetup calls fn on every new pooled decoder, e.g. to
// DisallowUnknownFields. Default: library defaults.
func WithDecoderSetup(fn func(*vmsgpack.Decoder)) Option {
	return func(c *config) { c.decSetup = fn }
}

// New returns a MessagePack codec for T.
func New[T any](opts ...Option) *Codec[T] {
	c := &Codec[T]{}
	for _, o := range opts {
		o(&c.cfg)
	}
	_, c.fastEnc = any((*T)(nil)).(Marshaler)
	_, c.fastDec = any((*T)(nil)).(Unmarshaler)
	c.encPool.New = func() any { return c.newEncState() }
	c.decPool.New = func() any { return c.newDecState() }
	return c
}

// Name returns [Name].
func (c *Codec[T]) Name() string { return Name }

type encState[T any] struct {
	w   sliceWriter
	enc *vmsgpack.Encoder
	v   *T
}

func (c *Codec[T]) newEncState() *encState[T] {
	s := &encState[T]{v: new(T)}
	s.enc = vmsgpack.NewEncoder(&s.w)
	if c.cfg.encSetup != nil {
		c.cfg.encSetup(s.enc)
	}
	return s
}

// EncodeFrame encodes v into pooled scratch memory, then reserves exactly
// that many bytes in w and copies them in (one copy into the ring). An
// encoding failure wraps [codec.ErrEncode] and writes nothing; errors of w
// are returned unchanged.
func (c *Codec[T]) EncodeFrame(ctx context.Context, w codec.FrameWriter, v T) error {
	s := c.encPool.Get().(*encState[T])
	defer c.putEnc(s)
	b, err := c.encode(s, v)
	if err != nil {
		return err
	}
	p, err := w.Reserve(ctx, len(b))
	if err != nil {
		return err
	}
	copy(p, b)
	return w.Commit()
}

// Append appends the encoding of v to dst, like [codec.Marshal] without
// the intermediate frame.
func (c *Codec[T]) Append(dst []byte, v T) ([]byte, error) {
	s := c.encPool.Get().(*encState[T])
	defer c.putEnc(s)
	b, err := c.encode(s, v)
	if err != nil {
		return dst, err
	}
	return append(dst, b...), nil
}

// encode returns the encoding of v in s's scratch buffer.
func (c *Codec[T]) encode(s *encState[T], v T) (b []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			b, err = nil, fmt.Errorf("%w: msgpack: %v", codec.ErrEncode, r)
		}
	}()
	*s.v = v
	s.w.b = s.w.b[:0]
	if c.fastEnc {
		s.w.b, err = any(s.v).(Marshaler).MarshalMsg(s.w.b)
	} else {
		err = s.enc.Encode(s.v)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: msgpack: %w", codec.ErrEncode, err)
	}
	return s.w.b, nil
}

func (c *Codec[T]) putEnc(s *encState[T]) {
	var zero T
	*s.v = zero // drop references held by the scratch value
	if cap(s.w.b) > maxPooledBuf {
		s.w.b = nil
	}
	c.encPool.Put(s)
}

type decState[T any] struct {
	buf   []byte // private copy of the frame being decoded
	r     frameReader
	dec   *vmsgpack.Decoder
	v     *T
	stack []uint64 // scratch for check
	exts  []int    // scratch for check
}

func (c *Codec[T]) newDecState() *decState[T] {
	s := &decState[T]{v: new(T)}
	s.dec = vmsgpack.NewDecoder(&s.r)
	if c.cfg.decSetup != nil {
		c.cfg.decSetup(s.dec)
	}
	return s
}

// Decode decodes one MessagePack value that must span the whole frame.
// The result owns its memory. Malformed input, a type mismatch or trailing
// bytes give an error wrapping [codec.ErrInvalid]; Decode never panics on
// peer data.
//
// The frame is read once: Decode first copies it into private (pooled)
// memory and checks and decodes only that copy, because a frame in shared
// memory can change under the reader while a hostile writer keeps writing
// to it (docs/PROTOCOL.md section 17). The copy is then walked once to
// refuse declared lengths and counts that exceed the frame, and nesting
// deeper than [MaxDepth], so a hostile frame cannot make Decode allocate
// far more than its own size or overflow the stack. For the same reason
// the reflection decoder may not decode an extension body as MessagePack
// (the library does that for extension values where a Go map is expected,
// and for types registered with a CustomDecoder); such frames fail with
// ErrInvalid. Extension bodies it reads as bytes, such as time.Time, are
// fine.
func (c *Codec[T]) Decode(frame []byte) (v T, err error) {
	s := c.decPool.Get().(*decState[T])
	defer func() {
		if r := recover(); r != nil {
			v, err = *new(T), fmt.Errorf("%w: msgpack: %v", codec.ErrInvalid, r)
		}
		c.putDec(s)
	}()
	s.buf = append(s.buf[:0], frame...)
	b := s.buf
	if s.stack, s.exts, err = check(b, s.stack, s.exts); err != nil {
		return v, fmt.Errorf("%w: msgpack: %w", codec.ErrInvalid, err)
	}
	var rest int
	if c.fastDec {
		var tail []byte
		tail, err = any(s.v).(Unmarshaler).UnmarshalMsg(b)
		rest = len(tail)
	} else {
		s.r.reset(b, s.exts)
		err = s.dec.Decode(s.v)
		rest = s.r.Len()
	}
	if err != nil {
		return v, fmt.Errorf("%w: msgpack: %w", codec.ErrInvalid, err)
	}
	if rest != 0 {
		return v, fmt.Errorf("%w: msgpack: %d trailing bytes", codec.ErrInvalid, rest)
	}
	return *s.v, nil
}

// putDec resets s and returns it to the pool.
func (c *Codec[T]) putDec(s *decState[T]) {
	*s.v = *new(T) // the next Decode starts from a zero value
	s.r.reset(nil, nil)
	if cap(s.buf) > maxPooledBuf {
		s.buf = nil
	}
	c.decPool.Put(s)
}

// sliceWriter is the io.Writer + io.ByteWriter the encoder appends to.
type sliceWriter struct{ b []byte }

// Write appends p.
func (w *sliceWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// WriteByte appends c.
func (w *sliceWriter) WriteByte(c byte) error {
	w.b = append(w.b, c)
	return nil
}
