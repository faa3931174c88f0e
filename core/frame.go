package core

// Frame is one frame read from the ring. Its bytes are not copied: Data
// is a view of shared memory that stays valid until Release.
//
// Frames are recycled by their Reader: after Release the Frame must not be
// used again. Release itself may be called more than once (later calls do
// nothing) as long as the Frame has not been handed out again. A Frame's
// methods are safe to call from any goroutine.
type Frame struct {
	r        *Reader
	data     []byte
	seq      uint64
	span     uint64 // header + payload bytes this frame holds in the ring
	released bool
}

func (r *Reader) newFrameLocked() *Frame {
	var f *Frame
	if n := len(r.pool); n > 0 {
		f = r.pool[n-1]
		r.pool = r.pool[:n-1]
	} else {
		f = &Frame{r: r}
	}
	f.released = false
	r.held++
	return f
}

// Data returns the payload. The slice aliases shared memory: do not use it
// after Release, and do not append to it (its capacity is its length).
func (f *Frame) Data() []byte { return f.data }

// Len returns the payload size in bytes.
func (f *Frame) Len() int { return len(f.data) }

// Sequence returns the writer's sequence number of this frame (1 for the
// first frame a writer sends).
func (f *Frame) Sequence() uint64 { return f.seq }

// Release gives the frame's ring space back to the writer. Frames may be
// released in any order; their space returns to the writer in read order,
// so a frame still held is never overwritten.
func (f *Frame) Release() error {
	if f == nil || f.r == nil {
		return nil
	}
	r := f.r
	r.mu.Lock()
	if !f.released {
		f.released = true
		r.releaseLocked(f)
	}
	r.mu.Unlock()
	return nil
}

// frameFIFO is a growable ring of frames in read order. Its capacity is
// a power of two, so indices wrap with a mask.
type frameFIFO struct {
	buf        []*Frame
	head, size int
}

func (q *frameFIFO) len() int     { return q.size }
func (q *frameFIFO) peek() *Frame { return q.buf[q.head] }

func (q *frameFIFO) push(f *Frame) {
	if q.size == len(q.buf) {
		nb := make([]*Frame, max(8, 2*len(q.buf)))
		for i := range q.size {
			nb[i] = q.buf[(q.head+i)%len(q.buf)]
		}
		q.buf, q.head = nb, 0
	}
	q.buf[(q.head+q.size)&(len(q.buf)-1)] = f
	q.size++
}

func (q *frameFIFO) pop() *Frame {
	f := q.buf[q.head]
	q.buf[q.head] = nil
	q.head = (q.head + 1) & (len(q.buf) - 1)
	q.size--
	return f
}
