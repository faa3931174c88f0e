package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"

	"github.com/zerobuffer/zerobuffer-go/internal/layout"
	"github.com/zerobuffer/zerobuffer-go/platform"
)

// bufferInfo is what ls, clean and watch know about one buffer name.
type bufferInfo struct {
	Name         string `json:"name"`
	Shm          bool   `json:"shm"`               // the shared-memory object exists
	Valid        bool   `json:"valid"`             // and holds a valid OIEB
	Problem      string `json:"problem,omitempty"` // why it is not valid
	SegmentBytes int64  `json:"segment_bytes"`
	MetadataSize uint64 `json:"metadata_size"`
	PayloadSize  uint64 `json:"payload_size"`
	// MetadataLen is the length of the metadata content, -1 if none.
	MetadataLen int64   `json:"metadata_len"`
	UsedBytes   uint64  `json:"used_bytes"`
	Utilisation float64 `json:"utilisation_pct"`
	// FramesWritten and FramesRead are the OIEB counters; they include
	// wrap markers.
	FramesWritten uint64 `json:"frames_written"`
	FramesRead    uint64 `json:"frames_read"`
	WriterPID     uint64 `json:"writer_pid"`
	WriterAlive   bool   `json:"writer_alive"`
	ReaderPID     uint64 `json:"reader_pid"`
	ReaderAlive   bool   `json:"reader_alive"`
	ReaderLock    string `json:"reader_lock"` // "held", "free" or "missing"
	Semaphores    int    `json:"semaphores"`  // how many of the two semaphore files exist
	// Stale means no live reader owns the name: its objects are
	// leftovers that clean may remove.
	Stale bool `json:"stale"`

	oieb layout.OIEB
}

// health bands of the payload ring's utilisation.
func (b *bufferInfo) health() string {
	switch {
	case !b.Valid:
		return "unknown"
	case b.Utilisation > 95:
		return "critical"
	case b.Utilisation >= 80:
		return "degraded"
	}
	return "healthy"
}

// state is a one-word summary for tables.
func (b *bufferInfo) state() string {
	switch {
	case b.Stale:
		return "stale"
	case b.Shm && !b.Valid && b.Problem == layout.ErrNotInitialized.Error():
		return "initialising"
	case !b.Valid:
		return "invalid"
	}
	return "live"
}

const (
	semWPrefix = "sem.sem-w-"
	semRPrefix = "sem.sem-r-"
)

// discover finds every buffer name in the directories: shared-memory
// objects with a valid OIEB, lock files, and semaphores of a buffer
// whose other objects are gone. Objects of other programs (shm files
// without an OIEB, lock or semaphore of the same name) are ignored.
//
// Windows cannot list its named sections and semaphores: there, buffers
// are found through their lock files only (a buffer whose reader holds
// its lock; the lock vanishes with its holder, and so do the objects).
func discover(d platform.Dirs) ([]bufferInfo, error) {
	var entries []os.DirEntry
	if runtime.GOOS != "windows" {
		var err error
		if entries, err = os.ReadDir(d.Shm); err != nil {
			return nil, err
		}
	}
	shm, others := map[string]bool{}, map[string]bool{}
	for _, e := range entries {
		n := e.Name()
		switch {
		case strings.HasPrefix(n, semWPrefix):
			others[n[len(semWPrefix):]] = true
		case strings.HasPrefix(n, semRPrefix):
			others[n[len(semRPrefix):]] = true
		case strings.HasPrefix(n, "sem."), !e.Type().IsRegular():
		default:
			shm[n] = true
		}
	}
	lockDir := d.Lock
	if n, err := platform.ObjectNames("x", d); err == nil {
		lockDir = filepath.Dir(n.Lock)
	}
	locks, _ := filepath.Glob(filepath.Join(lockDir, "*.lock"))
	for _, l := range locks {
		others[strings.TrimSuffix(filepath.Base(l), ".lock")] = true
	}
	var out []bufferInfo
	for n := range shm {
		if b, err := probe(n, d); err == nil && (b.Valid || others[n]) {
			out = append(out, b)
		}
	}
	for n := range others {
		if shm[n] {
			continue
		}
		if b, err := probe(n, d); err == nil {
			out = append(out, b)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// probe describes one buffer name without modifying anything. It fails
// with an error matching fs.ErrNotExist when no object of the name
// exists.
func probe(name string, d platform.Dirs) (bufferInfo, error) {
	names, err := platform.ObjectNames(name, d)
	if err != nil {
		return bufferInfo{}, err
	}
	b := bufferInfo{Name: name, MetadataLen: -1, ReaderLock: "missing"}
	lock, lerr := platform.ProbeLock(names.Lock)
	switch {
	case lerr != nil:
		b.ReaderLock = "unknown: " + lerr.Error()
	case lock.Held:
		b.ReaderLock = "held"
	case lock.Exists:
		b.ReaderLock = "free"
	}
	for _, p := range []string{names.SemW, names.SemR} {
		if _, err := os.Lstat(p); err == nil {
			b.Semaphores++
		}
	}
	seg, err := platform.OpenSegment(names.Shm, false)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if !lock.Exists && b.Semaphores == 0 {
			return b, fmt.Errorf("no buffer named %q: %w", name, fs.ErrNotExist)
		}
	case err != nil:
		b.Shm, b.Problem = true, err.Error()
	default:
		b.Shm = true
		b.decode(seg.Bytes())
		seg.Close()
	}
	b.ReaderAlive = lock.Held || platform.ProcessAlive(b.ReaderPID)
	b.WriterAlive = b.WriterPID != 0 && writerAlive(names.WriterLock, b.WriterPID)
	b.Stale = !b.ReaderAlive
	return b, nil
}

// decode fills b from a read-only mapping of the segment.
func (b *bufferInfo) decode(seg []byte) {
	b.SegmentBytes = int64(len(seg))
	o, err := layout.DecodeOIEB(seg)
	if err != nil {
		b.Problem = err.Error()
		return
	}
	b.oieb = o
	b.ReaderPID, b.WriterPID = o.ReaderPID, o.WriterPID
	g, err := o.Validate(uint64(len(seg)))
	if err != nil {
		b.Problem = err.Error()
		return
	}
	b.Valid = true
	b.MetadataSize, b.PayloadSize = g.MetadataSize, g.PayloadSize
	b.UsedBytes = g.PayloadSize - o.PayloadFreeBytes
	b.Utilisation = 100 * float64(b.UsedBytes) / float64(g.PayloadSize)
	b.FramesWritten, b.FramesRead = o.PayloadWrittenCount, o.PayloadReadCount
	meta := seg[g.MetadataOffset() : g.MetadataOffset()+g.MetadataSize]
	if m, ok, err := layout.Metadata(meta, o.MetadataWrittenBytes); err != nil {
		b.Problem = err.Error()
	} else if ok {
		b.MetadataLen = int64(len(m))
	}
}

// writerAlive decides whether writer_pid lives the way the core package
// does: a Go writer holds its own lock file (held: alive; free but naming
// this PID: dead even if the PID was reused); foreign writers fall back
// to the PID test.
func writerAlive(lockPath string, pid uint64) bool {
	st, err := platform.ProbeLock(lockPath)
	if err == nil && st.Held {
		return true
	}
	if err == nil && st.Exists {
		digits := strings.TrimRight(string(st.Content), "\n \x00")
		if v, perr := strconv.ParseUint(digits, 10, 64); perr == nil && v == pid {
			return false
		}
	}
	return platform.ProcessAlive(pid)
}
