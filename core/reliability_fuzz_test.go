//go:build linux

package core

// FuzzRingModel (RELIABILITY.md section 6): an op stream drives an
// in-process Reader and Writer (two mappings of one buffer) and every
// result is compared with a reference model of the ring. Run it long with:
//
//	go test -run '^$' -fuzz '^FuzzRingModel$' -fuzztime 10m ./core

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"testing"

	"github.com/zerobuffer/zerobuffer-go/internal/hostile"
	"github.com/zerobuffer/zerobuffer-go/internal/layout"
	"github.com/zerobuffer/zerobuffer-go/internal/testproc"
	"github.com/zerobuffer/zerobuffer-go/platform"
)

var fuzzSeq atomic.Int64

// modelFrame is a frame of the reference model: a sequence number and a
// size; its content is pattern(seq).
type modelFrame struct {
	seq uint64
	n   int
}

// ringModel is what the ring must hold: published frames not yet read
// (in order), appended frames not yet flushed, and frames handed out and
// not yet released.
type ringModel struct {
	p         int // ring size
	published []modelFrame
	pending   []modelFrame
	held      []*Frame
	heldSeq   []modelFrame
	next      uint64 // sequence number of the next frame written
	poked     bool   // shared memory was damaged: results need not match
	sticky    error  // ErrCorrupt or ErrSequence once the reader reported it
}

func (m *ringModel) empty() bool {
	return len(m.published) == 0 && len(m.pending) == 0 && len(m.held) == 0
}

// alwaysFits is the largest payload a Go writer places at any position.
func (m *ringModel) alwaysFits() int { return int(alwaysFits(uint64(m.p))) }

// fuzzOp reads the op stream one byte at a time.
type fuzzOp struct {
	b []byte
	i int
}

func (o *fuzzOp) next() (byte, bool) {
	if o.i >= len(o.b) {
		return 0, false
	}
	o.i++
	return o.b[o.i-1], true
}

func (o *fuzzOp) u16() int {
	lo, _ := o.next()
	hi, _ := o.next()
	return int(lo) | int(hi)<<8
}

// FuzzRingModel: ops are write n (WriteFrame, Reserve/Commit,
// AppendFrame or WriteFrames), flush, read (ReadFrame or ReadBatch),
// release i and poke (damage shared memory).
// Every call is non-blocking (its ctx is already cancelled). Until the
// first poke every result must equal the model; after it only errors of
// this package or frames inside the ring may come back, and once the
// reader reports corruption (ErrCorrupt or ErrSequence) it must keep
// reporting it. Nothing may panic.
func FuzzRingModel(f *testing.F) {
	testproc.SweepDead("zbfuzz-") // inputs cut short when a previous run's worker was stopped
	f.Add([]byte{0, 0, 10, 0, 5, 5, 7, 0})
	f.Add([]byte{2, 0, 20, 0, 1, 30, 0, 2, 40, 0, 3, 5, 5, 5, 4, 5, 7, 1, 7, 0, 7, 0})
	f.Add([]byte{1, 0, 200, 0, 0, 100, 0, 5, 7, 0, 0, 150, 0, 5, 0, 60, 0, 5, 7, 0, 7, 0})
	f.Add([]byte{3, 3, 1, 0, 3, 2, 0, 3, 3, 0, 5, 4, 5, 5, 5, 7, 2, 7, 1, 7, 0})
	f.Add([]byte{0, 0, 0, 1, 0, 0xff, 0xff, 5, 0, 63, 0, 5, 7, 0})
	f.Add([]byte{1, 0, 8, 0, 0, 8, 0, 9, 48, 0, 0, 9, 5, 5, 5, 0, 8, 0, 5})
	f.Add([]byte{2, 0, 8, 0, 9, 88, 0, 200, 5, 7, 0, 0, 8, 0, 5, 5})
	f.Add([]byte{4, 1, 100, 0, 1, 100, 0, 1, 100, 0, 5, 7, 0, 5, 7, 0, 0, 250, 1, 5, 5, 7, 0, 7, 0, 9, 0, 0, 3, 5, 5})
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) < 1 || len(ops) > 4096 {
			return
		}
		o := &fuzzOp{b: ops}
		geo, _ := o.next()
		m := &ringModel{p: 64 << (geo % 5), next: 1}
		meta := 64 * int(geo>>7)
		name := fmt.Sprintf("zbfuzz-%d-%d", os.Getpid(), fuzzSeq.Add(1))
		r, err := NewReader(name, BufferConfig{MetadataSize: meta, PayloadSize: m.p}, WithSpin(0))
		if err != nil {
			t.Fatal(err)
		}
		defer func() {
			r.Close()
			for _, p := range testproc.Leftovers(name) {
				os.Remove(p)
				t.Errorf("left behind: %s", p)
			}
		}()
		w, err := NewWriter(name, WithSpin(0))
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		h, err := hostile.Open(name, platform.Dirs{})
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		defer func() {
			for _, f := range m.held {
				f.Release()
			}
		}()
		done, cancel := context.WithCancel(context.Background())
		cancel()
		for {
			b, ok := o.next()
			if !ok {
				return
			}
			switch b % 10 {
			case 0, 1, 2:
				m.write(t, w, done, int(b%10), 1+o.u16()%(m.p+16))
			case 3:
				k, _ := o.next()
				sizes := make([]int, 1+int(k%4))
				for j := range sizes {
					sizes[j] = 1 + o.u16()%(m.p/2+16)
				}
				m.writeFrames(t, w, done, sizes)
			case 4:
				err := w.Flush()
				if err == nil {
					m.published, m.pending = append(m.published, m.pending...), nil
				} else if !m.poked {
					t.Fatalf("Flush: %v", err)
				}
			case 5:
				m.read(t, r, done)
			case 6:
				limit, _ := o.next()
				m.readBatch(t, r, done, int(limit%4))
			case 7:
				if len(m.held) > 0 {
					i := o.u16() % len(m.held)
					m.release(t, i)
				}
			case 8, 9:
				off := o.u16() % h.Len()
				v, _ := o.next()
				k, _ := o.next()
				val := make([]byte, 1+int(k%8))
				for j := range val {
					val[j] = v + byte(j)
				}
				if off+len(val) > h.Len() {
					off = h.Len() - len(val)
				}
				if err := h.PokeBytes(off, val); err != nil {
					t.Fatal(err)
				}
				m.poked = true
			}
		}
	})
}

