package typed

import (
	"context"

	"github.com/zerobuffer/zerobuffer-go/core"
)

// C returns a channel that delivers the messages, for use in select
// statements. The first call starts a goroutine that receives until the
// stream ends, ctx is done or the Receiver is closed, then closes the
// channel; later calls return the same channel (their ctx is ignored).
// After the channel is closed, [Receiver.Err] tells why.
//
// The channel's capacity is set by [WithChanBuffer]. No message is lost
// when ctx ends or the Receiver closes: a message already taken from the
// buffer but not yet delivered is kept, and the next [Receiver.Recv] (or
// RecvFunc or All) returns it first; messages in the channel's own buffer
// can still be received from the closed channel, as from any Go channel.
// Do not receive with other methods while the channel is open.
func (r *Receiver[T]) C(ctx context.Context) <-chan T {
	r.chOnce.Do(func() {
		r.ch = make(chan T, r.o.chanBuffer)
		r.wg.Add(1)
		go r.pump(ctx)
	})
	return r.ch
}

func (r *Receiver[T]) pump(ctx context.Context) {
	defer r.wg.Done()
	defer close(r.ch)
	for {
		v, err := r.Recv(ctx)
		if err != nil {
			r.setErr(err)
			return
		}
		select {
		case r.ch <- v:
			continue
		default:
		}
		select {
		case r.ch <- v:
		case <-ctx.Done():
			r.keep(v)
			r.setErr(ctx.Err())
			return
		case <-r.done:
			r.keep(v)
			r.setErr(core.ErrClosed)
			return
		}
	}
}

// keep puts back a message that C read but could not deliver, ahead of
// any queued ones (it is older), for the next receive.
func (r *Receiver[T]) keep(v T) {
	r.mu.Lock()
	if r.head > 0 {
		r.head--
		r.queue[r.head] = item[T]{v: v}
	} else {
		r.queue = append([]item[T]{{v: v}}, r.queue...)
	}
	r.queued.Store(int64(len(r.queue) - r.head))
	r.mu.Unlock()
}

func (r *Receiver[T]) setErr(err error) {
	r.mu.Lock()
	r.err = err
	r.mu.Unlock()
}

// Err returns why the channel of [Receiver.C] was closed: nil after a
// clean end of stream (the sender closed and every message was delivered)
// or while the channel is open, otherwise the error that ended it
// (core.ErrWriterDead, the ctx error, core.ErrClosed, [ErrCodecMismatch],
// or a decode error wrapping codec.ErrInvalid), unchanged.
func (r *Receiver[T]) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if isEnd(r.err) {
		return nil
	}
	return r.err
}
