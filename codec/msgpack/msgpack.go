package msgpack

import (
	"context"
	"errors"
	"fmt"
	"reflect"
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
	sizer   bool      // fastEnc and *T has Msgsize
	fp      string    // type fingerprint
	layout  bool      // fp is the layout digest (no WithSchema name)
	fields  *fieldSet // keys of T's fields for the strict generated decoder; nil: no check
	flat    bool      // fastDec of a flat struct: no check walk needed
	encPool sync.Pool // *encState[T]
	decPool sync.Pool // *decState[T]
}

// Option configures a [Codec].
type Option func(*config)

type config struct {
	encSetup     func(*vmsgpack.Encoder)
	decSetup     func(*vmsgpack.Decoder)
	allowUnknown bool
	schema       string
}

// AllowUnknownFields makes the decoder skip map keys that are not fields
// of T instead of failing. By default an unknown field is an error
// wrapping [codec.ErrInvalid], for reflection and for generated decoders
// alike: a sender of another type is refused instead of yielding zero
// values. Use it when senders may add fields that older receivers ignore.
func AllowUnknownFields() Option {
	return func(c *config) { c.allowUnknown = true }
}

// WithSchema sets the type fingerprint that a typed sender declares in
// the buffer metadata and a typed receiver checks (see
// codec.Fingerprinter) to name, e.g. "orders.v1". It must satisfy
// codec.ValidateName. Default: the Go type's name and a digest of its
// field layout, so that two types with the same fields (such as a copy
// without generated methods) match.
func WithSchema(name string) Option {
	return func(c *config) { c.schema = name }
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
	_, sizer := any((*T)(nil)).(Sizer)
	c.sizer = c.fastEnc && sizer
	c.fp = c.cfg.schema
	if c.fp == "" || codec.ValidateName(c.fp) != nil {
		c.fp = fingerprint(reflect.TypeFor[T]())
		c.layout = true
	}
	if !c.cfg.allowUnknown {
		c.fields = knownFields(reflect.TypeFor[T]())
	}
	c.flat = c.fastDec && flat(reflect.TypeFor[T]())
	c.encPool.New = func() any { return c.newEncState() }
	c.decPool.New = func() any { return c.newDecState() }
	return c
}

// Name returns [Name].
func (c *Codec[T]) Name() string { return Name }

// Fingerprint returns the type fingerprint (see [WithSchema]); it
// implements codec.Fingerprinter.
func (c *Codec[T]) Fingerprint() string { return c.fp }

// Sizer is the size bound that tinylib/msgp generates (Msgsize): an upper
// bound of the encoded size. When *T implements it with [Marshaler],
// [Codec] reserves that bound in the ring and encodes straight into it.
type Sizer interface {
	Msgsize() int
}

type encState[T any] struct {
	w       sliceWriter
	scratch []byte // encoding buffer when not encoding into the ring
	enc     *vmsgpack.Encoder
	v       *T
	last    int // size of the last encoding, the reservation hint for reflection
}

func (c *Codec[T]) newEncState() *encState[T] {
	s := &encState[T]{v: new(T)}
	s.enc = vmsgpack.NewEncoder(&s.w)
	if c.cfg.encSetup != nil {
		c.cfg.encSetup(s.enc)
	}
	return s
}

// EncodeFrame encodes v as one frame of w. When w is a
// [codec.MaxFrameWriter] (a *core.Writer is), it reserves a bound of the
// encoded size in the ring, encodes straight into it and commits the bytes
// used: one pass over the message, no scratch copy. The bound is Msgsize
// for types generated by tinylib/msgp ([Sizer]) and, for reflection, the
// size of the last encoding plus half; a message that outgrows it is
// finished in heap memory and copied into an exact reservation instead.
// When w is also a [codec.CopyFrameWriter] (a *core.Writer is), a
// generated type whose bound is at most 256 bytes is encoded into pooled
// memory instead and written with one WriteFrame call: for so few bytes
// the copy costs less than separate reserve and commit calls.
// Other FrameWriters get the encoding from pooled scratch memory, copied
// once. An encoding failure wraps [codec.ErrEncode] and publishes nothing;
// errors of w are returned unchanged.
func (c *Codec[T]) EncodeFrame(ctx context.Context, w codec.FrameWriter, v T) error {
	s := c.encPool.Get().(*encState[T])
	defer c.putEnc(s)
	*s.v = v
	if fw, ok := w.(codec.CopyFrameWriter); ok && c.sizer && c.bound(s) <= maxCopied {
		b, err := c.encode(s, s.scratch[:0])
		s.scratch = b[:0]
		if err != nil {
			return err
		}
		return fw.WriteFrame(ctx, b)
	}
	if mw, ok := w.(codec.MaxFrameWriter); ok {
		if done, err := c.encodeInto(ctx, mw, s); done {
			return err
		}
	}
	b, err := c.encode(s, s.scratch[:0])
	s.scratch = b[:0]
	if err != nil {
		return err
	}
	return codec.WriteFrame(ctx, w, b)
}

