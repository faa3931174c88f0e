package core

import (
	"context"
	"sync"
	"weak"
)

// ctxWake wakes a side's sleeping calls when their context ends, through
// context.AfterFunc. A registration allocates, and a sleeping call needs
// one; applications usually pass the same long-lived context (one made by
// signal.NotifyContext, say) to every call, so the first context to sleep
// keeps its registration until it ends or the side closes, and the later
// sleeps with that context register nothing. A call with another context
// while the kept one lives registers for itself, as before.
//
// A kept registration may fire when no call of its context sleeps: the
// sleepers it wakes re-check their state and sleep again. Its callback
// holds the side weakly, so that a kept registration does not keep an
// unclosed, unreachable side from its cleanup.
type ctxWake struct {
	mu     sync.Mutex
	done   <-chan struct{} // Done of the kept registration's context; nil: none kept
	stop   func() bool     // ends the kept registration
	fn     func()          // the callback, made once
	closed bool            // release ran: nothing is kept any more
}

// newCtxWake returns a ctxWake whose callback calls wake on side, while
// side is reachable.
func newCtxWake[T any](side *T, wake func(*T)) *ctxWake {
	p := weak.Make(side)
	return &ctxWake{fn: func() {
		if s := p.Value(); s != nil {
			wake(s)
		}
	}}
}

// register makes sure that the end of ctx wakes the caller's next sleep.
// It returns the function that ends a registration made for this call
// only, or nil when nothing is to be ended by the caller (ctx cannot end,
// or the kept registration serves it).
func (c *ctxWake) register(ctx context.Context) (unregister func() bool) {
	done := ctx.Done()
	if done == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == done {
		return nil
	}
	if c.closed { // a call that raced with Close: nothing may outlive it
		return context.AfterFunc(ctx, c.fn)
	}
	if c.done != nil {
		select {
		case <-c.done: // its context ended: the registration is spent
		default:
			return context.AfterFunc(ctx, c.fn) // another live context keeps it
		}
	}
	c.done, c.stop = done, context.AfterFunc(ctx, c.fn)
	return nil
}

// release ends the kept registration; the side is closing.
func (c *ctxWake) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stop != nil {
		c.stop()
	}
	c.done, c.stop, c.closed = nil, nil, true
}
