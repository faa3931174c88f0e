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

// Guard returns a decoder whose Decode is d's under the protection of
// [Decode]: d itself when it is [Recovering], a wrapper that recovers
// otherwise. A receive loop that decodes every message through one
// decoder calls Guard once, instead of paying [Decode]'s deferred call
// per message.
func Guard[T any](d Decoder[T]) Decoder[T] {
	if _, ok := d.(Recovering); ok {
		return d
	}
	return guarded[T]{d}
}

// guarded is the wrapper of [Guard].
type guarded[T any] struct{ d Decoder[T] }

func (g guarded[T]) Name() string                   { return g.d.Name() }
func (g guarded[T]) Decode(frame []byte) (T, error) { return Decode(g.d, frame) }
func (guarded[T]) RecoversPanics()                  {}

// Fingerprint passes on the wrapped decoder's type fingerprint.
func (g guarded[T]) Fingerprint() string { return FingerprintOf(g.d) }