// maxCopied is the largest size bound for which EncodeFrame encodes a
// generated type into pooled memory and writes the frame with one
// WriteFrame call (see EncodeFrame).
const maxCopied = 256

// encodeInto encodes *s.v straight into a reservation of w. done is false
// when the reservation could not be had (the bound exceeds the ring, or
// any other error): EncodeFrame then takes the scratch path, which
// returns the error again if it persists.
func (c *Codec[T]) encodeInto(ctx context.Context, w codec.MaxFrameWriter, s *encState[T]) (done bool, err error) {
	p, err := w.ReserveMax(ctx, c.bound(s))
	if err != nil {
		return false, nil
	}
	b, err := c.encode(s, p[:0])
	if err != nil {
		return true, errors.Join(err, w.Abort())
	}
	s.last = len(b)
	if len(b) > 0 && len(b) <= len(p) && &b[0] == &p[0] {
		return true, w.CommitN(len(b))
	}
	// Outgrew the reservation (b is heap memory now) or encoded nothing.
	if err := w.Abort(); err != nil {
		return true, err
	}
	return true, codec.WriteFrame(ctx, w, b)
}

// bound is the reservation for encoding *s.v into the ring.
func (c *Codec[T]) bound(s *encState[T]) int {
	if c.sizer {
		return max(any(s.v).(Sizer).Msgsize(), 1)
	}
	return max(s.last+s.last/2, 64)
}

// Append appends the encoding of v to dst, like [codec.Marshal] without
// the intermediate frame.
func (c *Codec[T]) Append(dst []byte, v T) ([]byte, error) {
	s := c.encPool.Get().(*encState[T])
	defer c.putEnc(s)
	*s.v = v
	return c.encode(s, dst)
}

// encode appends the encoding of *s.v to dst.
func (c *Codec[T]) encode(s *encState[T], dst []byte) (b []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			b, err = dst, fmt.Errorf("%w: msgpack: %v", codec.ErrEncode, r)
		}
		s.w.b = nil // never keep a ring slice in the pool
	}()
	if c.fastEnc {
		b, err = any(s.v).(Marshaler).MarshalMsg(dst)
	} else {
		s.w.b = dst
		err = s.enc.Encode(s.v)
		b = s.w.b
	}
	if err != nil {
		return dst, fmt.Errorf("%w: msgpack: %w", codec.ErrEncode, err)
	}
	return b, nil
}

