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

	"github.com/zerobuffer/zerobuffer-go/internal/layout"
	"github.com/zerobuffer/zerobuffer-go/platform"
)

// BufferConfig sizes a new buffer. The zero value is a usable default: a
// 1 MiB ring ([DefaultPayloadSize]) and 4 KiB of metadata
// ([DefaultMetadataSize]); see [BufferConfig.WithDefaults] for a config
// with one size given. MetadataSize 0 with a PayloadSize means no metadata
// block. Both sizes are rounded up to a multiple of 64 bytes, as every
// ZeroBuffer implementation does; PayloadSize must leave room for at least
// one 1-byte frame (16-byte header + 1). The largest frame is PayloadSize
// - 16 bytes.
//
// Cost: a buffer occupies 128 + MetadataSize + PayloadSize bytes of shared
// memory, which is RAM (on Linux a tmpfs, /dev/shm, counted against its
// size limit and the memory limit of a container). On Linux the reader
// reserves all of it when it creates the buffer, so a buffer that does not
// fit fails at creation with [ErrNoSpace] instead of with SIGBUS at a
// later write; the memory is returned when the Reader closes.
type BufferConfig struct {
	MetadataSize int
	PayloadSize  int
}

// Reader owns a buffer: it creates the shared memory, the two semaphores
// and the lock file, and removes them on Close. There is one Reader per
// buffer name on a machine.
//
// A Reader is safe for concurrent use; frames are handed out in order, one
// ReadFrame call at a time.
type Reader struct {
	name  string
	names platform.Names
	opts  options
	log   *slog.Logger
	v     *view
	semW  *platform.Semaphore // writer posts one token per frame
	semR  *platform.Semaphore // reader posts one token per released frame
	lock  *platform.Lock

	closing atomic.Bool
	closeMu sync.Mutex   // held by Close until its cleanup is complete
	live    sync.RWMutex // held shared by ReadFrame calls, exclusively by Close

	mu        sync.Mutex    // guards everything below
	pos       uint64        // next read position in the ring, < P
	count     uint64        // frames + markers consumed (payload_read_count)
	expected  uint64        // next sequence number
	tokens    uint64        // sem-w tokens taken but not yet consumed
	debt      uint64        // items consumed before their sem-w token was taken
	written   uint64        // payload_written_count as last read
	trusted   bool          // the writer is a Go writer: written alone proves a frame complete
	goPID     uint64        // the Go writer last seen connected; its count stays trusted after it detaches
	lastPID   uint64        // writer_pid as last seen by goWriterLocked, 0 before any
	credit    uint64        // bytes released but not yet added to payload_free_bytes
	posts     uint32        // sem-r posts owed for released frames
	late      *time.Timer   // publishes credit left unpublished (see lateFlush); nil until first armed
	lateArmed bool          // late is armed and has not run
	lateAfter time.Duration // the late flush's delay; 0 means lateFlush (tests set it)
	pubPos    uint64        // read_pos last published
	pubCount  uint64        // read_count last published
	threshold uint64        // flush credit at this many bytes (ring/8)
	err       error         // sticky corruption or sequence error
	session   session
	held      int       // frames handed out and not released
	order     frameFIFO // handed-out frames in read order, until credited
	pool      []*Frame  // credited frames for reuse
	unmapped  bool
	destroyed bool // destroy ran: the last release of a held frame unmaps
	cleanup   runtime.Cleanup
	ctxw      *ctxWake    // wakes sleeping reads when their ctx ends
	stats     readerStats // see stats.go
}

// flushChunk bounds the release credit a busy reader keeps unpublished.
const flushChunk = 16 << 10

// lateFlush bounds how long released space stays unpublished when the
// reader makes no further call. A release publishes at once only if it
// sees the writer waiting (or the reader is at rest, or past flushChunk);
// a writer that begins to wait just after such a release would otherwise
// get the space only at the reader's next call, and never if the reader's
// next step waits for that writer.
const lateFlush = time.Millisecond

// session tracks the current writer for end-of-stream decisions.
type session struct {
	seen     bool   // a writer was connected at some point of this session
	ended    error  // io.EOF or ErrWriterDead once reported
	endedPID uint64 // writer_pid when the session ended
}

