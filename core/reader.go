package core

import (
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strconv"
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
	live    sync.RWMutex // held shared by ReadFrame calls, exclusively by Close

	mu        sync.Mutex // guards everything below
	pos       uint64     // next read position in the ring, < P
	count     uint64     // frames + markers consumed (payload_read_count)
	expected  uint64     // next sequence number
	tokens    uint64     // sem-w tokens taken but not yet consumed
	debt      uint64     // items consumed before their sem-w token was taken
	written   uint64     // payload_written_count as last read
	credit    uint64     // bytes released but not yet added to payload_free_bytes
	posts     uint32     // sem-r posts owed for released frames
	pubPos    uint64     // read_pos last published
	pubCount  uint64     // read_count last published
	threshold uint64     // flush credit at this many bytes (ring/8)
	err       error      // sticky corruption or sequence error
	session   session
	held      int       // frames handed out and not released
	order     frameFIFO // handed-out frames in read order, until credited
	pool      []*Frame  // credited frames for reuse
	unmapped  bool
	cleanup   runtime.Cleanup
	stats     readerStats // see stats.go
}

// flushChunk bounds the release credit a busy reader keeps unpublished.
const flushChunk = 16 << 10

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
// are never touched.
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
	lock, err := platform.AcquireLock(names.Lock, o.mode)
	if err != nil {
		if errors.Is(err, platform.ErrLocked) {
			return nil, fmt.Errorf("%w: %q", ErrReaderExists, name)
		}
		return nil, fmt.Errorf("zerobuffer: lock %q: %w", name, err)
	}
	r := &Reader{name: name, names: names, opts: o, log: o.logger, lock: lock, expected: 1}
	if err := r.create(g); err != nil {
		r.destroy()
		return nil, err
	}
	// Backstop for a Reader dropped without Close (frames keep their Reader
	// reachable, so this never runs under a live frame).
	r.cleanup = runtime.AddCleanup(r, dropped, droppedReader{names: names, v: r.v, semW: r.semW, semR: r.semR, lock: lock})
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
}

func dropped(d droppedReader) {
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
// this name is stale: a live reader would hold the lock.
func (r *Reader) create(g layout.Geometry) error {
	for _, p := range []string{r.names.Shm, r.names.SemW, r.names.SemR} {
		if err := platform.Remove(p); err != nil {
			return fmt.Errorf("zerobuffer: remove stale %s: %w", p, err)
		}
	}
	r.removeStaleWriterLock()
	seg, err := platform.CreateSegment(r.names.Shm, int64(g.SegmentSize()), r.opts.mode)
	if err != nil {
		return createError(r.name, r.names.Shm, g.SegmentSize(), err)
	}
	r.v = newView(seg, g)
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
	pid := platform.Getpid()
	_ = r.lock.SetContent([]byte(strconv.FormatUint(pid, 10) + "\n"))
	r.v.store(offReaderPID, pid)
	failpointHit("reader.beforeInitDone")
	r.v.store(offHead, headWord) // publish last: writers wait for this word
	// Publish releases at least every ring/8 (spec 17) and every 16 KiB,
	// so a writer spinning for space sees it before it would sleep.
	r.threshold = max(min(g.PayloadSize/r.opts.flushFraction, flushChunk), 1)
	return nil
}

// destroy removes and unmaps whatever create made (used on failure and by
// Close). The lock is released last so that no other reader can start
// while objects of this name are still being removed.
func (r *Reader) destroy() {
	if r.v != nil {
		r.v.store(offReaderPID, 0)
	}
	for _, p := range []string{r.names.Shm, r.names.SemW, r.names.SemR} {
		if err := platform.Remove(p); err != nil {
			r.log.Warn("zerobuffer: remove", "path", p, "err", err)
		}
	}
	if r.semR != nil {
		r.semR.Interrupt() // a Go writer blocked for space notices at once
	}
	r.removeStaleWriterLock()
	if err := r.lock.Release(true); err != nil {
		r.log.Warn("zerobuffer: release lock", "name", r.name, "err", err)
	}
	r.unmapLocked()
}

// removeStaleWriterLock removes the lock file a dead Go writer left.
func (r *Reader) removeStaleWriterLock() {
	if st, err := platform.ProbeLock(r.names.WriterLock); err == nil && st.Exists && !st.Held {
		_ = platform.Remove(r.names.WriterLock)
	}
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
func (r *Reader) Close() error {
	if r.closing.Swap(true) {
		return nil
	}
	r.cleanup.Stop()
	for !r.live.TryLock() { // wake sleepers until none is left
		r.semW.Interrupt()
		time.Sleep(100 * time.Microsecond)
	}
	defer r.live.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.flushLocked()
	r.settleLocked()
	r.destroy()
	r.log.Debug("zerobuffer: reader closed", "name", r.name)
	return nil
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
	pid := r.v.load(offWriterPID)
	return pid != 0 && writerAlive(r.names.WriterLock, pid)
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

// writerAlive decides whether the process named by writer_pid lives. A Go
// writer holds its own lock file and writes its PID into it: a held lock is
// alive; an unheld lock naming this PID is a dead Go writer, even if the
// PID was reused. Foreign writers have no lock file and fall back to the
// PID test (EPERM counts as alive).
func writerAlive(lockPath string, pid uint64) bool {
	st, err := platform.ProbeLock(lockPath)
	if err == nil && st.Held {
		return true
	}
	if err == nil && st.Exists && parsePID(st.Content) == pid {
		return false
	}
	return platform.ProcessAlive(pid)
}

func parsePID(b []byte) uint64 {
	n := 0
	for n < len(b) && b[n] >= '0' && b[n] <= '9' {
		n++
	}
	v, err := strconv.ParseUint(string(b[:n]), 10, 64)
	if err != nil {
		return 0
	}
	return v
}
