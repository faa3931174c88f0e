package core

// Fan-in: many writer processes into one reader, built from v1 rings.
//
// Design (no central server process):
//
//   - Each writer gets a ring of its own, a lane. Lane 0 is the plain
//     buffer NAME, so a single C++, C# or Python writer connects to a
//     fan-in reader exactly as to a plain one. Lane k > 0 is the buffer
//     "NAME.lK" (see [LaneName]). Every lane is an ordinary v1 buffer
//     (docs/PROTOCOL.md), owned by the [FanIn]'s Reader for it.
//   - The control block "NAME.fanin" (shared memory, 4 KiB) holds the
//     receiver's PID, the number of lanes created, a claim counter, the
//     receiver's "sleeping" word and one "ringer" word per lane. The
//     semaphores of that name are the doorbell (sem-w name) and the claim
//     bell (sem-r name); its lock file is held by the reader while it
//     lives, so cleaners that look for unheld locks leave it alone and
//     remove it after a crash.
//   - A writer claims a lane by taking its writer slot, the Go writer lock
//     of core.NewWriter: ErrWriterExists means taken, try the next lane.
//     The lock is an OS file lock, so a writer that dies frees its lane at
//     once (the kernel drops the lock); the next claimant adopts the ring
//     state as any reconnecting writer does and restarts at sequence 1.
//     A writer that closes frees its lane the same way.
//   - The reader keeps at least one lane besides lane 0 free (a spare; lane
//     0 may be waiting for a foreign writer): it creates two lanes at start
//     and, in a goroutine woken by every claim, a new one whenever a claim
//     leaves none free, up to [FanInConfig.MaxLanes]. Lanes are never
//     removed before Close, so lane indexes stay dense; a lane is only
//     recreated in place (a failed ring, or [FanInConfig.ResetOnLeave]).
//   - The reader waits at one place: it polls the lanes round robin, at
//     most [FanInConfig.Budget] frames from one lane before it moves on,
//     and when a whole round found nothing it polls on for the spin budget
//     (core.WithSpin), then stores sleeping=1, polls
//     once more (a writer publishes before it looks at the word, the reader
//     stores the word before it looks at the rings: one of them sees the
//     other) and sleeps on the doorbell. A Go writer that publishes and
//     finds sleeping=1 swaps it to 0 and posts the doorbell once. A lane
//     whose connected writer is not a ringer (a foreign writer on lane 0)
//     makes the reader sleep in 1ms slices instead.
//   - Liveness: the reader probes the writers of all lanes every 50ms
//     while it receives and after every sleep (at most 200ms), so a dead
//     writer is noticed within 250ms; its committed frames are delivered
//     first, in order.
//
// Everything in the control block is written by several processes and is
// untrusted: lane counts are clamped, the other words are only compared.
// A writer accepts a lane only when the lane's reader_pid is the PID the
// control block names, so a look-alike buffer another user created under
// a lane name is skipped.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zerobuffer/zerobuffer-go/platform"
)

// MaxLanes is the largest number of lanes a fan-in buffer can have.
const MaxLanes = 64

// laneCtlSuffix names the control block and doorbell of a fan-in buffer.
const laneCtlSuffix = ".fanin"

// Fan-in timing. probeEvery bounds how late a busy reader notices a dead
// writer; idleSlice is the longest sleep between probes of an idle one
// (together below the 250ms budget); foreignSlice is the sleep slice while
// a writer that does not ring the doorbell is connected.
const (
	probeEvery   = 50 * time.Millisecond
	idleSlice    = 200 * time.Millisecond
	foreignSlice = time.Millisecond
	spareSlice   = 2 * time.Second // the spare keeper's safety net; claims wake it at once
)

// LaneName returns the buffer name of lane k of the fan-in buffer name:
// name itself for lane 0, "name.lK" for the others.
func LaneName(name string, k int) string {
	if k == 0 {
		return name
	}
	return name + ".l" + strconv.Itoa(k)
}

