package core

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"weak"

	"github.com/zerobuffer/zerobuffer-go/internal/layout"
	"github.com/zerobuffer/zerobuffer-go/platform"
)

// Writer connects to a buffer created by a [Reader] (of any ZeroBuffer
// implementation) and writes frames into it. There is at most one writer
// per buffer at a time.
//
// A Writer is safe for concurrent use; writes are serialised, and a
// [Writer.Reserve] holds the writer until the matching [Writer.Commit].
type Writer struct {
	name  string
	names platform.Names
	opts  options
	log   *slog.Logger
	v     *view
	semW  *platform.Semaphore
	semR  *platform.Semaphore
	lock  *platform.Lock // Go writer lock, ignored by foreign readers

	closing    atomic.Bool
	closeMu    sync.Mutex  // held by Close until its cleanup is complete
	readerGone atomic.Bool // set by the monitor goroutine
	stopMon    chan struct{}
	cbMu       sync.Mutex // orders context callbacks and the reader queries before release
	released   bool       // under cbMu: semaphores unmapped
	ctxw       *ctxWake   // wakes a wait for space when its ctx ends

	monDone chan struct{}   // closed when the monitor goroutine has returned
	cleanup runtime.Cleanup // releases a Writer dropped without Close

	mu         sync.Mutex // held for each operation, and from Reserve to Commit
	pos        uint64     // local write position in [0, P]
	count      uint64     // payload_written_count (frames + markers)
	seq        uint64     // sequence number of the next frame
	free       uint64     // cached free bytes, never more than the truth
	metaDone   bool
	res        reservation // the open Reserve, if any
	reserved   atomic.Bool // a Reserve awaits its Commit
	batch      batch       // appended frames not yet published
	sinceDrain uint64      // frames published since sem-r was drained
	lastWake   time.Time   // when a post last woke a sleeping reader
	// onPublish, if set (a fan-in lane's writer, see ClaimLane), runs
	// after every publication, under mu: it rings the fan-in doorbell, so
	// that every way of publishing (WriteFrame, Commit, WriteFrames,
	// Flush, the flush before a wait for space, Close) wakes a sleeping
	// fan-in reader.
	onPublish func()
	maxFrame  int
	stats     writerStats // under mu; see stats.go
}

// reservation is a frame placed but not committed.
type reservation struct {
	open    bool
	start   uint64 // ring offset of the frame header
	size    uint64 // payload bytes
	need    uint64 // bytes taken from free space: waste + header + payload
	markers uint64 // 1 if a wrap marker precedes the frame
}

// batch is published frames' worth of state not yet made visible.
type batch struct {
	frames uint32 // sem-w tokens owed
	need   uint64 // bytes to subtract from payload_free_bytes
	bytes  uint64 // payload bytes of the frames, for Stats
}

// NewWriter connects to the buffer name. It fails with an error matching
// fs.ErrNotExist when there is no such buffer, [ErrReaderDead] when its
// reader is gone, [ErrWriterExists] when another writer is connected, and
// [ErrNotReady] when the reader is still creating it (after waiting up to
// one second for it to finish).
func NewWriter(name string, opts ...Option) (*Writer, error) {
	o, err := buildOptions(opts)
	if err != nil {
		return nil, err
	}
	names, err := platform.ObjectNames(name, o.dirs)
	if err != nil {
		return nil, err
	}
	w := &Writer{name: name, names: names, opts: o, log: o.logger, seq: 1, stopMon: make(chan struct{})}
	w.ctxw = newCtxWake(w, (*Writer).interruptSleepers)
	deadline := time.Now().Add(time.Second)
	for {
		err = w.connect()
		retry := errors.Is(err, ErrNotReady) || errors.Is(err, errWriterLeaving)
		if err == nil || !retry || time.Now().After(deadline) {
			break
		}
		w.release()
		w.released = false
		time.Sleep(2 * time.Millisecond)
	}
	if err != nil {
		w.release()
		return nil, err
	}
	w.startMonitor()
	w.log.Debug("zerobuffer: writer connected", "name", name)
	return w, nil
}