// NewReader creates the buffer name and becomes its reader. It fails with
// [ErrReaderExists] (matching fs.ErrExist) while another live reader owns
// the name. Leftovers of a reader that died (unlocked lock file, shared
// memory, semaphores of this name only) are removed first; other names
// are never touched. On Windows, where the previous buffer of the name
// lives while any process holds it, NewReader waits up to 2s for a writer
// of that buffer to close it, then fails with an error matching
// fs.ErrExist.
func NewReader(name string, cfg BufferConfig, opts ...Option) (*Reader, error) {
	o, err := buildOptions(opts)
	if err != nil {
		return nil, err
	}
	names, err := platform.ObjectNames(name, o.dirs)
	if err != nil {
		return nil, err
	}
	cfg = cfg.WithDefaults()
	g, err := layout.NewGeometry(cfg.MetadataSize, cfg.PayloadSize)
	if err != nil {
		return nil, err
	}
	if o.trust.groupSet {
		o.mode |= 0o060
	}
	lock, err := platform.AcquireLock(names.Lock, o.mode)
	if err != nil {
		if errors.Is(err, platform.ErrLocked) {
			return nil, fmt.Errorf("%w: %q", ErrReaderExists, name)
		}
		return nil, fmt.Errorf("zerobuffer: lock %q: %w", name, err)
	}
	// A reader that locks another path (a Go reader with another lock
	// directory, a C# reader) is seen through the existing segment.
	if liveReaderAt(names) {
		_ = lock.Release(true)
		return nil, fmt.Errorf("%w: %q (its reader locks another path)", ErrReaderExists, name)
	}
	r := &Reader{name: name, names: names, opts: o, log: o.logger, lock: lock, expected: 1}
	r.ctxw = newCtxWake(r, (*Reader).interruptSleepers)
	if err := r.create(g); err != nil {
		r.destroy()
		return nil, err
	}
	// Backstop for a Reader dropped without Close (frames keep their Reader
	// reachable, so this never runs under a live frame).
	r.cleanup = runtime.AddCleanup(r, dropped, droppedReader{names: names, v: r.v, semW: r.semW, semR: r.semR, lock: lock, ctxw: r.ctxw})
	r.log.Debug("zerobuffer: reader created", "name", name, "metadata", g.MetadataSize, "payload", g.PayloadSize)
	return r, nil
}

// droppedReader is what the cleanup of an unreachable, unclosed Reader
// releases. It must not point back to the Reader.
type droppedReader struct {
	names      platform.Names
	v          *view
	semW, semR *platform.Semaphore
	lock       *platform.Lock
	ctxw       *ctxWake
}

func dropped(d droppedReader) {
	d.ctxw.release()
	d.v.store(offReaderPID, 0)
	for _, p := range []string{d.names.Shm, d.names.SemW, d.names.SemR} {
		_ = platform.Remove(p)
	}
	d.semR.Interrupt()
	_ = d.lock.Release(true)
	d.semW.Close()
	d.semR.Close()
	d.v.seg.Close()
}

// create builds the objects while holding the lock. Whatever exists under
// this name is stale: a live reader of the reference lock path would hold
// the lock, and NewReader has checked for readers that lock elsewhere.
func (r *Reader) create(g layout.Geometry) error {
	if err := removeObjects(r.names); err != nil {
		return fmt.Errorf("zerobuffer: remove stale objects of %q: %w", r.name, err)
	}
	seg, err := platform.CreateSegment(r.names.Shm, int64(g.SegmentSize()), r.opts.mode)
	// On Windows a section lives while any process holds a handle to it:
	// a writer of the previous buffer of this name that has not closed yet
	// keeps the name taken. This Reader holds the lock, so no reader is
	// live; wait a bounded time for the old holder to let go (a Go writer
	// that sees its reader gone fails its next write and is closed). Never
	// on Unix, where the name was just removed: an existing one there is
	// somebody else's, created since.
	for deadline := time.Now().Add(r.opts.heldWait); err != nil && runtime.GOOS == "windows" &&
		errors.Is(err, fs.ErrExist) && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
		seg, err = platform.CreateSegment(r.names.Shm, int64(g.SegmentSize()), r.opts.mode)
	}
	if err != nil {
		if runtime.GOOS == "windows" && errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("zerobuffer: create buffer %q: a process still holds the previous buffer of this name (a writer that has not closed): %w", r.name, err)
		}
		return createError(r.name, r.names.Shm, g.SegmentSize(), err)
	}
	r.v = newView(seg, g)
	if err := seg.LockRange(platform.ReaderRange); err != nil && !errors.Is(err, platform.ErrNotSupported) {
		return fmt.Errorf("zerobuffer: create buffer %q: %w", r.name, err)
	}
	init := layout.Initial(g, 0)
	r.v.store(offMetaSize, init.MetadataSize)
	r.v.store(offMetaFree, init.MetadataFreeBytes)
	r.v.store(offPayloadSize, init.PayloadSize)
	r.v.store(offFree, init.PayloadFreeBytes)
	failpointHit("reader.beforeSemaphores")
	if r.semW, err = platform.CreateSemaphore(r.names.SemW, r.opts.mode); err != nil {
		return fmt.Errorf("zerobuffer: create semaphore for %q: %w", r.name, err)
	}
	if r.semR, err = platform.CreateSemaphore(r.names.SemR, r.opts.mode); err != nil {
		return fmt.Errorf("zerobuffer: create semaphore for %q: %w", r.name, err)
	}
	if err := r.shareWithGroup(); err != nil {
		return err
	}
	pid := platform.Getpid()
	_ = r.lock.SetContent(lockContent())
	r.v.store(offReaderPID, pid)
	failpointHit("reader.beforeInitDone")
	r.v.store(offHead, headWord) // publish last: writers wait for this word
	// Publish releases at least every ring/8 (docs/PROTOCOL.md section 17) and every 16 KiB,
	// so a writer spinning for space sees it before it would sleep.
	r.threshold = max(min(g.PayloadSize/r.opts.flushFraction, flushChunk), 1)
	return nil
}

