package core

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/zerobuffer/zerobuffer-go/internal/layout"
	"github.com/zerobuffer/zerobuffer-go/platform"
)

// Buffer describes one buffer's operating-system objects as [Inspect] or
// [List] found them. It is a snapshot: a live buffer changes meanwhile.
type Buffer struct {
	Name         string
	Exists       bool   // the shared-memory object exists
	Valid        bool   // and holds a valid OIEB that matches its size
	Problem      string // why it is not valid, if it exists
	SegmentBytes int64
	MetadataSize uint64
	PayloadSize  uint64
	MetadataLen  int64 // length of the metadata content, -1 if none
	UsedBytes    uint64
	// FramesWritten and FramesRead are the OIEB counters; they include
	// wrap markers.
	FramesWritten uint64
	FramesRead    uint64
	WriterPID     uint64
	WriterAlive   bool
	ReaderPID     uint64
	ReaderAlive   bool
	// ReaderLock is "held", "free", "missing", "untrusted" (a file the
	// segment's owner does not own) or "unsafe: REASON".
	ReaderLock string
	// Semaphores counts the semaphore files present; SemaphoresValid is
	// true when both are regular files of glibc's exact size.
	Semaphores      int
	SemaphoresValid bool
	// Owners lists the distinct uids owning the segment, semaphores and
	// reader lock (Linux; empty where owners are unknown).
	Owners []uint32
	// Stale means no live reader owns the name: its objects are leftovers.
	Stale bool
}

// Inspect describes buffer name without modifying anything (the segment
// is mapped read-only). It fails with an error matching fs.ErrNotExist
// when no object of the name exists, and with [ErrInvalidName] for a name
// no buffer can have. Only [WithDirs] and [WithGlobalNamespace] apply.
func Inspect(name string, opts ...Option) (Buffer, error) {
	o, err := buildOptions(opts)
	if err != nil {
		return Buffer{}, err
	}
	names, err := platform.ObjectNames(name, o.dirs)
	if err != nil {
		return Buffer{}, err
	}
	b := Buffer{Name: name, MetadataLen: -1, ReaderLock: "missing"}
	owners := map[uint32]bool{}
	lock, lerr := platform.ProbeLock(names.Lock)
	b.inspectSemaphores(names, owners)
	seg, err := platform.OpenSegment(names.Shm, false)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if !lock.Exists && b.Semaphores == 0 && lerr == nil {
			return b, fmt.Errorf("no buffer named %q: %w", name, ErrNotFound)
		}
	case err != nil:
		b.Exists, b.Problem = true, err.Error()
	default:
		defer seg.Close()
		b.Exists = true
		if uid, _, known := seg.Owner(); known {
			owners[uid] = true
		}
		b.decode(seg.Bytes())
		b.ReaderAlive = readerAlive(seg, names, b.ReaderPID)
		b.WriterAlive = writerAlive(seg, names, b.WriterPID)
	}
	switch {
	case lerr != nil:
		b.ReaderLock = "unsafe: " + lerr.Error()
	case !lock.Exists:
	case seg != nil && !trustedLock(lock, seg):
		b.ReaderLock = "untrusted"
	case lock.Held:
		b.ReaderLock = "held"
	default:
		b.ReaderLock = "free"
	}
	if lock.Exists && lerr == nil {
		owners[lock.Owner] = true
	}
	if seg == nil && lock.Held { // no segment to check the lock against
		b.ReaderAlive = true
	}
	if _, ok := platform.Euid(); ok {
		for u := range owners {
			b.Owners = append(b.Owners, u)
		}
		slices.Sort(b.Owners)
	}
	b.Stale = !b.ReaderAlive
	return b, nil
}

