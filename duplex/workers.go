package duplex

import (
	"context"
	"sync"

	"github.com/zerobuffer/zerobuffer-go/core"
)

// pool runs handlers on n workers and writes their responses in request
// order. The serving goroutine submits each request to the order queue
// first and to the workers second, so the sequencer sees requests in read
// order; it waits for each one's handler, writes the response and releases
// the request frame. At most 2n requests are in flight; beyond that
// submit blocks, and so does the reading of requests (back-pressure).
type pool struct {
	s        *RawServer
	ctx      context.Context
	jobs     chan *job // to the workers
	order    chan *job // to the sequencer, in request order
	wg       sync.WaitGroup
	inflight sync.WaitGroup
	free     sync.Pool
}

// maxPooledResponse is the largest response buffer kept for reuse.
const maxPooledResponse = 1 << 20

// job is one request in flight.
type job struct {
	f    *core.Frame
	w    *core.Writer // the session's response writer when submitted
	rw   ResponseWriter
	herr error
	done chan struct{}
}

func newPool(s *RawServer, ctx context.Context, n int) *pool {
	p := &pool{s: s, ctx: ctx, jobs: make(chan *job), order: make(chan *job, 2*n)}
	p.free.New = func() any { return &job{} }
	for range n {
		p.wg.Go(p.work)
	}
	p.wg.Go(p.sequence)
	return p
}

// submit hands a request to the workers. Called by the serving goroutine.
func (p *pool) submit(f *core.Frame, w *core.Writer) {
	j := p.free.Get().(*job)
	j.f, j.w, j.herr, j.done = f, w, nil, make(chan struct{})
	j.rw.reset(nil, w.MaxFrameSize())
	p.inflight.Add(1)
	p.order <- j
	p.jobs <- j
}

// wait returns when every submitted request is answered.
func (p *pool) wait() { p.inflight.Wait() }

// close stops the workers and the sequencer after the last request.
func (p *pool) close() {
	close(p.jobs)
	close(p.order)
	p.wg.Wait()
}

func (p *pool) work() {
	for j := range p.jobs {
		j.herr = p.s.callHandler(p.ctx, j.f.Data(), &j.rw)
		_ = j.rw.finish(p.ctx, j.herr) // buffered: only settles rw.buf
		close(j.done)
	}
}

func (p *pool) sequence() {
	for j := range p.order {
		<-j.done
		var werr error
		if !p.s.sess.gone.Load() {
			werr = j.rw.flush(p.ctx, j.w)
		}
		_ = j.f.Release()
		p.s.after(p.ctx, j.herr, werr)
		j.f, j.w, j.herr = nil, nil, nil
		j.rw.reset(nil, 0)
		if cap(j.rw.buf) > maxPooledResponse {
			j.rw.buf = nil // do not pin one huge response
		}
		p.free.Put(j)
		p.inflight.Done()
	}
}
