package codec

import "fmt"

// Decode calls d.Decode(frame) and turns a panic inside it into an error
// wrapping [ErrInvalid], so that a faulty decoder (or a peer that found a
// way past its checks) costs one message, not the receiving goroutine.
// Decoders must not panic on peer data; this is the second line of
// defence that package typed and package duplex put around every call.
func Decode[T any](d Decoder[T], frame []byte) (v T, err error) {
	defer func() {
		if r := recover(); r != nil {
			var zero T
			v, err = zero, fmt.Errorf("%w: %s: decoder panicked: %v", ErrInvalid, d.Name(), r)
		}
	}()
	return d.Decode(frame)
}

// DecodeInto is [Decode] storing the result in *dst: it calls
// d.DecodeInto when d is an [IntoDecoder], and assigns the result of
// d.Decode otherwise. A panic inside d becomes an error wrapping
// [ErrInvalid], with *dst the zero T.
func DecodeInto[T any](d Decoder[T], frame []byte, dst *T) (err error) {
	defer func() {
		if r := recover(); r != nil {
			*dst = *new(T)
			err = fmt.Errorf("%w: %s: decoder panicked: %v", ErrInvalid, d.Name(), r)
		}
	}()
	if id, ok := d.(IntoDecoder[T]); ok {
		return id.DecodeInto(frame, dst)
	}
	*dst, err = d.Decode(frame)
	return err
}

// View is [Decode] for a [ViewDecoder]: it calls d.View(frame) and turns a
// panic inside it into an error wrapping [ErrInvalid].
func View[T any](d ViewDecoder[T], frame []byte) (v T, err error) {
	defer func() {
		if r := recover(); r != nil {
			var zero T
			v, err = zero, fmt.Errorf("%w: %s: view decoder panicked: %v", ErrInvalid, d.Name(), r)
		}
	}()
	return d.View(frame)
}

// Recovering is implemented by decoders whose Decode already turns every
// panic inside it into an error wrapping [ErrInvalid]. [Guard] returns
// such a decoder unchanged.
type Recovering interface {
	// RecoversPanics is a marker; it is never called.
	RecoversPanics()
}

// Guard returns an [IntoDecoder] whose methods are d's under the
// protection of [Decode] and [DecodeInto]: d itself when it is
// [Recovering] and an IntoDecoder, a wrapper otherwise. A receive loop
// that decodes every message through one decoder calls Guard once,
// instead of paying [Decode]'s deferred call per message.
func Guard[T any](d Decoder[T]) IntoDecoder[T] {
	_, safe := d.(Recovering)
	if id, ok := d.(IntoDecoder[T]); ok && safe {
		return id
	}
	if safe {
		return trusted[T]{d}
	}
	return guarded[T]{d}
}

// guarded is the wrapper of [Guard] for a decoder that may panic.
type guarded[T any] struct{ d Decoder[T] }

func (g guarded[T]) Name() string                          { return g.d.Name() }
func (g guarded[T]) Decode(frame []byte) (T, error)        { return Decode(g.d, frame) }
func (g guarded[T]) DecodeInto(frame []byte, dst *T) error { return DecodeInto(g.d, frame, dst) }
func (guarded[T]) RecoversPanics()                         {}

// Fingerprint passes on the wrapped decoder's type fingerprint.
func (g guarded[T]) Fingerprint() string { return FingerprintOf(g.d) }

// trusted is the wrapper of [Guard] for a [Recovering] decoder without
// DecodeInto: it assigns Decode's result.
type trusted[T any] struct{ d Decoder[T] }

func (t trusted[T]) Name() string                   { return t.d.Name() }
func (t trusted[T]) Decode(frame []byte) (T, error) { return t.d.Decode(frame) }
func (t trusted[T]) DecodeInto(frame []byte, dst *T) (err error) {
	*dst, err = t.d.Decode(frame)
	return err
}
func (trusted[T]) RecoversPanics() {}

// Fingerprint passes on the wrapped decoder's type fingerprint.
func (t trusted[T]) Fingerprint() string { return FingerprintOf(t.d) }