// destroy removes and unmaps whatever create made (used on failure and by
// Close). The lock is released last so that no other reader can start
// while objects of this name are still being removed.
func (r *Reader) destroy() {
	r.destroyed = true // releases from now on unmap; not before, since this stores into the mapping
	if r.v != nil && !r.unmapped {
		r.v.store(offReaderPID, 0)
	}
	if err := removeObjects(r.names); err != nil {
		r.log.Warn("zerobuffer: remove", "name", r.name, "err", err)
	}
	if r.semR != nil && !r.unmapped {
		r.semR.Interrupt() // a Go writer blocked for space notices at once
	}
	if err := r.lock.Release(true); err != nil {
		r.log.Warn("zerobuffer: release lock", "name", r.name, "err", err)
	}
	r.unmapLocked()
}

func (r *Reader) unmapLocked() {
	if r.unmapped || r.held > 0 {
		return
	}
	r.unmapped = true
	if r.semW != nil {
		r.semW.Close()
	}
	if r.semR != nil {
		r.semR.Close()
	}
	if r.v != nil {
		r.v.seg.Close()
	}
}

// Name returns the buffer name.
func (r *Reader) Name() string { return r.name }

// Close removes the buffer's objects and makes the writer see
// [ErrReaderDead]. Blocked ReadFrame calls return [ErrClosed]. Frames still
// held stay readable: the memory is unmapped when the last one is
// released. Close is idempotent.
//
// Every Close call, and every call that fails with ErrClosed, returns only
// after the objects are removed, whichever goroutine removes them: a
// program may exit as soon as one of them returns (a signal handler and a
// deferred Close racing at the end of main).
func (r *Reader) Close() error {
	r.closeMu.Lock()
	defer r.closeMu.Unlock()
	if r.closing.Swap(true) {
		return nil
	}
	r.cleanup.Stop()
	r.ctxw.release()
	for !r.live.TryLock() { // wake sleepers until none is left
		r.semW.Interrupt()
		time.Sleep(100 * time.Microsecond)
	}
	defer r.live.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.flushLocked()
	r.settleLocked()
	if r.late != nil {
		r.late.Stop() // one that already fired finds the Reader closed
	}
	r.destroy()
	r.log.Debug("zerobuffer: reader closed", "name", r.name)
	return nil
}

// afterClose returns err, first waiting for a Close in progress when the
// Reader is closing, so that a call reporting [ErrClosed] returns only
// once the objects are gone. The caller must hold neither r.mu nor r.live.
func (r *Reader) afterClose(err error) error {
	if err != nil && r.closing.Load() {
		r.waitClosed()
	}
	return err
}

// waitClosed waits for a Close in progress to finish. It is apart from
// afterClose so that afterClose stays small enough to inline into the
// per-frame calls.
func (r *Reader) waitClosed() {
	r.closeMu.Lock()
	r.closeMu.Unlock() // nothing to guard: this waits for Close to finish
}

// Metadata returns the metadata the writer published, without the 8-byte
// length prefix, or nil, nil if none was written yet. The slice aliases
// shared memory and stays valid until Close; metadata is write-once, so it
// does not change.
func (r *Reader) Metadata() ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.unmapped || r.closing.Load() {
		return nil, ErrClosed
	}
	b, ok, err := layout.Metadata(r.v.meta, r.v.load(offMetaWritten))
	if err != nil || !ok {
		return nil, err
	}
	return b, nil
}

// WriterConnected reports whether a live writer is attached.
func (r *Reader) WriterConnected() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.unmapped || r.closing.Load() {
		return false
	}
	return r.writerAlive(r.v.load(offWriterPID))
}

// WriterPID returns the writer_pid the current writer published (0 when
// none is connected). It identifies the peer for diagnostics; the PID is
// that of the writer's PID namespace.
func (r *Reader) WriterPID() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.unmapped || r.closing.Load() {
		return 0
	}
	return r.v.load(offWriterPID)
}

// writerAlive applies the liveness rules of objects.go to writer_pid.
func (r *Reader) writerAlive(pid uint64) bool { return writerAlive(r.v.seg, r.names, pid) }
