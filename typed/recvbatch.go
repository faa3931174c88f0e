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
// message and queues the rest. The values are owned, so they may outlive
// their frames.
func (r *Receiver[T]) recvBatch(ctx context.Context) (v T, fatal bool, err error) {
	r.fillMu.Lock()
	defer r.fillMu.Unlock()
	if it, ok := r.takeQueued(); ok { // another goroutine filled the queue meanwhile
		return it.v, false, it.err
	}
	batch := r.batch[:0]
	dec := r.decoder()
	n, err := r.l.r.ReadBatch(ctx, recvBatchMax, func(data []byte, seq uint64) error {
		v, err := dec.Decode(data)
		if err != nil {
			err = fmt.Errorf("typed: frame %d: %w", seq, err)
		}
		batch = append(batch, item[T]{v: v, err: err})
		return nil
	})
	defer func() { clear(batch); r.batch = batch[:0] }() // keep no values alive
	if n == 0 {
		return v, true, err
	}
	if len(batch) > 1 {
		r.mu.Lock()
		r.queue = append(r.queue, batch[1:]...)
		r.queued.Store(int64(len(r.queue) - r.head))
		r.mu.Unlock()
	}
	return batch[0].v, false, batch[0].err
}

// takeQueued returns the oldest queued message, if any.
func (r *Receiver[T]) takeQueued() (it item[T], ok bool) {
	if r.queued.Load() == 0 {
		return it, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.head == len(r.queue) {
		return it, false
	}
	it = r.queue[r.head]
	r.queue[r.head] = item[T]{}
	r.head++
	if r.head == len(r.queue) { // empty: reuse the array from its start
		r.queue, r.head = r.queue[:0], 0
	}
	r.queued.Store(int64(len(r.queue) - r.head))
	return it, true
}