func (c *Codec[T]) putEnc(s *encState[T]) {
	var zero T
	*s.v = zero // drop references held by the scratch value
	if cap(s.scratch) > maxPooledBuf {
		s.scratch = nil
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
	s.dec.DisallowUnknownFields(!c.cfg.allowUnknown)
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
// to it (a frame points straight into the ring, docs/PROTOCOL.md section
// 5.3). The copy is then walked once to refuse declared lengths and counts
// that exceed the frame, and nesting deeper than [MaxDepth], so a hostile
// frame cannot make Decode allocate far more than its own size or overflow
// the stack. (Generated decoders of structs of scalars, strings and byte
// slices skip that walk: their code checks every length against the bytes
// left and sizes nothing from a count.) For the same reason
// the reflection decoder may not decode an extension body as MessagePack
// (the library does that for extension values where a Go map is expected,
// and for types registered with a CustomDecoder); such frames fail with
// ErrInvalid. Extension bodies it reads as bytes, such as time.Time, are
// fine.
func (c *Codec[T]) Decode(frame []byte) (v T, err error) {
	return c.decode(frame, c.fields)
}

// ForSameType implements codec.SameTypeDecoder. For a stream whose sender
// declared this codec's layout fingerprint (the default fingerprint: T's
// field keys and their layouts), it returns a decoder that skips the
// unknown-field check of the generated decoder: such a sender encodes the
// same fields. Malformed bytes are refused as by Decode. A codec without
// that check, or whose fingerprint is a [WithSchema] name (which says
// nothing of the layout), returns itself.
func (c *Codec[T]) ForSameType() codec.Decoder[T] {
	if c.fields == nil || !c.fastDec || !c.layout {
		return c
	}
	return sameType[T]{c}
}

// sameType is the decoder of [Codec.ForSameType].
type sameType[T any] struct{ c *Codec[T] }

func (d sameType[T]) Name() string                   { return d.c.Name() }
func (d sameType[T]) Fingerprint() string            { return d.c.fp }
func (d sameType[T]) Decode(frame []byte) (T, error) { return d.c.decode(frame, nil) }
func (sameType[T]) RecoversPanics()                  {}

// Exclusive implements codec.ExclusiveDecoder: the decoder it returns
// decodes as [Codec.DecodeInto] does with scratch memory of its own instead
// of the pool's. Its calls must not overlap.
func (c *Codec[T]) Exclusive() codec.IntoDecoder[T] { return c.exclusive(c.fields) }

// Exclusive is Codec.Exclusive without the unknown-field check.
func (d sameType[T]) Exclusive() codec.IntoDecoder[T] { return d.c.exclusive(nil) }

func (c *Codec[T]) exclusive(fields *fieldSet) *exclusive[T] {
	return &exclusive[T]{c: c, fields: fields, s: c.newDecState()}
}

// exclusive is the decoder of Codec.Exclusive: one decState, no pool.
type exclusive[T any] struct {
	c      *Codec[T]
	fields *fieldSet
	s      *decState[T]
}

func (e *exclusive[T]) Name() string        { return e.c.Name() }
func (e *exclusive[T]) Fingerprint() string { return e.c.fp }
func (*exclusive[T]) RecoversPanics()       {}

func (e *exclusive[T]) Decode(frame []byte) (v T, err error) {
	err = e.DecodeInto(frame, &v)
	return v, err
}

func (e *exclusive[T]) DecodeInto(frame []byte, dst *T) error {
	err := e.c.decodeWith(e.s, frame, dst, e.fields)
	e.s.trim()
	return err
}

// RecoversPanics implements codec.Recovering: Decode returns a panic of
// the decoding library as an error wrapping codec.ErrInvalid.
func (c *Codec[T]) RecoversPanics() {}

// DecodeInto implements codec.IntoDecoder: it is Decode storing the value
// in *dst (the zero T after an error), which saves a copy of the value.
func (c *Codec[T]) DecodeInto(frame []byte, dst *T) error {
	return c.decodeInto(frame, dst, c.fields)
}

// DecodeInto is Codec.DecodeInto without the unknown-field check.
func (d sameType[T]) DecodeInto(frame []byte, dst *T) error {
	return d.c.decodeInto(frame, dst, nil)
}

// decode is Decode, checking the map keys of the generated decoder's
// input against fields unless fields is nil.
func (c *Codec[T]) decode(frame []byte, fields *fieldSet) (T, error) {
	s := c.decPool.Get().(*decState[T])
	err := c.decodeWith(s, frame, s.v, fields)
	v := *s.v
	c.putDec(s)
	return v, err
}

// decodeInto is decode into *dst.
func (c *Codec[T]) decodeInto(frame []byte, dst *T, fields *fieldSet) error {
	s := c.decPool.Get().(*decState[T])
	err := c.decodeWith(s, frame, dst, fields)
	c.putDec(s)
	return err
}

// decodeWith decodes frame into *dst with the scratch memory of s. After
// an error, including a panic of the decoding library, *dst is the zero T.
func (c *Codec[T]) decodeWith(s *decState[T], frame []byte, dst *T, fields *fieldSet) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: msgpack: %v", codec.ErrInvalid, r)
		}
		if err != nil {
			*dst = *new(T)
		}
	}()
	s.buf = append(s.buf[:0], frame...)
	b := s.buf
	if !c.flat {
		if s.stack, s.exts, err = check(b, s.stack, s.exts); err != nil {
			return fmt.Errorf("%w: msgpack: %w", codec.ErrInvalid, err)
		}
	}
	*dst = *new(T) // fields absent from the message stay zero
	var rest int
	if c.fastDec {
		if fields != nil {
			if err := checkKeys(b, fields); err != nil {
				return fmt.Errorf("%w: msgpack: %w", codec.ErrInvalid, err)
			}
		}
		var tail []byte
		tail, err = any(dst).(Unmarshaler).UnmarshalMsg(b)
		rest = len(tail)
	} else {
		s.r.reset(b, s.exts)
		err = s.dec.Decode(dst)
		rest = s.r.Len()
	}
	if err != nil {
		return fmt.Errorf("%w: msgpack: %w", codec.ErrInvalid, err)
	}
	if rest != 0 {
		return fmt.Errorf("%w: msgpack: %d trailing bytes", codec.ErrInvalid, rest)
	}
	return nil
}

// putDec resets s and returns it to the pool.
func (c *Codec[T]) putDec(s *decState[T]) {
	*s.v = *new(T) // the next Decode starts from a zero value
	s.r.reset(nil, nil)
	s.trim()
	c.decPool.Put(s)
}

// trim drops the frame copy after a huge message, so that it is not kept
// for the next decode.
func (s *decState[T]) trim() {
	if cap(s.buf) > maxPooledBuf {
		s.buf = nil
	}
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
