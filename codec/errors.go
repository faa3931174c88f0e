package codec

import (
	"errors"
	"fmt"
)

// ErrMismatch reports that the two ends of a buffer use different codecs:
// the codec name declared in the buffer metadata is not the one the local
// side expects, or the sender declared none. The concrete error is a
// [*MismatchError].
var ErrMismatch = errors.New("zerobuffer: codec mismatch")

// ErrInvalid reports that bytes received from the peer are not a valid
// encoding for the decoder's type (truncated, corrupt or of another schema).
// Decoders wrap it, so errors.Is(err, ErrInvalid) holds for every decode
// failure caused by peer data.
var ErrInvalid = errors.New("zerobuffer: invalid encoded message")

// ErrEncode reports that a value could not be encoded (unsupported type,
// builder misuse). Nothing was written to the buffer.
var ErrEncode = errors.New("zerobuffer: cannot encode message")

// ErrInvalidName reports a codec name that cannot be written into the
// metadata header (see [ValidateName]).
var ErrInvalidName = errors.New("zerobuffer: invalid codec name")

// ErrMetadata reports buffer metadata that does not start with a
// well-formed codec header (see [ParseMetadata]).
var ErrMetadata = errors.New("zerobuffer: malformed codec metadata")

// MismatchError is the error returned when the codec declared in the buffer
// metadata differs from the expected one. It matches [ErrMismatch] with
// errors.Is.
type MismatchError struct {
	// Want is the codec name the local side uses.
	Want string
	// Got is the codec name found in the metadata; empty when the sender
	// declared no codec at all.
	Got string
}

// Error implements error.
func (e *MismatchError) Error() string {
	if e.Got == "" {
		return fmt.Sprintf("%v: want %q, sender declared no codec", ErrMismatch, e.Want)
	}
	return fmt.Sprintf("%v: want %q, sender uses %q", ErrMismatch, e.Want, e.Got)
}

// Is reports whether target is [ErrMismatch].
func (e *MismatchError) Is(target error) bool { return target == ErrMismatch }