// write performs one write of n bytes by path (0 WriteFrame, 1
// Reserve/Commit, 2 AppendFrame) and checks the outcome.
func (m *ringModel) write(t *testing.T, w *Writer, ctx context.Context, path, n int) {
	buf := make([]byte, n)
	pattern(buf, m.next)
	var err error
	switch path {
	case 0:
		err = w.WriteFrame(ctx, buf)
	case 1:
		var b []byte
		if b, err = w.Reserve(ctx, n); err == nil {
			copy(b, buf)
			err = w.Commit()
		}
	default:
		err = w.AppendFrame(ctx, buf)
	}
	fr := modelFrame{seq: m.next, n: n}
	switch {
	case err == nil:
		m.next++
		if path == 2 {
			m.pending = append(m.pending, fr)
			return
		}
		m.published = append(append(m.published, m.pending...), fr)
		m.pending = nil
		if n > m.p-layout.HeaderSize && !m.poked {
			t.Fatalf("write of %d bytes into a %d-byte ring succeeded", n, m.p)
		}
	case errors.Is(err, ErrBufferFull):
		// The writer publishes what it appended before it waits.
		m.published, m.pending = append(m.published, m.pending...), nil
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("ErrBufferFull does not wrap the ctx error: %v", err)
		}
		if m.empty() && n <= m.alwaysFits() && !m.poked {
			t.Fatalf("write of %d bytes refused on an empty %d-byte ring: %v", n, m.p, err)
		}
	case errors.Is(err, ErrFrameTooLarge):
		if n <= m.alwaysFits() && !m.poked {
			t.Fatalf("write of %d bytes (always fits in %d) refused: %v", n, m.p, err)
		}
	default:
		if !m.poked || !errors.Is(err, ErrZeroBuffer) {
			t.Fatalf("write of %d bytes: %v", n, err)
		}
	}
}

// writeFrames performs one WriteFrames call and checks it: the frames it
// reports written are published (with any appended before), in order; the
// one it stopped at failed for a reason the model allows.
func (m *ringModel) writeFrames(t *testing.T, w *Writer, ctx context.Context, sizes []int) {
	frames := make([][]byte, len(sizes))
	for j, n := range sizes {
		frames[j] = make([]byte, n)
		pattern(frames[j], m.next+uint64(j))
	}
	k, err := w.WriteFrames(ctx, frames)
	if k < 0 || k > len(frames) || (err == nil) != (k == len(frames)) {
		t.Fatalf("WriteFrames(%v) = %d, %v", sizes, k, err)
	}
	if m.poked {
		m.next += uint64(k)
		return
	}
	emptyBefore := m.empty()
	m.published, m.pending = append(m.published, m.pending...), nil
	for j := 0; j < k; j++ {
		m.published = append(m.published, modelFrame{seq: m.next, n: sizes[j]})
		m.next++
	}
	if err == nil {
		return
	}
	n := sizes[k]
	switch {
	case errors.Is(err, ErrBufferFull):
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("ErrBufferFull does not wrap the ctx error: %v", err)
		}
		if k == 0 && emptyBefore && n <= m.alwaysFits() {
			t.Fatalf("WriteFrames of %d bytes refused on an empty %d-byte ring: %v", n, m.p, err)
		}
	case errors.Is(err, ErrFrameTooLarge):
		if n <= m.alwaysFits() {
			t.Fatalf("WriteFrames frame of %d bytes (always fits in %d) refused: %v", n, m.p, err)
		}
	default:
		t.Fatalf("WriteFrames(%v) stopped at %d: %v", sizes, k, err)
	}
}

