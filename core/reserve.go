package core

// Reserve-max/commit-n: the write path for encoders that learn a message's
// size only after encoding it. The frame is placed for the largest size
// the caller may need, filled in place, and shrunk to the bytes actually
// used when it is committed. Nothing of it is visible to the reader before
// the commit publishes it, so the header written at reserve time can be
// rewritten then: on the wire the frame is an ordinary frame of n bytes
// (docs/PROTOCOL.md section 5.1).
//
// Invariants:
//
//   - A frame of max bytes that leaves at least 16 bytes before the ring's
//     end is placed at write_pos: a commit of any n <= max then leaves at
//     least 16 bytes, never the 1..15-byte tail that docs/PROTOCOL.md
//     section 5.5 forbids. Any other reservation wraps: it is placed at 0
//     for max+16 bytes (the ordinary placement of that size), and so a
//     frame of max bytes there would not have fitted before the end.
//   - A wrapped reservation committed with n bytes that would fit before
//     the end with 16 to spare is moved back to write_pos at commit (the
//     bytes go where the frame goes; no wrap marker, no waste), because a
//     marker in front of a frame that fits is what a Go reader takes for
//     stale data (docs/PROTOCOL.md section 5.3 and internal/layout).
//   - Shrinking and moving change only the open reservation (start, size,
//     need, markers) and ring bytes beyond write_pos, before publication.
//   - An Abort publishes nothing: the reservation is dropped as by
//     [Writer.Abort].

import (
	"context"
	"fmt"

	"github.com/zerobuffer/zerobuffer-go/internal/layout"
)

// ReserveMax places a frame of up to max bytes in the ring and returns its
// max-byte payload for the caller to fill in place. [Writer.CommitN]
// publishes the first n bytes as a frame of n bytes, [Writer.Commit]
// publishes all max, and [Writer.Abort] drops it. Between the calls the
// writer is held, as with [Writer.Reserve].
//
// Cost: while reserved, the frame holds max bytes of ring space, or the
// rest of the ring plus max+32 when it does not fit before the ring's end
// with 16 bytes to spare (it waits until that much is free); CommitN
// returns what was not used. So
// max should be a bound, not a guess far above the message: on a ring
// that is full of unreleased frames a large max waits for space that a
// small message would not need. max may be at most
// [Writer.MaxFrameSize]-16; larger values fail with [ErrFrameTooLarge], as
// do values above half the ring less 32 bytes when they would have to wrap
// while the ring's start is in use.
// Blocking and other errors are those of WriteFrame.
func (w *Writer) ReserveMax(ctx context.Context, max int) ([]byte, error) {
	if max <= 0 || max > int(^uint32(0)>>1) {
		return nil, fmt.Errorf("%w: reserve of %d bytes", ErrInvalidFrameSize, max)
	}
	if err := w.lockCtx(ctx); err != nil {
		return nil, err
	}
	if w.closing.Load() || w.v == nil { // reserveLocked checks the rest
		w.mu.Unlock()
		return nil, ErrClosed
	}
	m := uint64(max)
	inPlace := w.v.p-w.pos >= m+2*layout.HeaderSize
	if !inPlace {
		m += layout.HeaderSize
	}
	buf, err := w.reserveLocked(ctx, int(m))
	if err != nil {
		w.mu.Unlock()
		return nil, err
	}
	if !inPlace {
		w.shrinkLocked(uint64(max))
	}
	w.reserved.Store(true)
	return buf[:max:max], nil
}

// CommitN publishes the first n bytes of the reserved payload as one frame
// of n bytes (the rest is returned to the ring). n must be in 1..the size
// reserved by [Writer.ReserveMax] or [Writer.Reserve]; otherwise CommitN
// fails with [ErrInvalidFrameSize] and the reservation stays open for
// another CommitN, Commit or Abort. After a Reserve (not ReserveMax) a
// shrink that would leave 1..15 bytes before the ring's end fails the same
// way. Without an open reservation it returns [ErrNoReservation].
func (w *Writer) CommitN(n int) error {
	if !w.reserved.Load() {
		return ErrNoReservation
	}
	// From here on this goroutine holds w.mu (taken by the Reserve).
	r := w.res
	if n <= 0 || uint64(n) > r.size {
		return fmt.Errorf("%w: commit of %d bytes, %d reserved", ErrInvalidFrameSize, n, r.size)
	}
	if tail := w.v.p - (r.start + layout.HeaderSize + uint64(n)); tail > 0 && tail < layout.HeaderSize {
		return fmt.Errorf("%w: commit of %d bytes would leave a %d-byte tail", ErrInvalidFrameSize, n, tail)
	}
	if !w.reserved.CompareAndSwap(true, false) {
		return ErrNoReservation
	}
	w.shrinkLocked(uint64(n))
	w.commitLocked(true)
	w.mu.Unlock()
	return nil
}

// shrinkLocked makes the open reservation a frame of n <= size bytes; a
// wrapped one that now fits before the ring's end with 16 bytes to spare
// moves back to write_pos.
func (w *Writer) shrinkLocked(n uint64) {
	r := &w.res
	d := r.size - n
	r.size = n
	r.need -= d
	ring := w.v.ring
	if e := w.v.p - w.pos; r.start != w.pos && n+2*layout.HeaderSize <= e {
		// Wrapped: [0, 16+n) and [pos, pos+16+n) do not overlap, since a
		// wrap needs the frame to fit before pos.
		copy(ring[w.pos+layout.HeaderSize:], ring[layout.HeaderSize:layout.HeaderSize+n])
		r.start, r.need, r.markers = w.pos, layout.HeaderSize+n, 0
	}
	layout.PutHeader(ring[r.start:], layout.Header{Size: n, Sequence: w.seq})
}
