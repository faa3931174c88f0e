package core

// Invariants of the read side (docs/PROTOCOL.md sections 5.3, 5.4 and 17):
//
//   - r.pos < P is where the next header starts; 0 < P-r.pos < 16 is an
//     unmarked wrap left by a C++ writer and is skipped like a marker
//     (its bytes are returned as credit, read_count is not touched).
//   - One sem-w token stands for one committed frame; a wrap marker shares
//     the token of the frame after it. The reader never reads an item its
//     writer has not finished (section 17, "Not safe"). A Go writer
//     (layout.OffGoWriterPID == writer_pid) counts a marker together with
//     its frame once the frame is complete, so its frames are consumed when
//     payload_written_count covers them, against a banked token (r.tokens)
//     or on credit (r.debt). Any other writer may count a marker before it
//     writes the frame after it, or count a marker it never writes, so its
//     frames are consumed only against a token in hand; the count is then
//     just a hint for the spin (a foreign writer killed between counting
//     a frame and posting its token loses that frame: the count alone
//     cannot tell it from a half-written one). The debt is settled, with one take
//     of many tokens, before the reader sleeps on sem-w, past debtLimit,
//     when a stream ends and on Close (docs/PROTOCOL.md section 17: "keep a token debt and
//     subtract it later"); until then the sem-w value may exceed the frames
//     pending by r.debt. Tokens banked while no frame is committed are
//     strays and are dropped.
//   - read_pos/read_count/payload_free_bytes and the sem-r value may lag
//     while the reader holds a backlog; they are published when it has no
//     pending frame (also as ReadFrame hands out the last one), before it sleeps, when a stream ends, as soon as a
//     writer waits on sem-r, past a threshold (ring/8, at most 16 KiB),
//     on Close, and at the latest lateFlush after a release that left
//     them unpublished (a writer that began to wait just after it is then
//     served even if the reader makes no further call). read_pos is
//     stored before the free_bytes add it covers.
//   - Every value read from shared memory is validated against the ring
//     size the reader itself chose; corruption is sticky.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/zerobuffer/zerobuffer-go/internal/layout"
	"github.com/zerobuffer/zerobuffer-go/platform"
)

// ReadFrame returns the next frame, blocking until one is committed. The
// frame's bytes stay in shared memory until [Frame.Release], so release
// every frame promptly: unreleased frames hold ring space.
//
// It returns io.EOF once the writer has closed and every frame it
// committed was returned, [ErrWriterDead] in the same position when the
// writer died, [ErrClosed] after Close, and the ctx error when ctx ends
// first. A frame that is already available is returned even if ctx is
// done, so a cancelled ctx polls without blocking.
//
// Like receiving from a closed channel, ReadFrame keeps returning io.EOF
// (or ErrWriterDead) at once while no new writer is connected; to serve
// writer after writer, call [Reader.WaitWriter] after the end of each
// stream. A new writer's frames restart at sequence 1.
func (r *Reader) ReadFrame(ctx context.Context) (*Frame, error) {
	r.mu.Lock()
	if f, err, wait := r.tryReadLocked(false); !wait {
		r.handOutLocked(f)
		r.mu.Unlock()
		return f, r.afterClose(err)
	}
	r.mu.Unlock()
	f, err := r.readWait(ctx)
	return f, r.afterClose(err)
}

// readWait is ReadFrame once nothing was ready: it spins, sleeps and
// probes the writer until a frame or the end comes.
func (r *Reader) readWait(ctx context.Context) (*Frame, error) {
	// Built here, not returned by a helper, so that it stays on the stack:
	// a wait allocates nothing unless it sleeps with a cancellable ctx.
	stop := func() bool {
		return r.closing.Load() || ctx.Err() != nil || r.v.load(offWriterPID) == 0 && r.v.load(offWrittenCount) > 0
	}
	var unregister func() bool // a registration of this call only (see ctxWake)
	defer func() {
		if unregister != nil {
			unregister()
		}
	}()
	checkPeer := false // probe the writer's liveness only after a sleep
	for {
		r.mu.Lock()
		f, err, wait := r.tryReadLocked(checkPeer)
		if !wait {
			r.handOutLocked(f)
			r.mu.Unlock()
			return f, err
		}
		seen, trusted := r.written, r.trusted // committedLocked has just re-read them
		r.mu.Unlock()
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n, ok := r.await(ctx, &unregister, stop, seen, trusted, !checkPeer) // after an idle slice, sleep again at once
		if !ok {
			return nil, ErrClosed
		}
		checkPeer = n == 0
	}
}

