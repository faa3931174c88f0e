//go:build linux

package core

// Shared helpers and child roles of the reliability matrix
// (RELIABILITY.md, rows C1-C25). The tests themselves live in the other
// reliability_*_test.go files; the failpoint rows need -tags zbfailpoint.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zerobuffer/zerobuffer-go/internal/hostile"
	"github.com/zerobuffer/zerobuffer-go/internal/testproc"
	"github.com/zerobuffer/zerobuffer-go/platform"
)

func init() {
	for name, role := range map[string]testproc.Role{
		"rel-filler":        roleRelFiller,
		"rel-pacer":         roleRelPacer,
		"rel-sleeper":       roleRelSleeper,
		"rel-replacement":   roleRelReplacement,
		"rel-race-reader":   roleRelRaceReader,
		"rel-race-writer":   roleRelRaceWriter,
		"rel-scribbler":     roleRelScribbler,
		"rel-init-reader":   roleRelInitReader,
		"rel-meta-writer":   roleRelMetaWriter,
		"rel-waiting-owner": roleRelWaitingOwner,
	} {
		childRoles[name] = role
	}
}

// fastPeer is the peer-check interval the matrix assumes (RELIABILITY.md
// section 5): detection within 250ms of a death, 1s hard bound.
var fastPeer = WithPeerCheckInterval(20 * time.Millisecond)

// regressed fails a check that guards against a core bug the
// reliability suite found and that has since been fixed (B1-B6 in
// RELIABILITY.md).
func regressed(t *testing.T, format string, args ...any) {
	t.Helper()
	t.Fatal("regression of a fixed core bug: " + fmt.Sprintf(format, args...))
}

// reclaim removes whatever a killed reader left under name, through the
// documented path (a new reader of the same name, then Close). Register it
// with t.Cleanup before starting children, so that it runs after their
// kill and before testName's leftover check.
func reclaim(name string, opts ...Option) {
	for range 50 {
		r, err := NewReader(name, BufferConfig{PayloadSize: 64}, opts...)
		if err == nil {
			r.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// deathClock records when the child's death is observed by Wait; the
// detection budget of RELIABILITY.md counts from that moment.
type deathClock struct {
	done chan struct{}
	at   time.Time
}

func watchDeath(p *testproc.Proc) *deathClock {
	d := &deathClock{done: make(chan struct{})}
	go func() {
		defer close(d.done)
		_, _ = p.Wait(time.Minute)
		d.at = time.Now()
	}()
	return d
}

// since returns how long after the observed death t is (negative when the
// survivor noticed before Wait returned).
func (d *deathClock) since(t time.Time) time.Duration {
	select {
	case <-d.done:
	case <-time.After(10 * time.Second):
		return -1
	}
	return t.Sub(d.at)
}

// inode returns the inode number of path.
func inode(t testing.TB, path string) uint64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Lstat(path, &st); err != nil {
		t.Fatalf("stat %s: %v", path, err)
	}
	return st.Ino
}

// shmEntries lists the entries of dir that belong to buffer name (the
// segment and the two semaphores, and anything else ending in the name).
func shmEntries(t testing.TB, dir, name string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), name) {
			out = append(out, e.Name())
		}
	}
	return out
}