func (b *Buffer) inspectSemaphores(names platform.Names, owners map[uint32]bool) {
	valid := 0
	for _, p := range []string{names.SemW, names.SemR} {
		st, err := platform.StatObject(p)
		if err != nil || !st.Exists {
			continue
		}
		b.Semaphores++
		if st.Regular && st.Size == platform.SemFileSize {
			valid++
		}
		if st.Known {
			owners[st.Owner] = true
		}
	}
	b.SemaphoresValid = valid == 2
}

// decode fills b from a read-only mapping of the segment.
func (b *Buffer) decode(seg []byte) {
	b.SegmentBytes = int64(len(seg))
	o, err := layout.DecodeOIEB(seg)
	if err != nil {
		b.Problem = err.Error()
		return
	}
	b.ReaderPID, b.WriterPID = o.ReaderPID, o.WriterPID
	g, err := o.Validate(uint64(len(seg)))
	if err != nil {
		b.Problem = err.Error()
		return
	}
	b.Valid = true
	b.MetadataSize, b.PayloadSize = g.MetadataSize, g.PayloadSize
	b.UsedBytes = g.PayloadSize - o.PayloadFreeBytes
	b.FramesWritten, b.FramesRead = o.PayloadWrittenCount, o.PayloadReadCount
	meta := seg[g.MetadataOffset() : g.MetadataOffset()+g.MetadataSize]
	if m, ok, err := layout.Metadata(meta, o.MetadataWrittenBytes); err != nil {
		b.Problem = err.Error()
	} else if ok {
		b.MetadataLen = int64(len(m))
	}
}

// Initialising reports whether the segment exists but its reader has not
// finished creating it.
func (b Buffer) Initialising() bool {
	return b.Exists && !b.Valid && b.Problem == layout.ErrNotInitialized.Error()
}

// List finds every buffer in the directories of opts ([WithDirs]):
// shared-memory objects with a valid OIEB, reader lock files, and the
// semaphores of a buffer whose other objects are gone. Objects of other
// programs (a segment without an OIEB and without a lock or semaphore of
// its name) and names no buffer can have are skipped.
//
// Windows cannot list its named sections and semaphores: there, buffers
// are found through their lock files only.
func List(opts ...Option) ([]Buffer, error) {
	o, err := buildOptions(opts)
	if err != nil {
		return nil, err
	}
	shm, others, err := listNames(o.dirs)
	if err != nil {
		return nil, err
	}
	var out []Buffer
	for n := range shm {
		if b, err := Inspect(n, opts...); err == nil && (b.Valid || others[n]) {
			out = append(out, b)
		}
	}
	for n := range others {
		if shm[n] {
			continue
		}
		if b, err := Inspect(n, opts...); err == nil {
			out = append(out, b)
		}
	}
	slices.SortFunc(out, func(a, b Buffer) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

const (
	semWPrefix = platform.SemPrefix + "sem-w-"
	semRPrefix = platform.SemPrefix + "sem-r-"
)

// listNames returns the names of regular files in the shared-memory
// directory that may be segments, and the names of lock files and
// semaphores.
func listNames(d platform.Dirs) (shm, others map[string]bool, err error) {
	shm, others = map[string]bool{}, map[string]bool{}
	if runtime.GOOS != "windows" {
		dir := d.Shm
		if dir == "" {
			dir = platform.DefaultShmDir
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, nil, err
		}
		for _, e := range entries {
			n := e.Name()
			switch {
			case strings.HasPrefix(n, semWPrefix):
				others[n[len(semWPrefix):]] = true
			case strings.HasPrefix(n, semRPrefix):
				others[n[len(semRPrefix):]] = true
			case strings.HasPrefix(n, platform.SemPrefix), !e.Type().IsRegular():
			default:
				shm[n] = true
			}
		}
	}
	if n, err := platform.ObjectNames("x", d); err == nil {
		locks, _ := filepath.Glob(filepath.Join(filepath.Dir(n.Lock), "*.lock"))
		for _, l := range locks {
			others[strings.TrimSuffix(filepath.Base(l), ".lock")] = true
		}
	}
	return shm, others, nil
}
