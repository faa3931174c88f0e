package core

import (
	"errors"
	"sync/atomic"
	"time"
)

// Stats is a snapshot of one side of a buffer, from [Reader.Stats] or
// [Writer.Stats]. The counters live in this process's memory, not in the
// shared segment: each side counts what it did itself, since it was
// created, and a peer cannot forge or reset them. Only RingUsed and
// PeerAlive are read from the shared segment at the time of the call.
type Stats struct {
	// Frames is the number of frames this side moved: published by a
	// Writer (appended frames count once flushed), handed out by a Reader
	// (ReadFrame and ReadBatch).
	Frames uint64
	// Bytes is the payload bytes of those frames, headers excluded.
	Bytes uint64
	// RingSize is the payload ring's size in bytes (the rounded
	// BufferConfig.PayloadSize); 0 after Close.
	RingSize uint64
	// RingUsed is how many ring bytes are taken now (ring size minus
	// payload_free_bytes): frames not yet released by the reader, and
	// wrap waste. It is read from shared memory and may lag by a batch of
	// releases while the reader holds a backlog (docs/PROTOCOL.md section
	// 17); 0 after Close.
	RingUsed uint64
	// RingHighWater is the most ring bytes this side saw taken: a Writer
	// samples after each publication, a Reader before each return of
	// space. A high-water mark close to RingSize means the writer had to
	// wait, or nearly.
	RingHighWater uint64
	// Blocked is the total time a Writer waited for ring space
	// (back-pressure: the reader was too slow or held frames), including
	// a wait in progress. Always 0 for a Reader.
	Blocked time.Duration
	// Waiting reports a Writer waiting for space at the time of the call.
	Waiting bool
	// PeerAlive reports whether the other side is connected and alive
	// (see [Reader.WriterConnected] and [Writer.ReaderConnected]).
	PeerAlive bool
	// Errors counts failures by kind (the ErrorKind* constants); kinds
	// that did not occur are absent. A Writer counts its failed writes
	// (ErrorKindFrameTooLarge, ErrorKindBufferFull, ErrorKindReaderDead,
	// ErrorKindCorrupt, ErrorKindOther for a closed writer or an invalid
	// size) and a reader found dead by its monitor; a Reader counts ended streams (ErrorKindWriterDead for
	// a crash, ErrorKindWriterClosed for a graceful end) and its sticky
	// ErrorKindCorrupt or ErrorKindSequence error.
	Errors map[string]uint64
}

// Kinds of [Stats.Errors], in snake_case so that they can serve as metric
// labels.
const (
	ErrorKindReaderDead    = "reader_dead"
	ErrorKindWriterDead    = "writer_dead"
	ErrorKindWriterClosed  = "writer_closed"
	ErrorKindFrameTooLarge = "frame_too_large"
	ErrorKindBufferFull    = "buffer_full"
	ErrorKindCorrupt       = "corrupt"
	ErrorKindSequence      = "sequence"
	ErrorKindOther         = "other"
)

// errorKind classifies err for [Stats.Errors].
func errorKind(err error) string {
	switch {
	case errors.Is(err, ErrReaderDead):
		return ErrorKindReaderDead
	case errors.Is(err, ErrWriterDead):
		return ErrorKindWriterDead
	case errors.Is(err, ErrFrameTooLarge):
		return ErrorKindFrameTooLarge
	case errors.Is(err, ErrBufferFull):
		return ErrorKindBufferFull
	case errors.Is(err, ErrCorrupt):
		return ErrorKindCorrupt
	case errors.Is(err, ErrSequence):
		return ErrorKindSequence
	}
	return ErrorKindOther
}

// sideStats are the counters both sides keep, under their own mutex
// (Writer.mu, Reader.mu): plain fields, so that counting costs the hot
// path no atomic instruction.
type sideStats struct {
	frames, bytes uint64
	highWater     uint64
	errors        map[string]uint64
}

func (s *sideStats) fail(kind string) {
	if s.errors == nil {
		s.errors = make(map[string]uint64)
	}
	s.errors[kind]++
}

func (s *sideStats) snapshot() Stats { return s.snapshotInto(nil) }

// snapshotInto is snapshot with the error counts in errs, cleared first,
// instead of a new map (errs nil: a new map, if there are any).
func (s *sideStats) snapshotInto(errs map[string]uint64) Stats {
	st := Stats{Frames: s.frames, Bytes: s.bytes, RingHighWater: s.highWater}
	if len(s.errors) > 0 {
		if errs == nil {
			errs = make(map[string]uint64, len(s.errors))
		} else {
			clear(errs)
		}
		for k, v := range s.errors {
			errs[k] = v
		}
		st.Errors = errs
	}
	return st
}

// writerStats adds the writer's back-pressure accounting. The writer
// holds Writer.mu while it waits for space, so a wait publishes a copy of
// the counters (which cannot change during the wait) for [Writer.Stats]
// to read without the mutex.
type writerStats struct {
	sideStats
	blocked      time.Duration // completed waits
	waitingSince atomic.Int64  // UnixNano of the wait in progress, 0 if none
	mirror       atomic.Pointer[Stats]
	// mirrorReaders counts Stats calls that may be reading *mirror. A
	// wait reuses the previous copy's memory (and its Errors map, which
	// waitingCopy clones) only when there are none, so waiting for space
	// allocates nothing in the steady state.
	mirrorReaders atomic.Int32
}