// FanInConfig configures a [FanIn]. The zero value takes the defaults.
type FanInConfig struct {
	// MaxLanes bounds the number of lanes, i.e. of writers connected at
	// once. Default 16, at most [MaxLanes].
	MaxLanes int
	// Budget is how many frames the reader takes from one lane before it
	// looks at the next one, so that a writer sending flat out cannot
	// starve the others. Default 64.
	Budget int
	// Linger, when positive, makes [FanIn.ReadFrame] return io.EOF once at
	// least one writer had connected, every writer has gone (closed or
	// died), every frame was read and no writer connected for Linger.
	// Zero (the default) never ends the stream: ReadFrame waits for new
	// writers until Close or its ctx ends.
	Linger time.Duration
	// ResetOnLeave recreates a lane (empty ring, empty metadata) once its
	// writer has closed or died and every frame it committed was read, so
	// that each writer of a lane finds fresh metadata. The duplex
	// multi-client server uses it: a lane's metadata names the response
	// buffer of the one client that wrote it. A writer that claims the
	// lane before the reset finds the old metadata and must give the lane
	// up. Default false: lanes are reused as they are.
	ResetOnLeave bool
}

// FanIn is the reader of a fan-in buffer: it owns one [Reader] per lane
// and delivers the frames of every connected writer. Frames of one writer
// come in that writer's order; across writers, in arrival order, with a
// per-lane budget for fairness.
//
// A FanIn is safe for concurrent use; ReadFrame calls are serialised.
type FanIn struct {
	ctxw *ctxWake // wakes a sleeping read when its ctx ends
	name string
	cfg  BufferConfig
	fc   FanInConfig
	opts []Option
	log  *slog.Logger
	ctl  *laneCtl
	bell *platform.Semaphore
	cn   platform.Names // names of the control block and doorbell
	lock *platform.Lock // NAME.fanin's lock file: held while the FanIn lives, so that cleaners see it live
	done context.Context
	pid  uint64
	spin time.Duration

	closing atomic.Bool
	bellMu  sync.Mutex // orders ctx wake-ups against Close unmapping the doorbell
	bellOff bool       // under bellMu: doorbell closed

	lanes     atomic.Pointer[[]*fanLane] // grows only, replaced under addMu
	addMu     sync.Mutex
	claimBell *platform.Semaphore // posted by every claim; the spare keeper waits on it
	wg        sync.WaitGroup      // the spare keeper

	mu        sync.Mutex // held by ReadFrame for its whole call and by Close
	cur, used int
	nextProbe time.Time // when the writers are probed next
	calls     uint32
	seen      bool      // a writer has connected at some point
	goneSince time.Time // when the last connected writer went (zero while one is connected)

	statMu sync.Mutex // guards fanLane.r for other goroutines than ReadFrame's, and the statistics
}

// fanLane is one lane as the reader sees it.
type fanLane struct {
	r         *Reader // nil: the name is held by someone else (skipped); replaced only under mu and statMu
	name      string
	pid       uint64        // writer PID at the last probe (0: none)
	connected bool          // a live writer at the last probe
	dead      bool          // its writer was seen dead and the lane not yet reset (ResetOnLeave)
	retry     bool          // r is nil because recreating failed: probe tries again
	frames    atomic.Uint64 // frames delivered
	deaths    uint64        // under FanIn.statMu: writers seen dead on this lane
	resets    atomic.Uint64 // times the lane was recreated
}

// LaneInfo describes one lane of a [FanIn], for diagnostics.
type LaneInfo struct {
	Index     int
	Name      string // buffer name of the lane
	WriterPID uint64 // PID of the writer at the last probe, 0 if none
	Connected bool   // a live writer was connected at the last probe
	Frames    uint64 // frames delivered from this lane
	Deaths    uint64 // writers of this lane seen dead
	Resets    uint64 // times the lane was recreated (ResetOnLeave, failures)
	Skipped   bool   // the lane's name was held by another reader
}