func (w *Writer) connect() error {
	seg, err := platform.OpenSegment(w.names.Shm, true)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%w: %q: %w", ErrNotFound, w.name, err)
		}
		if errors.Is(err, platform.ErrEmpty) { // the reader is between create and size
			return fmt.Errorf("%w: %q: %w", ErrNotReady, w.name, err)
		}
		return fmt.Errorf("zerobuffer: open buffer %q: %w", w.name, err)
	}
	if uid, gid, known := seg.Owner(); true {
		if err := w.opts.trust.checkOwner("shared memory", w.names.Shm, uid, gid, known); err != nil {
			seg.Close()
			return fmt.Errorf("zerobuffer: connect %q: %w", w.name, err)
		}
	}
	head, ok := segmentHead(seg)
	if !ok {
		seg.Close()
		return fmt.Errorf("%w: %q is %d bytes", ErrNotReady, w.name, len(seg.Bytes()))
	}
	g, err := head.Validate(uint64(len(seg.Bytes())))
	if err != nil {
		seg.Close()
		if errors.Is(err, layout.ErrNotInitialized) {
			return fmt.Errorf("%w: %q", ErrNotReady, w.name)
		}
		return fmt.Errorf("zerobuffer: connect %q: %w", w.name, err)
	}
	w.v = newView(seg, g)
	if !w.readerAlive() {
		return fmt.Errorf("%w: no active reader for %q", ErrReaderDead, w.name)
	}
	if err := w.takeWriterSlot(); err != nil {
		return err
	}
	if w.semW, err = platform.OpenSemaphore(w.names.SemW); err != nil {
		return fmt.Errorf("%w: %q: semaphore: %w", ErrNotReady, w.name, err)
	}
	if w.semR, err = platform.OpenSemaphore(w.names.SemR); err != nil {
		return fmt.Errorf("%w: %q: semaphore: %w", ErrNotReady, w.name, err)
	}
	for _, sem := range []struct {
		s    *platform.Semaphore
		path string
	}{{w.semW, w.names.SemW}, {w.semR, w.names.SemR}} {
		uid, gid, known := sem.s.Owner()
		if err := w.opts.trust.checkOwner("semaphore", sem.path, uid, gid, known); err != nil {
			return fmt.Errorf("zerobuffer: connect %q: %w", w.name, err)
		}
	}
	return w.adoptState()
}

// errWriterLeaving: the previous writer holds its slot but has already
// detached (writer_pid 0): it is closing, so NewWriter retries.
var errWriterLeaving = fmt.Errorf("%w: the previous writer is closing", ErrWriterExists)

// takeWriterSlot makes this the buffer's only writer. On Linux the
// writer range lock of the segment excludes every other Go writer; the
// writer lock file serves peers without range locks and for diagnostics,
// so a file squatted by another user is left alone. A live writer_pid
// that the lock file does not name as a dead Go writer is a live foreign
// writer.
func (w *Writer) takeWriterSlot() error {
	err := w.v.seg.LockRange(platform.WriterRange)
	ranges := err == nil
	switch {
	case errors.Is(err, platform.ErrLocked):
		return w.slotTaken()
	case err != nil && !errors.Is(err, platform.ErrNotSupported):
		return fmt.Errorf("zerobuffer: writer slot %q: %w", w.name, err)
	}
	lock, err := platform.AcquireLock(w.names.WriterLock, 0o644)
	switch {
	case err == nil:
		w.lock = lock
	case errors.Is(err, platform.ErrLocked):
		if st, perr := platform.ProbeLock(w.names.WriterLock); !ranges || perr != nil || (trustedLock(st, w.v.seg) && st.Held) {
			return w.slotTaken()
		}
		w.log.Warn("zerobuffer: writer lock held by an untrusted file; ignored", "path", w.names.WriterLock)
	case ranges && errors.Is(err, platform.ErrUnsafePath):
		w.log.Warn("zerobuffer: writer lock unusable; ignored", "err", err)
	default:
		return fmt.Errorf("zerobuffer: writer lock %q: %w", w.name, err)
	}
	if pid := w.v.load(offWriterPID); pid != 0 && platform.ProcessAlive(pid) {
		if w.lock != nil {
			// our own lock: Held, Content = the previous holder's PID
			if st, _ := platform.ProbeLock(w.names.WriterLock); st.Exists {
				if p, sameNS := lockPID(st.Content); p == pid && sameNS {
					return nil
				}
			}
		}
		return fmt.Errorf("%w: %q (pid %d)", ErrWriterExists, w.name, pid)
	}
	return nil
}

