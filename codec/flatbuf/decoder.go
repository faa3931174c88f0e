package flatbuf

import (
	"errors"
	"fmt"

	"github.com/zerobuffer/zerobuffer-go/codec"
)

// ViewFunc verifies buf as a finished buffer of one schema and returns a
// view of its root table over buf (no copy). It must check every offset
// the view's accessors can follow — use [VerifyRoot] and the [Table]
// methods — so that accessors on a returned view cannot panic.
type ViewFunc[T any] func(buf []byte) (T, error)

// Decoder is a [codec.ViewDecoder]: View returns an in-place table view
// over the frame, with no copy and no allocation. Views are valid only
// until their frame is released. It is safe for concurrent use.
//
// A view trusts the writer: the frame is verified once, in shared memory,
// and its accessors read the same memory again later. A writer that
// rewrites a published frame (which no correct writer does: the frame is
// not its own until released) can therefore make an accessor read
// something other than what was verified, up to an index-out-of-range
// panic in the generated code. Use an owning decoder that copies first
// (such as sensor.ObjectDecoder) for peers you do not trust.
type Decoder[T any] struct {
	name string
	view ViewFunc[T]
}

// NewDecoder returns a decoder named name (the encoder's name) that
// verifies frames and makes views with view.
func NewDecoder[T any](name string, view ViewFunc[T]) (*Decoder[T], error) {
	if err := codec.ValidateName(name); err != nil {
		return nil, err
	}
	if view == nil {
		return nil, errors.New("zerobuffer: flatbuf: nil ViewFunc")
	}
	return &Decoder[T]{name: name, view: view}, nil
}

// Name returns the codec name.
func (d *Decoder[T]) Name() string { return d.name }

// View verifies frame and returns a view of it. Errors wrap
// [codec.ErrInvalid]; a panic inside the ViewFunc is recovered and returned
// as such an error (defence in depth: the verifier should have caught it).
func (d *Decoder[T]) View(frame []byte) (v T, err error) {
	defer func() {
		if r := recover(); r != nil {
			var zero T
			v, err = zero, fmt.Errorf("%w: %s: %v", codec.ErrInvalid, d.name, r)
		}
	}()
	v, err = d.view(frame)
	if err != nil && !errors.Is(err, codec.ErrInvalid) {
		err = fmt.Errorf("%w: %s: %w", codec.ErrInvalid, d.name, err)
	}
	return v, err
}
