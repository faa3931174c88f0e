package typed

import (
	"context"
	"fmt"
)

// recvBatchMax is the most frames a receive decodes in one pass.
const recvBatchMax = 64

// item is a decoded message, or the decode error of one.
type item[T any] struct {
	v   T
	err error
}

// ready reports whether frames can be read without the first-frame codec
// check (it has passed, or is off).
func (l *link) ready() bool { return l.noCheck || l.checked.Load() }

// recvBatch decodes every committed frame (up to recvBatchMax) in one pass
// of core.Reader.ReadBatch, which takes the reader's lock and credits the
// ring once per batch instead of once per frame, then returns the first
// message and queues the rest. Values are decoded straight into the
// batch's slots, and a full batch becomes the queue by swapping arrays, so
// each value is copied once more only when it is delivered. The values
// are owned, so they may outlive their frames.
func (r *Receiver[T]) recvBatch(ctx context.Context) (v T, fatal bool, err error) {
	if err := r.acquireFill(ctx); err != nil {
		return v, true, err
	}
	defer r.releaseFill()
	if r.pop(&v, &err) { // another goroutine filled the queue meanwhile
		return v, false, err
	}
	batch := r.batch[:0]
	// Exclusive decoders suffice: ReadBatch calls fn with the reader
	// locked, so no two calls overlap.
	dec := r.soloDecoder()
	n, err := r.l.r.ReadBatch(ctx, recvBatchMax, func(data []byte, seq uint64) error {
		batch = append(batch, item[T]{})
		it := &batch[len(batch)-1]
		if err := dec.DecodeInto(data, &it.v); err != nil {
			it.err = fmt.Errorf("typed: frame %d: %w", seq, err)
		}
		return nil
	})
	if n == 0 {
		r.batch = batch[:0]
		return v, true, err
	}
	first := batch[0]
	batch[0] = item[T]{}
	if len(batch) == 1 {
		r.batch = batch[:0]
		return first.v, false, first.err
	}
	r.mu.Lock()
	if r.head == len(r.queue) { // empty (its slots are zero): swap the arrays
		r.queue, r.head, r.batch = batch, 1, r.queue[:0]
	} else { // messages put back by C's goroutine come first
		r.queue = append(r.queue, batch[1:]...)
		clear(batch) // keep no values alive
		r.batch = batch[:0]
	}
	r.queued.Store(int64(len(r.queue) - r.head))
	r.mu.Unlock()
	return first.v, false, first.err
}

// acquireFill takes the right to read a batch, waiting while another
// goroutine reads one (which may wait for the sender), but not past ctx.
func (r *Receiver[T]) acquireFill(ctx context.Context) error {
	select {
	case r.fill <- struct{}{}:
		return nil
	default:
	}
	select {
	case r.fill <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (r *Receiver[T]) releaseFill() { <-r.fill }

// pop moves the oldest queued message, if any, into *v and *err. It
// writes the caller's variables directly: a message is copied once on its
// way out of the queue.
func (r *Receiver[T]) pop(v *T, err *error) bool {
	if r.queued.Load() == 0 {
		return false
	}
	r.mu.Lock()
	if r.head == len(r.queue) {
		r.mu.Unlock()
		return false
	}
	it := &r.queue[r.head]
	*v, *err = it.v, it.err
	*it = item[T]{}
	r.head++
	if r.head == len(r.queue) { // empty: reuse the array from its start
		r.queue, r.head = r.queue[:0], 0
	}
	r.queued.Store(int64(len(r.queue) - r.head))
	r.mu.Unlock()
	return true
}
