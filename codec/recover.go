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
