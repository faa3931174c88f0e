package bench

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"
)

// The in-process Go channel reference.
//
// A "drop-in for Go channels" is judged against what a Go programmer
// would write: two goroutines, a buffered channel of byte slices, and a
// sender that must copy each message into a buffer it may hand over (it
// cannot send its own reusable buffer). The buffer comes from a sync.Pool
// and the receiver puts it back after use, which is the allocation-free
// form a performance-minded user writes; allocating a fresh slice per
// message would only make the reference slower (garbage collection). The
// channel carries *[]byte, the pool's element, so that returning a buffer
// to the pool does not allocate a slice header. The channel holds as many
// messages as the zerobuffer ring of the same case ([ringCapacity]).

// chanPool hands out message buffers of one size.
type chanPool struct{ p sync.Pool }

func newChanPool(size int) *chanPool {
	cp := &chanPool{}
	cp.p.New = func() any { b := make([]byte, size); return &b }
	return cp
}

func (cp *chanPool) get() *[]byte  { return cp.p.Get().(*[]byte) }
func (cp *chanPool) put(b *[]byte) { cp.p.Put(b) }

// chanThroughput streams messages from one goroutine to another for d.
func chanThroughput(ctx context.Context, size int, d time.Duration) (sideResult, sideResult, error) {
	m := newMessage(size)
	pool := newChanPool(size)
	ch := make(chan *[]byte, ringCapacity(size))
	var recv sideResult
	var recvErr error
	var wg sync.WaitGroup
	wg.Go(func() {
		recv, recvErr = recvLoop(size, func(seq uint64) error {
			b, ok := <-ch
			if !ok {
				return io.EOF
			}
			err := m.verify(*b, seq)
			pool.put(b)
			return err
		})
		for range ch { // unblock the sender after an error
		}
	})
	c0 := cpuTime()
	send, sendErr := sendLoop(ctx, size, d, func(seq uint64) error {
		b := pool.get()
		m.fill(*b, seq)
		ch <- b
		return nil
	})
	close(ch)
	wg.Wait()
	// Both goroutines share the process: report the process's CPU once,
	// on the sender's side.
	send.CPU, send.CPUWall = cpuTime()-c0, max(send.CPUWall, recv.CPUWall)
	recv.CPU = 0
	return send, recv, errors.Join(sendErr, recvErr)
}

// chanRTT measures request/reply round trips between two goroutines over
// two channels; the echo goroutine sends the received buffer back, as a
// Go server would.
func chanRTT(ctx context.Context, size int, d, gap time.Duration) (*Histogram, sideResult, error) {
	m := newMessage(size)
	pool := newChanPool(size)
	req, resp := make(chan *[]byte, 1), make(chan *[]byte, 1)
	var wg sync.WaitGroup
	wg.Go(func() {
		for b := range req {
			resp <- b
		}
		close(resp)
	})
	// rttLoop's CPU figure is the whole process's, echo goroutine included.
	h, client, err := rttLoop(ctx, d, gap, func(seq uint64) error {
		b := pool.get()
		m.fill(*b, seq)
		req <- b
		r := <-resp
		err := m.verify(*r, seq)
		pool.put(r)
		return err
	})
	close(req)
	wg.Wait()
	return h, client, err
}
