package core

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

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
	readerGone atomic.Bool // set by the monitor goroutine
	monitorWG  sync.WaitGroup
	stopMon    chan struct{}
	cbMu       sync.Mutex // orders context callbacks and the reader queries before release
	released   bool       // under cbMu: semaphores unmapped

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
	maxFrame   int
	stats      writerStats // under mu; see stats.go
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
	deadline := time.Now().Add(time.Second)
	for {
		err = w.connect()
		if err == nil || !errors.Is(err, ErrNotReady) || time.Now().After(deadline) {
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
	w.monitorWG.Add(1)
	go w.monitor()
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
	return w.adoptState()
}

// takeWriterSlot takes the Go writer lock and checks writer_pid: a
// previous Go writer that died left its PID in the (now free) lock file; a
// live foreign writer has no lock but a live PID.
func (w *Writer) takeWriterSlot() error {
	lock, err := platform.AcquireLock(w.names.WriterLock, 0o666)
	if err != nil {
		if errors.Is(err, platform.ErrLocked) {
			return fmt.Errorf("%w: %q", ErrWriterExists, w.name)
		}
		return fmt.Errorf("zerobuffer: writer lock %q: %w", w.name, err)
	}
	w.lock = lock
	if pid := w.v.load(offWriterPID); pid != 0 && platform.ProcessAlive(pid) {
		st, _ := platform.ProbeLock(w.names.WriterLock) // our own lock: Held, Content = previous holder's PID
		if parsePID(st.Content) != pid {
			return fmt.Errorf("%w: %q (pid %d)", ErrWriterExists, w.name, pid)
		}
	}
	return nil
}

// adoptState loads the positions a previous writer published and
// announces this writer. writer_pid is stored only now, after the
// semaphores are open (spec W8).
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
	pid := platform.Getpid()
	if err := w.lock.SetContent([]byte(strconv.FormatUint(pid, 10) + "\n")); err != nil {
		return fmt.Errorf("zerobuffer: writer lock %q: %w", w.name, err)
	}
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

// readerAlive checks the reader the way foreign readers allow: graceful
// close zeroes reader_pid; a replaced or removed buffer no longer has our
// inode at its path; a held reader lock means alive, an unheld existing
// lock means its holder died; without a lock file (C# readers lock
// elsewhere) the PID decides.
func (w *Writer) readerAlive() bool {
	pid := w.v.load(offReaderPID)
	if pid == 0 || !w.v.seg.StillLinked() {
		return false
	}
	st, err := platform.ProbeLock(w.names.Lock)
	if err == nil && st.Exists {
		return st.Held
	}
	return platform.ProcessAlive(pid)
}

// monitor checks the reader every peer-check interval, so a writer that
// is not blocked still learns of the reader's death within that bound.
func (w *Writer) monitor() {
	defer w.monitorWG.Done()
	t := time.NewTicker(w.opts.peerInterval)
	defer t.Stop()
	for {
		select {
		case <-w.stopMon:
			return
		case <-t.C:
			if !w.readerAlive() {
				w.markReaderGone()
				w.semR.Interrupt()
				w.log.Info("zerobuffer: reader gone", "name", w.name)
				return
			}
		}
	}
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
func (w *Writer) Close() error {
	if w.closing.Swap(true) {
		return nil
	}
	for !w.mu.TryLock() {
		w.semR.Interrupt()
		time.Sleep(100 * time.Microsecond)
	}
	defer w.mu.Unlock()
	w.publishLocked()
	w.v.store(offWriterPID, 0) // after the final positions (spec 17)
	w.semW.Interrupt()         // a sleeping Go reader sees EOF at once
	close(w.stopMon)
	w.monitorWG.Wait()
	w.release()
	w.log.Debug("zerobuffer: writer closed", "name", w.name)
	return nil
}