// NewFanIn creates the fan-in buffer name: lane 0 (the plain buffer name,
// sized by cfg), a spare lane, the control block and the doorbell. Later
// lanes get the same cfg. It fails with [ErrReaderExists] while another
// reader owns name, with [ErrInvalidName] when the lane names would be too
// long. opts are passed to every lane's [NewReader].
func NewFanIn(name string, cfg BufferConfig, fc FanInConfig, opts ...Option) (*FanIn, error) {
	o, err := buildOptions(opts)
	if err != nil {
		return nil, err
	}
	switch {
	case fc.MaxLanes == 0:
		fc.MaxLanes = 16
	case fc.MaxLanes < 1 || fc.MaxLanes > MaxLanes:
		return nil, fmt.Errorf("zerobuffer: fan-in: MaxLanes %d out of range [1, %d]", fc.MaxLanes, MaxLanes)
	}
	if fc.Budget <= 0 {
		fc.Budget = 64
	}
	if fc.Linger < 0 {
		return nil, fmt.Errorf("zerobuffer: fan-in: negative Linger %v", fc.Linger)
	}
	if _, err := platform.ObjectNames(LaneName(name, fc.MaxLanes-1), o.dirs); err != nil {
		return nil, err
	}
	cn, err := platform.ObjectNames(name+laneCtlSuffix, o.dirs)
	if err != nil {
		return nil, err
	}
	done, cancel := context.WithCancel(context.Background())
	cancel()
	s := &FanIn{name: name, cfg: cfg, fc: fc, opts: opts, log: o.logger, cn: cn, done: done, pid: platform.Getpid(), spin: o.spin}
	s.ctxw = newCtxWake(s, (*FanIn).interrupt)
	r0, err := NewReader(name, cfg, opts...) // holds NAME's lock: the derived names are ours
	if err != nil {
		return nil, err
	}
	s.lanes.Store(&[]*fanLane{{r: r0, name: name}})
	if err := s.createCtl(o); err != nil {
		return nil, errors.Join(err, s.destroy())
	}
	s.addLane()
	s.ctl.store(ctlMagic, ctlMagicWord)
	s.wg.Add(1)
	go s.keepSpare()
	return s, nil
}

// snapshot returns the current lanes. Lanes are only ever appended, so an
// index valid in one snapshot is valid in every later one.
func (s *FanIn) snapshot() []*fanLane { return *s.lanes.Load() }

// keepSpare runs while the FanIn is open: whenever a claim leaves no lane
// free it creates one, so that the next writer finds a lane at once also
// while nobody calls ReadFrame. It wakes on every claim and every 2s.
func (s *FanIn) keepSpare() {
	defer s.wg.Done()
	for !s.closing.Load() {
		if !s.hasSpare() {
			s.addLane()
			continue
		}
		s.claimBell.Wait(spareSlice, ^uint32(0), s.closing.Load)
	}
}

// createCtl replaces whatever a dead reader of this name left with a new
// control block and doorbell.
func (s *FanIn) createCtl(o options) error {
	lock, err := platform.AcquireLock(s.cn.Lock, o.mode)
	if err != nil {
		return fmt.Errorf("zerobuffer: fan-in %q: lock control block: %w", s.name, err)
	}
	s.lock = lock
	_ = lock.SetContent([]byte(strconv.FormatUint(s.pid, 10) + "\n"))
	for _, p := range []string{s.cn.Shm, s.cn.SemW, s.cn.SemR} {
		if err := platform.Remove(p); err != nil {
			return fmt.Errorf("zerobuffer: fan-in %q: remove stale %s: %w", s.name, p, err)
		}
	}
	seg, err := platform.CreateSegment(s.cn.Shm, ctlSize, o.mode)
	if err != nil {
		return fmt.Errorf("zerobuffer: fan-in %q: create control block: %w", s.name, err)
	}
	if s.ctl, err = newLaneCtl(seg); err != nil {
		seg.Close()
		return err
	}
	if s.bell, err = platform.CreateSemaphore(s.cn.SemW, o.mode); err != nil {
		return fmt.Errorf("zerobuffer: fan-in %q: create doorbell: %w", s.name, err)
	}
	if s.claimBell, err = platform.CreateSemaphore(s.cn.SemR, o.mode); err != nil {
		return fmt.Errorf("zerobuffer: fan-in %q: create claim bell: %w", s.name, err)
	}
	s.ctl.store(ctlPID, s.pid)
	s.ctl.store(ctlLanes, 1)
	return nil
}

// addLane creates the next lane. A name held by another live reader is
// recorded as skipped: writers check reader_pid and skip it too.
func (s *FanIn) addLane() {
	s.addMu.Lock()
	defer s.addMu.Unlock()
	old := s.snapshot()
	k := len(old)
	if k >= s.fc.MaxLanes || s.closing.Load() {
		return
	}
	ln := &fanLane{name: LaneName(s.name, k)}
	r, err := s.newLaneReader(ln.name)
	if err != nil {
		s.log.Warn("zerobuffer: fan-in: lane not created", "lane", ln.name, "err", err)
	} else {
		ln.r = r
	}
	lanes := append(old[:k:k], ln)
	s.lanes.Store(&lanes)
	s.ctl.store(ctlLanes, uint64(len(lanes)))
}

// Name returns the fan-in buffer's name (that of lane 0).
func (s *FanIn) Name() string { return s.name }

