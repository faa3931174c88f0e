package natsx

import (
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/zerobuffer/zerobuffer-go/codec"
)

// maxBatch bounds the frames of one batch message.
const maxBatch = 1 << 16

// appendFrame appends one frame to a batch payload: u32 little-endian
// length, then the bytes.
func appendFrame(dst, frame []byte) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(frame)))
	return append(dst, frame...)
}

// splitBatch splits a batch payload that declares n frames. Every length
// is checked against the bytes left; the count must match exactly and the
// payload must end after the last frame. The frames alias p. Errors match
// ErrBadMessage and codec.ErrInvalid.
func splitBatch(p []byte, count string) ([][]byte, error) {
	n, err := strconv.Atoi(count)
	if err != nil || n < 0 || n > maxBatch {
		return nil, fmt.Errorf("%w: %w: batch count %q", ErrBadMessage, codec.ErrInvalid, count)
	}
	if n > len(p)/4 {
		return nil, fmt.Errorf("%w: %w: batch of %d frames in %d bytes", ErrBadMessage, codec.ErrInvalid, n, len(p))
	}
	frames := make([][]byte, 0, n)
	for i := 0; i < n; i++ {
		if len(p) < 4 {
			return nil, fmt.Errorf("%w: %w: batch frame %d: truncated length", ErrBadMessage, codec.ErrInvalid, i)
		}
		l := binary.LittleEndian.Uint32(p)
		p = p[4:]
		if uint64(l) > uint64(len(p)) {
			return nil, fmt.Errorf("%w: %w: batch frame %d: length %d, %d bytes left", ErrBadMessage, codec.ErrInvalid, i, l, len(p))
		}
		frames = append(frames, p[:l:l])
		p = p[l:]
	}
	if len(p) != 0 {
		return nil, fmt.Errorf("%w: %w: batch has %d trailing bytes", ErrBadMessage, codec.ErrInvalid, len(p))
	}
	return frames, nil
}