func (w *Writer) slotTaken() error {
	if w.v.load(offWriterPID) == 0 {
		return fmt.Errorf("%w: %q", errWriterLeaving, w.name)
	}
	return fmt.Errorf("%w: %q", ErrWriterExists, w.name)
}

// adoptState loads the positions a previous writer published and
// announces this writer. writer_pid is stored only now, after the
// semaphores are open (docs/PROTOCOL.md W8).
func (w *Writer) adoptState() error {
	p := w.v.p
	w.pos = w.v.load(offWritePos)
	if w.pos > p {
		return fmt.Errorf("zerobuffer: connect %q: %w", w.name, &CorruptError{Field: "payload_write_pos", Got: w.pos, Limit: p})
	}
	if w.pos == p {
		w.pos = 0
	}
	w.count = w.v.load(offWrittenCount)
	w.free = w.v.load(offFree)
	if w.free > p {
		return fmt.Errorf("zerobuffer: connect %q: %w", w.name, &CorruptError{Field: "payload_free_bytes", Got: w.free, Limit: p})
	}
	w.metaDone = w.v.load(offMetaWritten) > 0
	w.maxFrame = int(p - layout.HeaderSize)
	if w.lock != nil {
		if err := w.lock.SetContent(lockContent()); err != nil {
			return fmt.Errorf("zerobuffer: writer lock %q: %w", w.name, err)
		}
	}
	pid := platform.Getpid()
	w.v.store(offGoWriterPID, pid) // before writer_pid: see layout.OffGoWriterPID
	w.v.store(offWriterPID, pid)
	return nil
}

// release undoes a partial connect.
func (w *Writer) release() {
	w.cbMu.Lock()
	defer w.cbMu.Unlock()
	if w.semW != nil {
		w.semW.Close()
		w.semW = nil
	}
	if w.semR != nil {
		w.semR.Close()
		w.semR = nil
	}
	if w.lock != nil {
		_ = w.lock.Release(true)
		w.lock = nil
	}
	if w.v != nil {
		w.v.seg.Close()
		w.v = nil
	}
	w.released = true
}

// readerAlive applies the liveness rules of objects.go to reader_pid.
func (w *Writer) readerAlive() bool { return readerAlive(w.v.seg, w.names, w.v.load(offReaderPID)) }

// startMonitor starts the goroutine that watches the reader, and
// registers the cleanup of a Writer dropped without Close. The goroutine
// holds the Writer only through a weak pointer (and strongly only during
// a check), so a dropped Writer becomes unreachable, and the cleanup
// releases its lock, its semaphores and its mapping.
func (w *Writer) startMonitor() {
	w.monDone = make(chan struct{})
	w.cleanup = runtime.AddCleanup(w, droppedWriter.release, droppedWriter{
		v: w.v, semW: w.semW, semR: w.semR, lock: w.lock, stop: w.stopMon, log: w.log, name: w.name, ctxw: w.ctxw,
	})
	go monitor(weak.Make(w), w.stopMon, w.monDone, w.opts.peerInterval)
}

// monitor checks the reader every peer-check interval, so a writer that
// is not blocked still learns of the reader's death within that bound. It
// returns when stop is closed (Close, or the cleanup of a dropped
// Writer), when the Writer is no longer reachable, or when the reader is
// gone. It must never keep a strong reference to the Writer between
// checks: see startMonitor.
func monitor(wp weak.Pointer[Writer], stop <-chan struct{}, done chan<- struct{}, interval time.Duration) {
	defer close(done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			if w := wp.Value(); w == nil || w.checkReader() {
				return
			}
		}
	}
}

// checkReader reports whether the reader is gone, after recording it and
// waking a blocked write.
func (w *Writer) checkReader() (gone bool) {
	if w.readerAlive() {
		return false
	}
	w.markReaderGone()
	w.semR.Interrupt()
	w.log.Info("zerobuffer: reader gone", "name", w.name)
	return true
}