// damagedErr accepts the errors a read may return once shared memory was
// damaged, and remembers a sticky one.
func (m *ringModel) damagedErr(t *testing.T, what string, err error) {
	switch {
	case errors.Is(err, ErrCorrupt):
		m.sticky = ErrCorrupt
	case errors.Is(err, ErrSequence):
		m.sticky = ErrSequence
	case errors.Is(err, context.Canceled), errors.Is(err, io.EOF), errors.Is(err, ErrZeroBuffer):
	default:
		t.Fatalf("%s after damage: %v", what, err)
	}
}

// read performs one non-blocking ReadFrame and checks it.
func (m *ringModel) read(t *testing.T, r *Reader, ctx context.Context) {
	f, err := r.ReadFrame(ctx)
	if m.sticky != nil {
		if err == nil || !errors.Is(err, m.sticky) {
			t.Fatalf("after %v the reader returned %v (frame %v): corruption not sticky", m.sticky, err, f != nil)
		}
		return
	}
	if err == nil && (f.Len() < 1 || f.Len() > m.p-layout.HeaderSize) {
		t.Fatalf("frame of %d bytes from a %d-byte ring", f.Len(), m.p)
	}
	if m.poked {
		if err != nil {
			m.damagedErr(t, "read", err)
			return
		}
		m.held = append(m.held, f)
		m.heldSeq = append(m.heldSeq, modelFrame{seq: f.Sequence(), n: -1})
		if len(m.published) > 0 {
			m.published = m.published[1:]
		}
		return
	}
	if len(m.published) == 0 {
		if err == nil {
			t.Fatalf("read returned frame seq %d (%d bytes), the model holds none", f.Sequence(), f.Len())
		}
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("read with nothing published: %v, want context.Canceled", err)
		}
		return
	}
	want := m.published[0]
	if err != nil {
		t.Fatalf("read: %v, want frame seq %d (%d bytes)", err, want.seq, want.n)
	}
	if f.Sequence() != want.seq || f.Len() != want.n || checkPattern(f.Data(), want.seq) >= 0 {
		t.Fatalf("read frame seq %d (%d bytes, pattern at %d), want seq %d (%d bytes)", f.Sequence(), f.Len(),
			checkPattern(f.Data(), f.Sequence()), want.seq, want.n)
	}
	m.published = m.published[1:]
	m.held = append(m.held, f)
	m.heldSeq = append(m.heldSeq, want)
}

// readBatch performs one non-blocking ReadBatch of at most limit frames
// (0: all) and checks every frame it delivers.
func (m *ringModel) readBatch(t *testing.T, r *Reader, ctx context.Context, limit int) {
	var got []modelFrame
	n, err := r.ReadBatch(ctx, limit, func(data []byte, seq uint64) error {
		if len(data) < 1 || len(data) > m.p-layout.HeaderSize {
			t.Fatalf("batch frame of %d bytes from a %d-byte ring", len(data), m.p)
		}
		if !m.poked && checkPattern(data, seq) >= 0 {
			t.Fatalf("batch frame seq %d: pattern broken at %d", seq, checkPattern(data, seq))
		}
		got = append(got, modelFrame{seq: seq, n: len(data)})
		return nil
	})
	if n != len(got) {
		t.Fatalf("ReadBatch reported %d frames, delivered %d", n, len(got))
	}
	if m.sticky != nil {
		if n != 0 || !errors.Is(err, m.sticky) {
			t.Fatalf("after %v ReadBatch returned %d, %v: corruption not sticky", m.sticky, n, err)
		}
		return
	}
	if m.poked {
		if err != nil {
			m.damagedErr(t, "batch read", err)
			return
		}
		m.published = m.published[min(n, len(m.published)):]
		return
	}
	if len(m.published) == 0 {
		if n != 0 || !errors.Is(err, context.Canceled) {
			t.Fatalf("batch read with nothing published: %d, %v, want context.Canceled", n, err)
		}
		return
	}
	want := len(m.published)
	if limit > 0 {
		want = min(want, limit)
	}
	if err != nil || n != want {
		t.Fatalf("ReadBatch(limit %d) = %d, %v; model has %d published", limit, n, err, len(m.published))
	}
	for i, g := range got {
		if g != m.published[i] {
			t.Fatalf("batch frame %d is seq %d (%d bytes), want seq %d (%d bytes)", i, g.seq, g.n, m.published[i].seq, m.published[i].n)
		}
	}
	m.published = m.published[n:]
}

// release releases held frame i, after checking that the writer has not
// written over it while it was held.
func (m *ringModel) release(t *testing.T, i int) {
	f, want := m.held[i], m.heldSeq[i]
	if !m.poked && want.n >= 0 && (f.Len() != want.n || checkPattern(f.Data(), want.seq) >= 0) {
		t.Fatalf("held frame seq %d was overwritten before its Release", want.seq)
	}
	if err := f.Release(); err != nil {
		t.Fatalf("Release: %v", err)
	}
	m.held = append(m.held[:i], m.held[i+1:]...)
	m.heldSeq = append(m.heldSeq[:i], m.heldSeq[i+1:]...)
}