// writeSeqs writes frames from..to, each size bytes of its pattern.
func writeSeqs(t testing.TB, w *Writer, from, to, size int) {
	t.Helper()
	for i := from; i <= to; i++ {
		b := make([]byte, size)
		pattern(b, uint64(i))
		if err := w.WriteFrame(ctxT(t, time.Second), b); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
}

// expectSeqs reads frames and checks that they carry sequence numbers
// from..to with the pattern and sizes of next (nil: any size).
func expectSeqs(t testing.TB, r *Reader, from, to int, next func() int) {
	t.Helper()
	for i := from; i <= to; i++ {
		f, err := r.ReadFrame(ctxT(t, 10*time.Second))
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if f.Sequence() != uint64(i) {
			t.Fatalf("frame %d: sequence %d", i, f.Sequence())
		}
		if next != nil {
			if n := next(); f.Len() != n {
				t.Fatalf("frame %d: %d bytes, want %d", i, f.Len(), n)
			}
		}
		if at := checkPattern(f.Data(), uint64(i)); at >= 0 {
			t.Fatalf("frame %d (%d bytes): byte %d breaks the pattern: partial or torn frame", i, f.Len(), at)
		}
		f.Release()
	}
}

// roleRelFiller: name size — writes size-byte pattern frames for ever,
// reporting "wrote i" after each; it blocks when the ring is full.
func roleRelFiller(c *testproc.Child, a []string) int {
	w, err := connectWriter(a[0], 5*time.Second, fastPeer)
	if err != nil {
		c.Printf("fail connect: %v", err)
		return 1
	}
	buf := make([]byte, atoi(a[1]))
	for i := 1; ; i++ {
		pattern(buf, uint64(i))
		if err := w.WriteFrame(context.Background(), buf); err != nil {
			c.Printf("fail write %d: %v", i, err)
			return 1
		}
		c.Printf("wrote %d", i)
	}
}

// roleRelPacer: name seed maxSize — writes a pattern frame about every
// millisecond for ever (sizes from frameSizes(seed, maxSize)).
func roleRelPacer(c *testproc.Child, a []string) int {
	w, err := connectWriter(a[0], 5*time.Second, fastPeer)
	if err != nil {
		c.Printf("fail connect: %v", err)
		return 1
	}
	next := frameSizes(atoi(a[1]), atoi(a[2]))
	buf := make([]byte, atoi(a[2]))
	c.Printf("connected")
	for i := 1; ; i++ {
		n := next()
		pattern(buf[:n], uint64(i))
		if err := w.WriteFrame(context.Background(), buf[:n]); err != nil {
			c.Printf("fail write %d: %v", i, err)
			return 1
		}
		time.Sleep(time.Millisecond)
	}
}

// roleRelSleeper: reports its PID and waits to be killed (a live process
// unrelated to any buffer).
func roleRelSleeper(c *testproc.Child, a []string) int {
	c.Printf("pid %d", os.Getpid())
	for {
		time.Sleep(time.Hour)
	}
}

// roleRelReplacement: name — creates the buffer (it must succeed at the
// first attempt), reports the segment's inode, reads one frame and
// reports its sequence, then waits for "close".
func roleRelReplacement(c *testproc.Child, a []string) int {
	r, err := NewReader(a[0], BufferConfig{PayloadSize: 4096}, fastPeer)
	if err != nil {
		c.Printf("fail create: %v", err)
		return 1
	}
	defer r.Close()
	var st syscall.Stat_t
	_ = syscall.Stat(r.names.Shm, &st)
	c.Printf("ready ino=%d", st.Ino)
	// The test's probe writer may connect and close without a frame; a
	// reader that saw it gets io.EOF for that session and serves the next
	// writer, as every reader of writer after writer does.
	ctx := context.Background()
	f, err := r.ReadFrame(ctx)
	for errors.Is(err, io.EOF) {
		if err = r.WaitWriter(ctx); err == nil {
			f, err = r.ReadFrame(ctx)
		}
	}
	if err != nil {
		c.Printf("fail read: %v", err)
		return 1
	}
	c.Printf("frame seq=%d data=%s", f.Sequence(), f.Data())
	f.Release()
	c.Next()
	return 0
}

// startAt parses "go NAME UNIXNANO" and sleeps, then spins, until that
// moment, so that every racer starts within microseconds of the others.
func startAt(line string) (name string, ok bool) {
	f := strings.Fields(line)
	if len(f) != 3 || f[0] != "go" {
		return "", false
	}
	at, _ := strconv.ParseInt(f[2], 10, 64)
	if d := time.Until(time.Unix(0, at)) - time.Millisecond; d > 0 {
		time.Sleep(d)
	}
	for time.Now().UnixNano() < at {
	}
	return f[1], true
}

// roleRelRaceReader races NewReader on command: "go NAME UNIXNANO" makes
// it try at that moment and report "won" or "lost <exist> <err>"; "close"
// closes a won reader; end of input ends the child.
func roleRelRaceReader(c *testproc.Child, _ []string) int {
	var r *Reader
	for {
		line, ok := c.Next()
		if !ok {
			return 0
		}
		if line == "close" {
			if r != nil {
				r.Close()
				r = nil
			}
			c.Printf("closed")
			continue
		}
		name, ok := startAt(line)
		if !ok {
			c.Printf("fail command %q", line)
			return 1
		}
		var err error
		r, err = NewReader(name, BufferConfig{MetadataSize: 64, PayloadSize: 4096})
		if err != nil {
			c.Printf("lost %v %v", errors.Is(err, ErrReaderExists) && errors.Is(err, fs.ErrExist), err)
			continue
		}
		c.Printf("won %s", checkFresh(r))
	}
}

// checkFresh is the invariant check of a reader that just created its
// buffer: a valid OIEB at rest, its own PID, mode 0600.
func checkFresh(r *Reader) string {
	o := r.v.snapshot()
	if _, err := o.Validate(uint64(len(r.v.seg.Bytes()))); err != nil {
		return "bad-oieb:" + err.Error()
	}
	if o.ReaderPID != platform.Getpid() || o.WriterPID != 0 || o.PayloadFreeBytes != o.PayloadSize ||
		o.PayloadWritePos != 0 || o.PayloadReadPos != 0 || o.PayloadWrittenCount != 0 {
		return fmt.Sprintf("bad-state:%+v", o)
	}
	if st, err := os.Stat(r.names.Shm); err != nil || st.Mode().Perm() != 0o600 {
		return fmt.Sprintf("bad-mode:%v", err)
	}
	return "ok"
}

// roleRelRaceWriter races NewWriter like roleRelRaceReader races readers;
// "lost" reports whether the error matched ErrWriterExists and how long
// the attempt took.
func roleRelRaceWriter(c *testproc.Child, _ []string) int {
	var w *Writer
	for {
		line, ok := c.Next()
		if !ok {
			return 0
		}
		if line == "close" {
			if w != nil {
				w.Close()
				w = nil
			}
			c.Printf("closed")
			continue
		}
		name, ok := startAt(line)
		if !ok {
			c.Printf("fail command %q", line)
			return 1
		}
		start := time.Now()
		var err error
		w, err = NewWriter(name, fastPeer)
		if err != nil {
			c.Printf("lost %v %dus %v", errors.Is(err, ErrWriterExists) && errors.Is(err, fs.ErrExist), time.Since(start).Microseconds(), err)
			continue
		}
		c.Printf("won")
	}
}

// roleRelScribbler: name seed — scribbles over the buffer's shared
// memory until killed, following the name to a replacement segment.
func roleRelScribbler(c *testproc.Child, a []string) int {
	rng := rand.New(rand.NewPCG(uint64(atoi(a[1])), 99))
	c.Printf("started")
	var h *hostile.Segment
	for i := 0; ; i++ {
		if h == nil || i%32 == 0 && !h.StillLinked() {
			if h != nil {
				h.Close()
			}
			var err error
			if h, err = hostile.Open(a[0], platform.Dirs{}); err != nil {
				h = nil
				time.Sleep(time.Millisecond)
				continue
			}
		}
		h.Scribble(rng, 1)
		time.Sleep(time.Duration(50+rng.IntN(500)) * time.Microsecond)
	}
}

// roleRelInitReader: name — creates the buffer (a failpoint may kill it
// on the way) and waits.
func roleRelInitReader(c *testproc.Child, a []string) int {
	r, err := NewReader(a[0], BufferConfig{MetadataSize: 256, PayloadSize: 4096})
	if err != nil {
		c.Printf("fail create: %v", err)
		return 1
	}
	defer r.Close()
	c.Printf("ready")
	c.Next()
	return 0
}

// roleRelMetaWriter: name size — connects and writes size bytes of
// pattern metadata (a failpoint may kill it half way), then waits.
func roleRelMetaWriter(c *testproc.Child, a []string) int {
	w, err := connectWriter(a[0], 5*time.Second)
	if err != nil {
		c.Printf("fail connect: %v", err)
		return 1
	}
	m := make([]byte, atoi(a[1]))
	pattern(m, 7)
	if err := w.SetMetadata(m); err != nil {
		c.Printf("fail metadata: %v", err)
		return 1
	}
	c.Printf("wrote")
	c.Next()
	return 0
}

// roleRelWaitingOwner: name payload — creates the buffer, reports
// "ready", reads frames until killed and reports each "got SEQ".
func roleRelWaitingOwner(c *testproc.Child, a []string) int {
	r, err := NewReader(a[0], BufferConfig{PayloadSize: atoi(a[1])}, fastPeer)
	if err != nil {
		c.Printf("fail create: %v", err)
		return 1
	}
	c.Printf("ready")
	for {
		f, err := r.ReadFrame(context.Background())
		if err != nil {
			c.Printf("err %v", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		c.Printf("got %d", f.Sequence())
		f.Release()
	}
}

// writerLockPath returns the Go writer lock of name in the default lock
// directory.
func writerLockPath(name string) string {
	return filepath.Join(platform.DefaultLockDir, "writer", name+".lock")
}

// envOr returns the environment variable key, or def when it is unset.
func envOr(key, def string) string {
	if v, ok := os.LookupEnv(key); ok {
		return v
	}
	return def
}
