package typed

import (
	"context"
	"errors"

	"github.com/zerobuffer/zerobuffer-go/codec"
	"github.com/zerobuffer/zerobuffer-go/core"
)

// SendAll sends vs in order, one frame each, and publishes them in
// batches: the receiver is woken once per batch instead of once per
// message, which is what makes bursts of small messages fast. With the raw
// codec ([]byte values and codec.Raw or codec.RawCopy) the messages are
// copied into the ring once, by core.Writer.WriteFrames; other codecs
// encode each message into memory of their own or reused across the batch
// and append it (core.Writer.AppendFrame), publishing once at the end and
// whenever the ring fills. It blocks like [Sender.Send].
//
// SendAll returns the number of messages sent. On an error, the messages
// before the failing one are sent and published, the rest are not; the
// error is that of Send.
func (s *Sender[T]) SendAll(ctx context.Context, vs []T) (int, error) {
	if frames, ok := any(vs).([][]byte); ok && codec.IsRaw(s.enc) {
		return s.w.WriteFrames(ctx, frames)
	}
	bw := batchWriter{w: s.w}
	for i, v := range vs {
		if err := s.enc.EncodeFrame(ctx, &bw, v); err != nil {
			return i, errors.Join(err, s.flush())
		}
	}
	return len(vs), s.flush()
}

// flush publishes appended frames; a closed writer has nothing to publish.
func (s *Sender[T]) flush() error {
	if err := s.w.Flush(); err != nil && !errors.Is(err, core.ErrClosed) {
		return err
	}
	return nil
}

// batchWriter is the codec.FrameWriter of SendAll: each committed frame is
// appended to the ring without publication.
type batchWriter struct {
	w   *core.Writer
	ctx context.Context
	buf []byte
}

// Reserve returns pooled memory for the frame.
func (b *batchWriter) Reserve(ctx context.Context, n int) ([]byte, error) {
	if n < 0 {
		return nil, core.ErrInvalidFrameSize
	}
	if cap(b.buf) < n {
		b.buf = make([]byte, n)
	}
	b.buf, b.ctx = b.buf[:n], ctx
	return b.buf, nil
}

// Commit appends the frame.
func (b *batchWriter) Commit() error { return b.w.AppendFrame(b.ctx, b.buf) }

var _ codec.CopyFrameWriter = (*batchWriter)(nil)

// WriteFrame appends p, a frame the codec built in memory of its own,
// without a copy into b's buffer first (see codec.WriteFrame).
func (b *batchWriter) WriteFrame(ctx context.Context, p []byte) error {
	return b.w.AppendFrame(ctx, p)
}