// handOutLocked keeps the reader's OIEB fields exact at rest (docs/
// PROTOCOL.md section 17, rule b) as ReadFrame returns f: when f is the
// last pending frame (or the stream ended, f == nil), releases not yet
// published are published now, so that a writer waiting for that space
// gets it while the application holds f. With no release to publish,
// only the positions are stored; the next release's free_bytes add
// orders them, as in flushLocked.
func (r *Reader) handOutLocked(f *Frame) {
	if f != nil && r.trusted && r.count+2 <= r.written {
		return // more frames pending: not at rest (inlined fast path)
	}
	r.handOutSlowLocked(f)
}

// handOutSlowLocked is handOutLocked when the frame may be the last one.
func (r *Reader) handOutSlowLocked(f *Frame) {
	switch {
	case f == nil:
		r.flushLocked() // the stream ended: at rest
	case r.credit == 0 && r.posts == 0:
		if r.pos != r.pubPos || r.count != r.pubCount {
			if !r.committedLocked() {
				r.v.storeOrdered(offReadPos, r.pos)
				r.v.storeOrdered(offReadCount, r.count)
				r.pubPos, r.pubCount = r.pos, r.count
			}
		}
	case !r.committedLocked():
		r.flushLocked()
	}
}

// ReadBatch waits like [Reader.ReadFrame] for a frame, then calls fn for
// it and for every further frame already committed, up to limit frames
// (limit <= 0: no limit), releasing each one when fn returns. It takes the
// Reader's lock once per batch rather than twice per frame, which makes it
// the cheapest way to drain a stream of small frames.
//
// Cheapest for the reader is not always fastest for the pair: against a
// writer that publishes frame by frame, a reader this cheap catches up and
// then reads each frame just behind the writer, so the cache lines the two
// share (the count, the frame's own line) move between the cores once per
// frame and the writer slows down. A writer that batches too
// ([Writer.WriteFrames], [Writer.AppendFrame]) avoids that; BENCHMARKS.md
// has figures.
//
// data aliases shared memory and is valid only during the call. fn runs
// with the Reader locked: it must not call methods of r or of r's Frames
// (that deadlocks), and other goroutines' calls on r wait for it. When fn
// returns an error, ReadBatch stops and returns it; the frame fn was given
// counts as read, and the frames after it stay in the ring for the next
// call.
//
// n is the number of frames passed to fn. Apart from fn's own error, the
// errors are those of ReadFrame (io.EOF at the end of a stream, the ctx
// error, ErrCorrupt, and so on) and come with n == 0: a batch that meets
// the end of a stream or a corrupt frame returns the frames before it,
// and the next call reports the condition.
func (r *Reader) ReadBatch(ctx context.Context, limit int, fn func(data []byte, seq uint64) error) (n int, err error) {
	f, err := r.ReadFrame(ctx)
	if err != nil {
		return 0, err
	}
	r.mu.Lock()
	defer func() {
		if f != nil { // fn panicked: the frame counts as read
			f.released = true
			r.releaseLocked(f)
		}
		r.pendLocked()
		r.mu.Unlock()
	}()
	for {
		err = fn(f.data, f.seq)
		n++
		f.released = true
		r.held--
		f = nil
		r.creditLocked()
		if r.unmapped || r.destroyed {
			r.unmapLocked()
			return n, err
		}
		if r.credit >= r.threshold || r.semR.Waiters() > 0 {
			r.flushLocked() // a writer may be waiting for the space
		}
		if err != nil || n == limit {
			break
		}
		if r.order.len() == 0 { // no frame held elsewhere: no Frame needed
			var k int
			k, err = r.drainLocked(limit-n, fn)
			n += k
			break
		}
		if f = r.nextReadyLocked(); f == nil {
			break
		}
	}
	if r.atRestLocked() {
		r.flushLocked()
	}
	return n, err
}