// ReadFrame returns the next frame of any lane and the lane's index. The
// frame belongs to that lane's Reader: release it as any [Frame].
//
// It blocks until a frame arrives, ctx ends (the ctx error), the FanIn is
// closed ([ErrClosed]) or, with [FanInConfig.Linger], the stream ended
// (io.EOF; a later call continues if a new writer connects). A writer
// that closes or dies ends only its own lane: its committed frames are
// delivered and the others are not disturbed. Errors of one lane (a
// corrupt ring, a sequence error) are logged and that lane is recreated;
// its writer then fails with [ErrReaderDead].
func (s *FanIn) ReadFrame(ctx context.Context) (*Frame, int, error) {
	// The fast path, a frame ready at once, has no defer. With readWait's
	// two defers and many returns in it, neither defer could be open-coded
	// (the compiler's limit is returns x defers <= 15), and the runtime's
	// deferred calls cost a tenth of a frame's time.
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		return nil, -1, ErrClosed
	}
	s.calls++
	if s.calls%64 == 0 {
		s.maintain(false)
	}
	if f, k := s.poll(); f != nil {
		s.mu.Unlock()
		return f, k, nil
	}
	defer s.mu.Unlock()
	return s.readWait(ctx)
}

// readWait is ReadFrame once no lane had a frame ready, with s.mu held.
func (s *FanIn) readWait(ctx context.Context) (*Frame, int, error) {
	var f *Frame
	var k int
	if err := s.wait(ctx, func() bool { f, k = s.poll(); return f != nil }); err != nil {
		return nil, -1, err
	}
	return f, k, nil
}

// ReadBatch waits like [FanIn.ReadFrame] for a frame of any lane, then
// calls fn for it and for every further frame already committed in the
// same lane, up to limit frames (limit <= 0: no limit) and what is left of
// the lane's turn ([FanInConfig.Budget]), in one pass of that lane's
// [Reader.ReadBatch]: each frame is released when fn returns. n is the
// number of frames passed to fn and lane their lane; the next call goes on
// round robin as ReadFrame does.
//
// data aliases shared memory and is valid only during the call. fn runs
// with the FanIn and the lane's Reader locked: it must not call methods
// of s (LaneMetadata, ResetLane, ...) or of the lane's Reader, which
// deadlocks. When fn returns an error, ReadBatch stops and returns it with
// the frame counted; the lane's later frames stay for the next call. The
// other errors are ReadFrame's, with n == 0.
func (s *FanIn) ReadBatch(ctx context.Context, limit int, fn func(data []byte, lane int, seq uint64) error) (n, lane int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing.Load() {
		return 0, -1, ErrClosed
	}
	s.calls++
	if s.calls%64 == 0 {
		s.maintain(false)
	}
	var ferr error
	if n, lane, ferr = s.pollBatch(limit, fn); n > 0 {
		return n, lane, ferr
	}
	if err := s.wait(ctx, func() bool { n, lane, ferr = s.pollBatch(limit, fn); return n > 0 }); err != nil {
		return 0, -1, err
	}
	return n, lane, ferr
}