// published counts a publication of frames carrying bytes of payload,
// after which used ring bytes were taken.
func (s *writerStats) published(frames uint32, bytes, used uint64) {
	s.frames += uint64(frames)
	s.bytes += bytes
	s.highWater = max(s.highWater, used)
}

// failed counts a failed write.
func (s *writerStats) failed(err error) { s.fail(errorKind(err)) }

// wait marks the start of a wait for space and returns its start time,
// for waited: defer w.stats.waited(w.stats.wait()).
func (s *writerStats) wait() time.Time {
	// A Stats call that increments mirrorReaders after the Swap below
	// loads nil or the new copy, never m: if none is counted once m is
	// out of sight, nobody can still be reading m.
	m := s.mirror.Swap(nil)
	var errs map[string]uint64 // the previous copy's error counts, reused with it
	if m == nil || s.mirrorReaders.Load() != 0 {
		m = new(Stats)
	} else {
		errs = m.Errors
	}
	*m = s.snapshotInto(errs)
	m.Blocked = s.blocked
	s.mirror.Store(m)
	start := time.Now()
	s.waitingSince.Store(start.UnixNano())
	return start
}

// waited marks the end of the wait that began at start.
func (s *writerStats) waited(start time.Time) {
	s.blocked += time.Since(start)
	s.waitingSince.Store(0)
}

// Stats returns this writer's counters and the ring's state. It is safe
// to call from any goroutine at any time, also while the writer waits for
// space (it then returns the counters as of the start of the wait, which
// cannot change during it). While another goroutine holds the writer
// between [Writer.Reserve] and [Writer.Commit], Stats waits for the
// Commit.
func (w *Writer) Stats() Stats {
	for d := time.Microsecond; !w.mu.TryLock(); d = min(2*d, time.Millisecond) {
		if since := w.stats.waitingSince.Load(); since != 0 {
			if st, ok := w.stats.waitingCopy(since); ok {
				st.RingSize, st.RingUsed = w.ringState()
				st.PeerAlive = w.ReaderConnected()
				return st
			}
		}
		time.Sleep(d)
	}
	st := w.stats.snapshot()
	st.Blocked = w.stats.blocked
	if w.readerGone.Load() && st.Errors[ErrorKindReaderDead] == 0 {
		if st.Errors == nil {
			st.Errors = make(map[string]uint64)
		}
		st.Errors[ErrorKindReaderDead] = 1 // noticed by the monitor, not by a write
	}
	st.RingSize, st.RingUsed = w.ringState()
	w.mu.Unlock()
	st.PeerAlive = w.ReaderConnected()
	return st
}

// waitingCopy returns the counters published by the wait that began at
// since (ok false if none is published).
func (s *writerStats) waitingCopy(since int64) (st Stats, ok bool) {
	s.mirrorReaders.Add(1)
	defer s.mirrorReaders.Add(-1)
	m := s.mirror.Load()
	if m == nil {
		return st, false
	}
	st = *m
	st.Blocked += time.Since(time.Unix(0, since))
	st.Waiting = true
	st.Errors = cloneCounts(m.Errors)
	return st, true
}

// ringState reads the ring size and use; zero once the writer released
// its mapping.
func (w *Writer) ringState() (size, used uint64) {
	w.cbMu.Lock() // Close unmaps under cbMu
	defer w.cbMu.Unlock()
	if w.released || w.v == nil {
		return 0, 0
	}
	return w.v.p, ringUsed(w.v)
}

// ringUsed is the ring size minus payload_free_bytes, clamped against a
// corrupt free count.
func ringUsed(v *view) uint64 {
	f := v.load(offFree)
	if f > v.p {
		return v.p
	}
	return v.p - f
}

func cloneCounts(m map[string]uint64) map[string]uint64 {
	if m == nil {
		return nil
	}
	c := make(map[string]uint64, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// readerStats adds nothing to sideStats yet; it is a type of its own so
// that the reader's hooks read as such.
type readerStats struct{ sideStats }

// frame counts one frame of n payload bytes handed out.
func (s *readerStats) frame(n uint64) {
	s.frames++
	s.bytes += n
}

// sample records the ring use before the reader returns space.
func (s *readerStats) sample(v *view) {
	s.highWater = max(s.highWater, ringUsed(v))
}

// ended counts the end of a writer's stream.
func (s *readerStats) ended(err error) {
	if errors.Is(err, ErrWriterDead) {
		s.fail(ErrorKindWriterDead)
	} else {
		s.fail(ErrorKindWriterClosed)
	}
}

// Stats returns this reader's counters and the ring's state. It is safe
// to call from any goroutine; it waits while a [Reader.ReadBatch]
// callback runs.
func (r *Reader) Stats() Stats {
	r.mu.Lock()
	st := r.stats.snapshot()
	if r.err != nil { // sticky: it happened once
		if st.Errors == nil {
			st.Errors = make(map[string]uint64)
		}
		st.Errors[errorKind(r.err)]++
	}
	if !r.unmapped && !r.closing.Load() && r.v != nil {
		st.RingSize, st.RingUsed = r.v.p, ringUsed(r.v)
	}
	r.mu.Unlock()
	st.PeerAlive = r.WriterConnected()
	return st
}