// drainLocked is ReadBatch's loop when no frame is held: it passes each
// committed frame to fn and credits its space at once, without a Frame.
// limit <= 0 means no limit.
func (r *Reader) drainLocked(limit int, fn func(data []byte, seq uint64) error) (n int, err error) {
	var inFn uint64 // span of the frame fn is looking at
	defer func() {
		if inFn != 0 { // fn panicked: that frame counts as read
			r.credit += inFn
			r.posts++
		}
	}()
	for n != limit && r.readyLocked() {
		r.spendLocked()
		off, next, seq, ok := r.inPlaceLocked()
		sp := next - off + layout.HeaderSize
		if !ok {
			loc, perr := layout.NextFrame(r.v.ring, r.pos)
			if perr != nil || loc.Sequence != r.expected {
				if r.refuseLocked(loc, perr) != nil {
					return n, nil // sticky in r.err: the next call reports it
				}
			}
			r.passLocked(loc)
			off, next, seq, sp = loc.Offset, loc.Next, loc.Sequence, span(loc)
		}
		inFn = sp
		r.stats.frame(next - off)
		err = fn(r.v.ring[off:next:next], seq)
		inFn = 0
		n++
		r.credit += sp
		r.posts++
		if r.credit >= r.threshold || r.semR.Waiters() > 0 {
			r.flushLocked()
		}
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// readyLocked reports whether a committed frame is next.
func (r *Reader) readyLocked() bool {
	if r.closing.Load() || r.unmapped || r.err != nil {
		return false
	}
	return r.committedLocked()
}

// debtLimit bounds the token debt: past it the next flush settles it, so
// that sem-w stays far below its maximum (a C++ writer's post fails
// there) even when the reader never sleeps.
const debtLimit = 1 << 10

// spendLocked accounts for the token of one consumed item: a banked token,
// or a debt.
func (r *Reader) spendLocked() {
	if r.tokens > 0 {
		r.tokens--
	} else {
		r.debt++
	}
}

// bankLocked adds n tokens taken from sem-w; they repay the debt first.
func (r *Reader) bankLocked(n uint32) {
	k := uint64(n)
	pay := min(k, r.debt)
	r.debt -= pay
	r.tokens += k - pay
}

// settleLocked takes from sem-w the tokens of items already consumed, as
// many as are there (a writer posts just after it counts).
func (r *Reader) settleLocked() {
	if r.debt > 0 && !r.unmapped {
		r.bankLocked(r.semW.TryTake(uint32(min(r.debt, 1<<31))))
	}
}

// endSessionLocked settles the token debt of a writer that is gone and
// forgives what it cannot settle (a writer killed between counting a
// frame and posting it never posts); tokens left banked are strays.
func (r *Reader) endSessionLocked() {
	r.settleLocked()
	r.debt, r.tokens = 0, 0
	r.goPID, r.lastPID = 0, 0
}

// nextReadyLocked consumes the next frame if one is committed, without
// waiting and without any end-of-stream logic (which the next ReadFrame
// handles).
func (r *Reader) nextReadyLocked() *Frame {
	if !r.readyLocked() {
		return nil
	}
	r.spendLocked()
	f, err := r.consumeLocked()
	if err != nil {
		return nil // sticky in r.err: the next call reports it
	}
	return f
}

// await spins until something new may be ready (see spin), then sleeps
// on sem-w for up to one peer-check interval and banks the tokens it got.
// Under IdleBusySpin it never sleeps: it spins for one peer-check interval
// and returns n == 0 if nothing came, so that the caller probes the
// writer. It holds r.live shared so that Close cannot unmap the semaphore
// under it; ok is false once the Reader is closing.
func (r *Reader) await(ctx context.Context, unregister *func() bool, stop func() bool, seen uint64, trusted, spin bool) (n uint32, ok bool) {
	r.live.RLock()
	defer r.live.RUnlock()
	if r.closing.Load() {
		return 0, false
	}
	if r.opts.idle == IdleBusySpin {
		r.flush() // at rest while it waits: every release visible
		if r.spin(seen, trusted, r.opts.peerInterval, stop) {
			return 1, true
		}
		return 0, !r.closing.Load()
	}
	if spin && r.spin(seen, trusted, r.opts.spin, stop) {
		return 1, true // a frame is counted; tryReadLocked takes it
	}
	// At rest: every release visible, and the debt settled so that the
	// tokens left on sem-w stand for frames not yet read.
	r.mu.Lock()
	r.flushLocked()
	r.settleLocked()
	r.mu.Unlock()
	// An idle reader sleeps up to 4 peer-check intervals (200ms by
	// default) between liveness probes: a closing writer wakes it at once,
	// a dead one is still noticed within the 250ms budget.
	slice := r.opts.peerInterval
	if !spin {
		slice *= 4
	}
	if *unregister == nil {
		// Only a sleep needs cancellation to wake it (the spin polls
		// stop): register before the first sleep (see ctxWake).
		*unregister = r.ctxw.register(ctx)
	}
	n = r.semW.Wait(slice, ^uint32(0), stop)
	if n > 0 {
		failpointHit("reader.afterWaitBeforeConsume")
		r.mu.Lock()
		r.bankLocked(n)
		r.mu.Unlock()
	}
	return n, true
}

// tryReadLocked returns a frame, a final error, or wait=true when nothing
// is available yet. checkPeer asks for a liveness probe of the writer
// (a few system calls), which is due only after a sleep.
func (r *Reader) tryReadLocked(checkPeer bool) (f *Frame, err error, wait bool) {
	switch {
	case r.closing.Load() || r.unmapped:
		return nil, ErrClosed, false
	case r.err != nil:
		return nil, r.err, false
	}
	if r.committedLocked() {
		r.spendLocked()
		f, err := r.consumeLocked()
		return f, err, false
	}
	if r.err != nil {
		return nil, r.err, false
	}
	if r.tokens > 0 {
		// Tokens without a committed frame behind them (a stray post, or
		// a corrupt count): drop them rather than read stale bytes.
		r.log.Warn("zerobuffer: dropping sem-w tokens with no frame behind them", "name", r.name, "tokens", r.tokens)
		r.tokens = 0
		return nil, nil, true
	}
	return r.checkWriterLocked(checkPeer)
}

// committedLocked reports whether the next item (a frame, or a wrap
// marker and its frame) is complete and may be read. How that is known
// depends on the writer (docs/PROTOCOL.md section 17):
//
//   - A Go writer (layout.OffGoWriterPID equal to writer_pid) counts a
//     marker together with its frame, after the frame is complete, so
//     payload_written_count covering the item proves it. The count is
//     re-read only when the cached value runs out, about once per batch.
//   - Any other writer may count a marker before it writes the frame after
//     it, or count a marker it never writes (the Python writer at a
//     1..15-byte tail), so the count proves nothing; every reference writer
//     posts exactly one sem-w token per frame once the frame is complete,
//     so the frame is read only against a token in hand.
func (r *Reader) committedLocked() bool {
	if r.trusted && r.count+2 <= r.written {
		return true
	}
	r.written = r.v.load(offWrittenCount)
	r.trusted = r.goWriterLocked()
	if !r.trusted {
		return r.tokenReadyLocked()
	}
	if r.written > r.count && r.written-r.count > r.v.p/layout.HeaderSize {
		// More items than the ring can hold: a corrupt count, which would
		// otherwise send the reader round stale bytes without end.
		r.err = fmt.Errorf("zerobuffer: read %q: %w", r.name,
			&CorruptError{Field: "payload_written_count", Got: r.written, Limit: r.count + r.v.p/layout.HeaderSize})
		return false
	}
	return r.countedLocked()
}

// goWriterLocked reports whether payload_written_count, just read, was
// counted by a Go writer, which counts a wrap marker only together with
// its complete frame. writer_pid is read after the count: a foreign
// writer stores writer_pid before it counts anything, so a count read
// earlier is never taken for a Go writer's.
//
// A Go writer stores writer_pid = 0 only after its final count, so the
// count stays trusted after the Go writer last seen connected detaches:
// its last frames are read on the count, not against tokens, which may
// be short by the tokens of an earlier writer killed between counting a
// frame and posting it (that writer's frames were read on credit). The
// trust ends when another writer is seen or the stream ends. (A foreign
// writer that connected and detached entirely between two looks of the
// reader would be trusted too; every reference writer has finished its
// counted frames by then.)
//
// When writer_pid changes from one writer to another (the first one
// closed or died and the reader did not see its stream end), the first
// writer's token debt is settled with what sem-w holds and the rest
// forgiven: tokens a dead writer never posted must not be repaid with
// the next writer's.
func (r *Reader) goWriterLocked() bool {
	pid := r.v.load(offWriterPID)
	if pid == 0 {
		return r.goPID != 0
	}
	if pid != r.lastPID {
		if r.lastPID != 0 && r.debt > 0 {
			r.settleLocked()
			r.debt = 0
		}
		r.lastPID = pid
	}
	if r.v.load(offGoWriterPID) == pid {
		r.goPID = pid
		return true
	}
	r.goPID = 0
	return false
}

// countedLocked reports whether payload_written_count (r.written) covers
// the next item, for a Go writer: two counted items always cover it; one
// covers a frame but not a marker and its frame, which a Go writer counts
// together. A header that does not parse although counted is reported as
// committed, and consumeLocked turns it into a sticky ErrCorrupt.
func (r *Reader) countedLocked() bool {
	if r.count+2 <= r.written {
		return true
	}
	if r.count+1 > r.written {
		return false
	}
	loc, err := layout.NextFrame(r.v.ring, r.pos)
	return err != nil || loc.Markers == 0
}

// tokenReadyLocked reports whether a sem-w token is in hand for the next
// frame, taking every token the semaphore holds when none is (they repay
// the token debt first).
func (r *Reader) tokenReadyLocked() bool {
	if r.tokens == 0 && !r.unmapped {
		r.bankLocked(r.semW.TryTake(^uint32(0)))
	}
	return r.tokens > 0
}

// checkWriterLocked decides, with no token available, whether the stream
// has ended (writer closed or dead) or whether to keep waiting.
func (r *Reader) checkWriterLocked(checkPeer bool) (*Frame, error, bool) {
	pid := r.v.load(offWriterPID)
	s := &r.session
	if s.ended != nil {
		if pid == 0 || (errors.Is(s.ended, ErrWriterDead) && pid == s.endedPID) {
			// A new writer may have come and gone since: its frames
			// are counted.
			if r.committedLocked() || r.err != nil {
				return r.tryReadLocked(checkPeer)
			}
			r.endSessionLocked()
			return nil, s.ended, false
		}
		*s = session{} // a new writer connected
	}
	if pid != 0 {
		s.seen = true
		if !checkPeer || r.writerAlive(pid) {
			return nil, nil, true
		}
	} else if !s.seen && r.v.load(offWrittenCount) == 0 {
		return nil, nil, true // no writer yet
	}
	// The writer is gone. It counted its last frame before it cleared
	// writer_pid (or before it died), so look once more: a frame counted
	// since the first look is delivered, posted or not (a writer killed
	// between counting and posting never posts).
	if r.committedLocked() {
		r.spendLocked()
		f, err := r.consumeLocked()
		return f, err, false
	}
	if r.err != nil {
		return nil, r.err, false
	}
	r.endSessionLocked()
	s.endedPID = pid
	s.ended = io.EOF
	r.expected = 1 // the next writer starts a new sequence
	if pid != 0 {
		s.ended = ErrWriterDead
		r.log.Info("zerobuffer: writer died", "name", r.name, "pid", pid)
	}
	r.stats.ended(s.ended)
	return nil, s.ended, false
}

// consumeLocked reads the frame at r.pos and advances past it.
func (r *Reader) consumeLocked() (*Frame, error) {
	if off, next, seq, ok := r.inPlaceLocked(); ok {
		f := r.newFrameLocked()
		f.data = r.v.ring[off:next:next]
		f.seq = seq
		f.span = next - off + layout.HeaderSize
		r.order.push(f)
		r.stats.frame(next - off)
		return f, nil
	}
	loc, err := layout.NextFrame(r.v.ring, r.pos)
	if err != nil || loc.Sequence != r.expected {
		if err = r.refuseLocked(loc, err); err != nil {
			return nil, err
		}
	}
	r.passLocked(loc)
	f := r.newFrameLocked()
	f.data = r.v.ring[loc.Offset:loc.Next:loc.Next]
	f.seq = loc.Sequence
	f.span = span(loc)
	r.order.push(f)
	r.stats.frame(loc.Size)
	return f, nil
}

// inPlaceLocked is the common case of reading the next frame, done in
// place of NextFrame, refuseLocked and passLocked: the frame's header is
// at r.pos (no wrap), its size fits, it carries the expected sequence
// number and no ended session needs resetting. It then moves the read
// state past the frame and returns the payload's bounds. Otherwise it
// changes nothing and reports false.
func (r *Reader) inPlaceLocked() (off, next, seq uint64, ok bool) {
	size, seq, ok := layout.FrameAt(r.v.ring, r.pos)
	if !ok || seq != r.expected || r.session.ended != nil {
		return 0, 0, 0, false
	}
	off = r.pos + layout.HeaderSize
	next = off + size
	r.count++
	r.expected++
	r.pos = next
	if next == r.v.p {
		r.pos = 0
	}
	return off, next, seq, true
}

// span is what a frame gives back when released: its header and payload
// and the wrap waste before it, so that space always returns in ring
// order.
func span(loc layout.Located) uint64 { return loc.Skipped + layout.HeaderSize + loc.Size }

// refuseLocked is the cold path of reading a frame: a parse error, or a
// sequence number other than the expected one. It returns the sticky
// error, or nil for a new writer that restarted at 1.
func (r *Reader) refuseLocked(loc layout.Located, err error) error {
	if err != nil {
		r.err = fmt.Errorf("zerobuffer: read %q at ring offset %d: %w", r.name, r.pos, err)
		return r.err
	}
	if loc.Sequence != 1 {
		r.err = &SequenceError{Expected: r.expected, Got: loc.Sequence}
		return r.err
	}
	// A new writer restarts at 1 (docs/PROTOCOL.md W6: the reference reader cannot
	// follow a reconnecting writer; this one can).
	r.log.Debug("zerobuffer: writer restarted sequence", "name", r.name, "expected", r.expected)
	return nil
}

// passLocked moves the read state past an accepted frame.
func (r *Reader) passLocked(loc layout.Located) {
	r.count += loc.Markers + 1
	r.expected = loc.Sequence + 1
	if r.session.ended != nil { // frames of a new writer: its session has begun
		r.session = session{seen: true}
	}
	r.pos = loc.Next
	if r.pos == r.v.p {
		r.pos = 0
	}
}

// flushLocked publishes the reader's position and returns released space
// and sem-r tokens to the writer.
func (r *Reader) flushLocked() {
	if r.unmapped {
		return
	}
	moved := r.pos != r.pubPos || r.count != r.pubCount
	if moved {
		r.v.storeOrdered(offReadPos, r.pos) // ordered by the add below
		r.v.storeOrdered(offReadCount, r.count)
		r.pubPos, r.pubCount = r.pos, r.count
	}
	if r.credit > 0 || moved {
		r.stats.sample(r.v)
		r.v.add(offFree, r.credit) // an add of 0 still orders the stores
		r.credit = 0
	}
	if r.posts > 0 {
		failpointHit("reader.beforeReleasePost")
		r.semR.PostToOne(r.posts) // only the writer waits on sem-r
		r.posts = 0
	}
	if r.debt >= debtLimit {
		r.settleLocked()
	}
}

// releaseLocked accounts for a released frame and flushes when the
// writer could be waiting for the space. Space is credited in read order:
// a frame released early waits for the frames before it, so the writer can
// never reuse the bytes of a frame that is still held (docs/PROTOCOL.md W11).
func (r *Reader) releaseLocked(f *Frame) {
	r.held--
	if r.unmapped || r.destroyed {
		r.unmapLocked()
		return
	}
	r.creditLocked()
	if r.credit >= r.threshold || r.semR.Waiters() > 0 || r.atRestLocked() {
		r.flushLocked()
	}
	r.pendLocked()
}

// pendLocked arms the late flush (see lateFlush) when released space is
// left unpublished. Once armed it stays armed until it runs, so a busy
// reader resets the timer at most once per lateFlush.
func (r *Reader) pendLocked() {
	if r.credit == 0 && r.posts == 0 || r.lateArmed {
		return // inlined: the common cases
	}
	r.armLateLocked()
}

// armLateLocked is pendLocked's slow path.
func (r *Reader) armLateLocked() {
	if r.unmapped || r.closing.Load() {
		return
	}
	r.lateArmed = true
	d := r.lateAfter
	if d == 0 {
		d = lateFlush
	}
	if r.late == nil {
		r.late = time.AfterFunc(d, r.flushLate)
		return
	}
	r.late.Reset(d)
}

// flushLate is the late flush: it publishes what releases left
// unpublished, unless the Reader is gone.
func (r *Reader) flushLate() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lateArmed = false
	if !r.closing.Load() {
		r.flushLocked() // does nothing once unmapped
	}
}

// creditLocked turns released frames at the head of the read order into
// credit for the writer.
func (r *Reader) creditLocked() {
	for r.order.len() > 0 && r.order.peek().released {
		g := r.order.pop()
		r.credit += g.span
		r.posts++
		g.data = nil
		r.pool = append(r.pool, g)
	}
}

// atRestLocked reports whether no committed frame is pending.
func (r *Reader) atRestLocked() bool { return !r.committedLocked() }

// spin busy-waits for up to d for something new that may be ready: for
// a Go writer (trusted), payload_written_count grown past seen, the value
// that showed nothing to read; for any other writer, a token on sem-w,
// since only a token proves its frame complete. (Not merely a count that
// differs from read_count: a count that covers a wrap marker but not yet
// its frame, or a corrupt one below read_count, would then make every spin
// return at once, and a reader whose writer died just there would never
// sleep, so never probe it.) It gives up early when stop reports true
// (Close, ctx, a writer that closed).
// Polls are spaced out, from the first one on (32 pause iterations, then
// doubling up to 256: a quarter of a microsecond): every poll pulls the
// count's cache line back from the writer, whose store to it then waits.
// Polling at full speed made the writer's publication, and with it the
// back-to-back round trip, about twice as slow on a VM whose cache-line
// transfer takes 200+ ns; spaced out, the writer also publishes several
// frames between two polls and the reader takes them in one go.
func (r *Reader) spin(seen uint64, trusted bool, d time.Duration, stop func() bool) bool {
	if d <= 0 {
		return false
	}
	deadline := time.Now().Add(d)
	for round, gap := 0, 32; ; round, gap = round+1, min(2*gap, 256) {
		for range 8 {
			if trusted && r.v.load(offWrittenCount) > seen || !trusted && r.semW.Value() > 0 {
				return true
			}
			pause(gap)
		}
		if r.closing.Load() || time.Now().After(deadline) || round%8 == 7 && stop() {
			return false
		}
		if r.semR.Waiters() > 0 {
			r.flush() // a writer waits for space: give it what was released
		}
		if round%4 == 3 {
			platform.Yield() // a peer sharing this core gets to run
		}
	}
}

// flush publishes the reader's state (see flushLocked).
func (r *Reader) flush() {
	r.mu.Lock()
	r.flushLocked()
	r.mu.Unlock()
}

// pauseWord is private to this process; pause only spends time.
var pauseWord atomic.Uint32

// pause burns roughly n cycles without touching shared memory.
func pause(n int) {
	for range n {
		pauseWord.Load()
	}
}

// interruptSleepers wakes the goroutines sleeping in ReadFrame (the
// callback of r.ctxw: it may run after Close).
func (r *Reader) interruptSleepers() {
	r.mu.Lock()
	if !r.unmapped {
		r.semW.Interrupt()
	}
	r.mu.Unlock()
}

// WaitWriter blocks until a writer is connected: immediately if one is,
// otherwise until a new one connects after the previous one ended.
func (r *Reader) WaitWriter(ctx context.Context) (err error) {
	defer func() { err = r.afterClose(err) }() // runs after r.live is released
	r.live.RLock()
	defer r.live.RUnlock()
	t := time.NewTicker(r.opts.peerInterval / 4)
	defer t.Stop()
	for {
		r.mu.Lock()
		closed := r.closing.Load() || r.unmapped
		pid := uint64(0)
		if !closed {
			pid = r.v.load(offWriterPID)
		}
		s := r.session
		r.mu.Unlock()
		if closed {
			return ErrClosed
		}
		ended := s.ended != nil && (pid == 0 || (errors.Is(s.ended, ErrWriterDead) && pid == s.endedPID))
		if pid != 0 && !ended && r.writerAlive(pid) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