// wait polls with try, spins and sleeps on the doorbell until try takes
// something (nil) or the end: ErrClosed, the ctx error, or io.EOF (see
// FanInConfig.Linger). s.mu is held.
func (s *FanIn) wait(ctx context.Context, try func() bool) error {
	var unregister func() bool
	defer func() {
		if unregister != nil {
			unregister()
		}
	}()
	spun := false
	for {
		s.maintain(false)
		if try() {
			return nil
		}
		if !spun { // back-to-back traffic: poll a little longer before sleeping
			spun = true
			if s.spinPoll(try) {
				return nil
			}
		}
		if s.closing.Load() {
			return ErrClosed
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if s.ended() {
			return io.EOF
		}
		if unregister == nil {
			unregister = s.ctxw.register(ctx) // before the first sleep (see ctxWake)
		}
		s.ctl.store(ctlSleeping, 1)
		if try() {
			s.ctl.store(ctlSleeping, 0)
			return nil
		}
		s.bell.Wait(s.slice(), ^uint32(0), func() bool { return s.closing.Load() || ctx.Err() != nil })
		s.ctl.store(ctlSleeping, 0)
	}
}

// spinPoll polls the lanes with try for up to the spin budget
// (core.WithSpin), yielding the CPU between rounds so that a sender
// sharing the core runs.
func (s *FanIn) spinPoll(try func() bool) bool {
	if s.spin <= 0 {
		return false
	}
	deadline := time.Now().Add(s.spin)
	for time.Now().Before(deadline) && !s.closing.Load() {
		platform.Yield()
		if try() {
			return true
		}
	}
	return false
}

// interrupt wakes a ReadFrame sleeping on the doorbell.
func (s *FanIn) interrupt() {
	s.bellMu.Lock()
	defer s.bellMu.Unlock()
	if !s.bellOff {
		s.bell.Interrupt()
	}
}

// poll takes a committed frame from the lanes, round robin from the
// current lane with at most Budget frames per lane in a row.
func (s *FanIn) poll() (*Frame, int) {
	lanes := s.snapshot()
	n := len(lanes)
	for range n + 1 {
		ln := lanes[s.cur]
		if ln.r != nil && s.used < s.fc.Budget {
			f, err := ln.r.ReadFrame(s.done)
			if f != nil {
				s.used++
				s.seen = true
				ln.frames.Add(1)
				return f, s.cur
			}
			s.laneFailed(ln, err)
		}
		s.cur++
		if s.cur == n {
			s.cur = 0
		}
		s.used = 0
	}
	return nil, -1
}

// pollBatch is poll for ReadBatch: it passes the committed frames of the
// first lane that has any, up to limit and the rest of its turn, to fn.
func (s *FanIn) pollBatch(limit int, fn func(data []byte, lane int, seq uint64) error) (n, lane int, err error) {
	lanes := s.snapshot()
	count := len(lanes)
	for range count + 1 {
		ln, k := lanes[s.cur], s.cur
		if ln.r != nil && s.used < s.fc.Budget {
			turn := s.fc.Budget - s.used
			if limit > 0 {
				turn = min(turn, limit)
			}
			got, err := ln.r.ReadBatch(s.done, turn, func(data []byte, seq uint64) error { return fn(data, k, seq) })
			if got > 0 {
				s.used += got
				s.seen = true
				ln.frames.Add(uint64(got))
				return got, k, err
			}
			s.laneFailed(ln, err)
		}
		s.cur++
		if s.cur == count {
			s.cur = 0
		}
		s.used = 0
	}
	return 0, -1, nil
}

// laneFailed handles what the current lane's Reader said when it had no
// frame to give: the end of its writer's stream, nothing committed, or a
// failure, which recreates the lane.
func (s *FanIn) laneFailed(ln *fanLane, err error) {
	switch {
	case err == nil:
	case err == io.EOF || errors.Is(err, ErrWriterDead):
		if s.fc.ResetOnLeave {
			s.resetLane(s.cur, nil)
		}
	case errors.Is(err, context.Canceled): // nothing committed
		if ln.dead && !ln.r.WriterConnected() {
			s.resetLane(s.cur, nil)
		}
	default:
		s.resetLane(s.cur, err)
	}
}

// resetLane replaces a lane whose Reader failed for good.
func (s *FanIn) resetLane(k int, cause error) {
	ln := s.snapshot()[k]
	if cause != nil {
		s.log.Warn("zerobuffer: fan-in: lane failed, recreating it", "lane", ln.name, "err", cause)
	}
	_ = ln.r.Close()
	s.statMu.Lock()
	ln.r, ln.pid, ln.connected, ln.dead = nil, 0, false, false
	ln.resets.Add(1)
	s.statMu.Unlock()
	if err := s.recreate(ln); err != nil {
		s.log.Warn("zerobuffer: fan-in: lane not recreated yet, will retry", "lane", ln.name, "err", err)
	}
}

// newLaneReader creates the Reader of a lane. It never waits for an old
// holder of the name (Windows): the caller skips or retries the lane.
func (s *FanIn) newLaneReader(name string) (*Reader, error) {
	return NewReader(name, s.cfg, append(s.opts[:len(s.opts):len(s.opts)], withoutHeldWait())...)
}

// recreate makes the Reader of a lane that has none after a reset. On
// failure the lane stays without one and every probe tries again: on
// Windows a section lives while any process holds it, so a writer that
// opened the old lane just before the reset keeps the name taken
// (fs.ErrExist) until it sees the reader gone and lets go.
func (s *FanIn) recreate(ln *fanLane) error {
	r, err := s.newLaneReader(ln.name)
	s.statMu.Lock()
	ln.r, ln.retry = r, err != nil
	s.statMu.Unlock()
	return err
}

// maintain probes the writers when due, or always with force.
func (s *FanIn) maintain(force bool) {
	if now := time.Now(); force || !now.Before(s.nextProbe) {
		s.probe(now)
	}
}

// hasSpare reports whether some lane other than 0 has no live writer, or
// no lane can be added.
func (s *FanIn) hasSpare() bool {
	lanes := s.snapshot()
	if len(lanes) >= s.fc.MaxLanes {
		return true
	}
	for k := len(lanes) - 1; k > 0; k-- { // the spare is usually last; lane 0 is left to whoever dials the plain name
		s.statMu.Lock()
		r := lanes[k].r
		s.statMu.Unlock()
		if r != nil && (r.WriterPID() == 0 || !r.WriterConnected()) {
			return true
		}
	}
	return false
}

// probe checks every lane's writer and notes connections and deaths.
func (s *FanIn) probe(now time.Time) {
	s.nextProbe = now.Add(probeEvery)
	live := false
	for _, ln := range s.snapshot() {
		if ln.r == nil && ln.retry {
			if err := s.recreate(ln); err == nil {
				s.log.Info("zerobuffer: fan-in: lane recreated", "lane", ln.name)
			}
		}
		if ln.r == nil {
			continue
		}
		pid := ln.r.WriterPID()
		alive := pid != 0 && ln.r.WriterConnected()
		// A writer seen dead for the first time: it was connected at the
		// last probe, or it came and died between two probes.
		if !alive && pid != 0 && (ln.connected || pid != ln.pid) {
			s.log.Info("zerobuffer: fan-in: writer died", "lane", ln.name, "pid", pid)
			s.statMu.Lock()
			ln.deaths++
			s.statMu.Unlock()
			ln.dead = s.fc.ResetOnLeave
		}
		s.statMu.Lock()
		ln.pid, ln.connected = pid, alive
		s.statMu.Unlock()
		live = live || alive
	}
	switch {
	case live:
		s.seen, s.goneSince = true, time.Time{}
	case s.seen && s.goneSince.IsZero():
		s.goneSince = now
	}
}

// ended reports whether the stream ended under Linger.
func (s *FanIn) ended() bool {
	return s.fc.Linger > 0 && s.seen && !s.goneSince.IsZero() && time.Since(s.goneSince) >= s.fc.Linger
}

// slice is how long the reader may sleep on the doorbell.
func (s *FanIn) slice() time.Duration {
	d := idleSlice
	for k, ln := range s.snapshot() {
		if ln.connected && s.ctl.load(ringer(k)) != ln.pid {
			d = foreignSlice // this writer does not ring
		}
	}
	if s.fc.Linger > 0 && s.seen && !s.goneSince.IsZero() {
		d = min(d, max(s.fc.Linger-time.Since(s.goneSince), time.Millisecond))
	}
	return d
}

// ResetLane closes lane k's Reader and creates it anew, with empty
// metadata: its writer fails with [ErrReaderDead] and the lane is free
// again. Typed receivers use it for a lane whose writer declared another
// codec (metadata is write-once per buffer, so the lane would refuse every
// later writer).
func (s *FanIn) ResetLane(k int, cause error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing.Load() {
		return ErrClosed
	}
	if lanes := s.snapshot(); k < 0 || k >= len(lanes) || lanes[k].r == nil {
		return fmt.Errorf("zerobuffer: fan-in %q: no lane %d", s.name, k)
	}
	s.resetLane(k, cause)
	return nil
}

// LaneMetadata returns the metadata the writer of lane k published (see
// [Reader.Metadata]).
func (s *FanIn) LaneMetadata(k int) ([]byte, error) {
	var r *Reader
	if lanes := s.snapshot(); k >= 0 && k < len(lanes) {
		s.statMu.Lock()
		r = lanes[k].r
		s.statMu.Unlock()
	}
	if r == nil {
		return nil, fmt.Errorf("zerobuffer: fan-in %q: no lane %d", s.name, k)
	}
	return r.Metadata()
}

// LaneResets returns how many times lane k was recreated (0 for an
// unknown lane). Its metadata may differ after each reset.
func (s *FanIn) LaneResets(k int) uint64 {
	if lanes := s.snapshot(); k >= 0 && k < len(lanes) {
		return lanes[k].resets.Load()
	}
	return 0
}

// LaneWriter probes lane k's writer now: its PID (0 if none) and whether
// it is alive.
func (s *FanIn) LaneWriter(k int) (pid uint64, alive bool) {
	var r *Reader
	if lanes := s.snapshot(); k >= 0 && k < len(lanes) {
		s.statMu.Lock()
		r = lanes[k].r
		s.statMu.Unlock()
	}
	if r == nil {
		return 0, false
	}
	pid = r.WriterPID()
	return pid, pid != 0 && r.WriterConnected()
}

// Lanes describes the lanes, as of the last probe.
func (s *FanIn) Lanes() []LaneInfo {
	lanes := s.snapshot()
	s.statMu.Lock()
	defer s.statMu.Unlock()
	out := make([]LaneInfo, len(lanes))
	for k, ln := range lanes {
		out[k] = LaneInfo{Index: k, Name: ln.name, WriterPID: ln.pid, Connected: ln.connected,
			Frames: ln.frames.Load(), Deaths: ln.deaths, Resets: ln.resets.Load(), Skipped: ln.r == nil}
	}
	return out
}

// Close closes every lane's Reader (removing the lanes) and the control
// block and doorbell. Writers see [ErrReaderDead]; a blocked ReadFrame
// returns [ErrClosed]. Frames still held stay readable until released.
// Close is idempotent.
func (s *FanIn) Close() error {
	if s.closing.Swap(true) {
		return nil
	}
	s.ctxw.release()
	for !s.mu.TryLock() {
		s.interrupt()
		time.Sleep(100 * time.Microsecond)
	}
	defer s.mu.Unlock()
	s.claimBell.Interrupt()
	s.wg.Wait()
	return s.destroy()
}

// destroy closes the lanes, then removes the control block and doorbell.
func (s *FanIn) destroy() error {
	var errs []error
	for _, ln := range s.snapshot() {
		if ln.r != nil {
			errs = append(errs, ln.r.Close())
		}
	}
	if s.ctl != nil {
		s.ctl.store(ctlMagic, 0)
		s.ctl.store(ctlPID, 0)
		s.ctl.seg.Close()
	}
	for _, p := range []string{s.cn.Shm, s.cn.SemW, s.cn.SemR} {
		if err := platform.Remove(p); err != nil {
			errs = append(errs, err)
		}
	}
	s.bellMu.Lock()
	s.bellOff = true
	if s.bell != nil {
		s.bell.Interrupt()
		s.bell.Close()
	}
	if s.claimBell != nil {
		s.claimBell.Close()
	}
	if s.lock != nil {
		if err := s.lock.Release(true); err != nil {
			errs = append(errs, err)
		}
	}
	s.bellMu.Unlock()
	return errors.Join(errs...)
}

// Lane is a writer's claim on one lane of a fan-in buffer: a [Writer] of
// its own plus the doorbell. Write through [Lane.Writer] and call
// [Lane.Ring] after each publication; [Lane.Close] frees the lane.
//
// A Lane is safe for concurrent use.
type Lane struct {
	w     *Writer
	index int
	ctl   *laneCtl            // nil for a plain (not fan-in) buffer
	bell  *platform.Semaphore // nil for a plain buffer
	mu    sync.RWMutex        // Ring holds it shared, Close exclusively
	off   bool                // under mu: closed
}

// claimPoll bounds the wait between two claim rounds while no lane is free.
const claimPoll = time.Millisecond

// ClaimLane connects a writer to the fan-in buffer name: it takes the
// first free lane. If name is a plain buffer (no fan-in control block), it
// connects to it as [NewWriter] does and the Lane has index 0 and no
// doorbell. While the buffer does not exist yet, is being created or has
// no free lane, ClaimLane retries until ctx ends; it then returns the ctx
// error joined with the last connection error. Other errors of NewWriter
// are returned at once. opts are passed to NewWriter.
func ClaimLane(ctx context.Context, name string, opts ...Option) (*Lane, error) {
	return ClaimLaneFrom(ctx, name, 0, opts...)
}

// ClaimLaneFrom is [ClaimLane] that only takes lanes numbered first or
// higher; lane 0 (the plain name) can then be left to a foreign writer.
// For a plain buffer and first > 0 it waits until ctx ends.
func ClaimLaneFrom(ctx context.Context, name string, first int, opts ...Option) (*Lane, error) {
	o, err := buildOptions(opts)
	if err != nil {
		return nil, err
	}
	cn, err := platform.ObjectNames(name+laneCtlSuffix, o.dirs)
	if err != nil {
		return nil, err
	}
	for {
		l, err := tryClaim(name, cn, first, opts)
		if l != nil || !retryable(err) {
			return l, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("zerobuffer: claim a lane of %q: %w (last error: %w)", name, ctx.Err(), err)
		case <-time.After(claimPoll):
		}
	}
}

var errNoFreeLane = fmt.Errorf("%w: no free lane", ErrWriterExists)

func retryable(err error) bool {
	return errors.Is(err, ErrNotFound) || errors.Is(err, ErrNotReady) || err == errNoFreeLane
}

// tryClaim makes one pass over the lanes.
func tryClaim(name string, cn platform.Names, first int, opts []Option) (*Lane, error) {
	ctl, bell, claimBell := openLaneCtl(cn)
	if ctl == nil && first > 0 {
		return nil, fmt.Errorf("%w: %q has no fan-in lanes", ErrNotReady, name)
	}
	if ctl == nil {
		w, err := NewWriter(name, opts...)
		if err != nil {
			return nil, err
		}
		return &Lane{w: w}, nil
	}
	pid := ctl.load(ctlPID)
	lastErr := errNoFreeLane
	for k := first; k < ctl.lanes(); k++ {
		w, err := NewWriter(LaneName(name, k), opts...)
		if err != nil {
			if !errors.Is(err, ErrWriterExists) && !errors.Is(err, ErrReaderDead) && !retryable(err) {
				lastErr = err
			}
			continue
		}
		if w.ReaderPID() != pid { // not our receiver's lane: a look-alike
			_ = w.Close()
			continue
		}
		me := platform.Getpid()
		ctl.store(ringer(k), me)
		ctl.add(ctlClaims, 1)
		claimBell.Post(1) // the reader's spare keeper makes a new spare if needed
		claimBell.Close()
		l := &Lane{w: w, index: k, ctl: ctl, bell: bell}
		w.mu.Lock()
		w.onPublish = l.Ring
		w.mu.Unlock()
		l.post() // the reader may sleep: let it make a new spare now
		return l, nil
	}
	ctl.seg.Close()
	bell.Close()
	claimBell.Close()
	if lastErr != errNoFreeLane {
		return nil, lastErr
	}
	return nil, errNoFreeLane
}

// openLaneCtl maps the control block, doorbell and claim bell of a live
// fan-in reader, or returns nils for a plain buffer (or a dead fan-in
// reader's leftovers).
func openLaneCtl(cn platform.Names) (*laneCtl, *platform.Semaphore, *platform.Semaphore) {
	seg, err := platform.OpenSegment(cn.Shm, true)
	if err != nil {
		return nil, nil, nil
	}
	ctl, err := newLaneCtl(seg)
	if err != nil || ctl.load(ctlMagic) != ctlMagicWord || !platform.ProcessAlive(ctl.load(ctlPID)) {
		seg.Close()
		return nil, nil, nil
	}
	bell, err := platform.OpenSemaphore(cn.SemW)
	if err != nil {
		seg.Close()
		return nil, nil, nil
	}
	claimBell, err := platform.OpenSemaphore(cn.SemR)
	if err != nil {
		bell.Close()
		seg.Close()
		return nil, nil, nil
	}
	return ctl, bell, claimBell
}

// Writer returns the lane's writer. Writing through it is how frames are
// sent; each publication rings the fan-in reader's doorbell by itself.
func (l *Lane) Writer() *Writer { return l.w }

// Index returns the lane's index (0 for the plain buffer name).
func (l *Lane) Index() int { return l.index }

// Ring wakes the fan-in reader if it sleeps. The lane's writer rings after
// every publication (WriteFrame, Commit, WriteFrames, Flush, Close), so a
// caller needs Ring only to wake the reader without publishing; it costs
// one atomic load of shared memory when the reader is awake.
func (l *Lane) Ring() {
	if l.ctl == nil {
		return
	}
	l.mu.RLock()
	if !l.off {
		l.post()
	}
	l.mu.RUnlock()
}

// post rings the doorbell once per sleep of the reader.
func (l *Lane) post() {
	if l.ctl.load(ctlSleeping) != 0 && l.ctl.cas(ctlSleeping, 1, 0) {
		l.bell.Post(1)
	}
}

// Close closes the writer (the reader reads every committed frame of this
// lane) and frees the lane for another writer. Close is idempotent.
func (l *Lane) Close() error {
	err := l.w.Close()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.off || l.ctl == nil {
		l.off = true
		return err
	}
	l.off = true
	l.post() // the reader notices the lane's end at once
	l.ctl.seg.Close()
	l.bell.Close()
	return err
}