// droppedWriter is what the cleanup of an unreachable, unclosed Writer
// releases. It must not point back to the Writer.
type droppedWriter struct {
	v          *view
	semW, semR *platform.Semaphore
	lock       *platform.Lock // already released if the reader was found gone
	stop       chan struct{}
	log        *slog.Logger
	name       string
	ctxw       *ctxWake
}

// release detaches like Close without its final publication: frames
// appended and not flushed are lost, as with a crash, and the reader sees
// the end of the stream (io.EOF) after the frames published before.
func (d droppedWriter) release() {
	d.ctxw.release()
	close(d.stop)
	d.v.store(offWriterPID, 0)
	d.semW.Interrupt() // a sleeping Go reader sees the end at once
	_ = d.lock.Release(true)
	d.semW.Close()
	d.semR.Close()
	d.v.seg.Close()
	d.log.Warn("zerobuffer: writer dropped without Close; released by its cleanup", "name", d.name)
}

// markReaderGone records the reader's end and gives up the writer lock at
// once: this writer can never write again, and a writer for a buffer that
// replaces this one (same name, same lock path) must not be refused.
func (w *Writer) markReaderGone() {
	w.readerGone.Store(true)
	w.cbMu.Lock()
	defer w.cbMu.Unlock()
	if w.lock != nil {
		_ = w.lock.Release(true)
		w.lock = nil
	}
}

// afterClose returns err, first waiting for a Close in progress when the
// Writer is closing, so that a write reporting [ErrClosed] returns only
// once the cleanup is done. The caller must not hold w.mu.
func (w *Writer) afterClose(err error) error {
	if err != nil && w.closing.Load() {
		w.waitClosed()
	}
	return err
}

// waitClosed waits for a Close in progress to finish. It is apart from
// afterClose so that afterClose stays small enough to inline into the
// per-frame calls.
func (w *Writer) waitClosed() {
	w.closeMu.Lock()
	w.closeMu.Unlock() // nothing to guard: this waits for Close to finish
}

// Name returns the buffer name.
func (w *Writer) Name() string { return w.name }

// ReaderConnected reports whether the reader is still alive.
func (w *Writer) ReaderConnected() bool {
	w.cbMu.Lock() // Close unmaps under cbMu: never look at a released view
	defer w.cbMu.Unlock()
	if w.released || w.closing.Load() || w.readerGone.Load() {
		return false
	}
	return w.readerAlive()
}

// ReaderPID returns the reader_pid of the buffer (0 after the reader
// closed), as published by the reader in its own PID namespace.
func (w *Writer) ReaderPID() uint64 {
	w.cbMu.Lock()
	defer w.cbMu.Unlock()
	if w.released || w.closing.Load() {
		return 0
	}
	return w.v.load(offReaderPID)
}

// MaxFrameSize returns the largest payload the ring can hold: ring size
// minus the 16-byte header. Such a frame fits only when the writer is at
// the start of the ring; a frame of up to (ring size / 2 - 16) bytes fits
// at any position.
func (w *Writer) MaxFrameSize() int { return w.maxFrame }

// Close publishes any appended frames, detaches from the buffer
// (writer_pid = 0) and releases the writer's resources. The reader then
// reads every committed frame and gets io.EOF. A blocked write returns
// [ErrClosed]; Close waits for an open [Writer.Reserve] to be committed.
//
// Every Close call, and every write that fails with ErrClosed, returns
// only after the writer's lock and mapping are released, whichever
// goroutine releases them: a program may exit as soon as one returns.
func (w *Writer) Close() error {
	w.closeMu.Lock()
	defer w.closeMu.Unlock()
	if w.closing.Swap(true) {
		return nil
	}
	w.ctxw.release()
	for !w.mu.TryLock() {
		w.semR.Interrupt()
		time.Sleep(100 * time.Microsecond)
	}
	defer w.mu.Unlock()
	w.cleanup.Stop()
	w.publishLocked()
	w.v.store(offWriterPID, 0) // after the final positions (docs/PROTOCOL.md section 17)
	w.v.store(offGoWriterPID, 0)
	w.semW.Interrupt() // a sleeping Go reader sees EOF at once
	close(w.stopMon)
	<-w.monDone
	w.release()
	w.log.Debug("zerobuffer: writer closed", "name", w.name)
	return nil
}
