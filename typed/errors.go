package typed

import (
	"errors"

	"github.com/zerobuffer/zerobuffer-go/codec"
)

// ErrCodecMismatch reports that the sender and the receiver of a buffer use
// different codecs (or that the sender declared none). It is the same
// sentinel as [codec.ErrMismatch]; the concrete error is a
// [*codec.MismatchError] naming both codecs.
//
// A receiver returns it for the first frame of a mismatched sender and from
// then on (the metadata of a buffer cannot change); a sender returns it from
// [NewSender] or [Dial] when the buffer already declares another codec.
var ErrCodecMismatch = codec.ErrMismatch

// errNilDecoder is returned by the receiver constructors for a nil decoder.
var errNilDecoder = errors.New("zerobuffer: typed: nil decoder")
