package codec

import (
	"bytes"
	"context"
)

// RawName is the codec name of [Raw] and [RawCopy]: the frame payload is the
// message itself.
const RawName = "raw"

// IsRaw reports whether c is the raw codec ([Raw] or [RawCopy], or a
// pointer to one), whose encoding of a []byte value is the bytes
// themselves: transports use it to move such values without the codec
// calls.
func IsRaw(c any) bool {
	switch c.(type) {
	case Raw, RawCopy, *Raw, *RawCopy:
		return true
	}
	return false
}

// Raw is the identity codec for []byte with zero-copy decoding: EncodeFrame
// copies the message once into the reserved ring slot, and View returns the
// frame's own bytes, so a received message is valid only until its frame is
// released. Use [RawCopy] to receive owned copies.
//
// The protocol has no empty frames: sending an empty slice fails with the
// core's invalid-frame-size error. Raw is stateless and safe for concurrent
// use.
type Raw struct{}

// Name returns [RawName].
func (Raw) Name() string { return RawName }

// EncodeFrame copies v into one frame.
func (Raw) EncodeFrame(ctx context.Context, w FrameWriter, v []byte) error {
	return WriteFrame(ctx, w, v)
}

// View returns frame itself (no copy). It never fails.
func (Raw) View(frame []byte) ([]byte, error) { return frame, nil }

// RawCopy is [Raw] with owning decoding: Decode returns a fresh copy of the
// frame, which the caller owns. The wire format and name are those of Raw,
// so a Raw sender and a RawCopy receiver interoperate. RawCopy is stateless
// and safe for concurrent use.
type RawCopy struct{}

// Name returns [RawName].
func (RawCopy) Name() string { return RawName }

// EncodeFrame copies v into one frame.
func (RawCopy) EncodeFrame(ctx context.Context, w FrameWriter, v []byte) error {
	return WriteFrame(ctx, w, v)
}

// Decode returns a copy of frame. It never fails.
func (RawCopy) Decode(frame []byte) ([]byte, error) { return bytes.Clone(frame), nil }
