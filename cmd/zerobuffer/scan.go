package main

import (
	"strconv"
	"strings"

	"github.com/zerobuffer/zerobuffer-go/core"
	"github.com/zerobuffer/zerobuffer-go/platform"
)

// bufferInfo is what ls, clean and watch know about one buffer name: the
// core's [core.Buffer] (which also decides liveness and staleness) with
// the JSON names of the CLI.
type bufferInfo struct {
	Name         string `json:"name"`
	label        string // what ls prints instead of the name (lanes.go); already safe to print
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
	ReaderLock    string `json:"reader_lock"` // "held", "free", "missing", "untrusted" or "unsafe: ..."
	Semaphores    int    `json:"semaphores"`  // how many of the two semaphore files exist
	// SemaphoresValid: both semaphore files have glibc's exact size.
	SemaphoresValid bool     `json:"semaphores_valid"`
	Owners          []uint32 `json:"owners"` // uids owning the objects (Linux)
	// Stale means no live reader owns the name: its objects are
	// leftovers that clean may remove.
	Stale bool `json:"stale"`

	initialising bool
}

func fromCore(b core.Buffer) bufferInfo {
	in := bufferInfo{
		Name: b.Name, Shm: b.Exists, Valid: b.Valid, Problem: b.Problem, SegmentBytes: b.SegmentBytes,
		MetadataSize: b.MetadataSize, PayloadSize: b.PayloadSize, MetadataLen: b.MetadataLen,
		UsedBytes: b.UsedBytes, FramesWritten: b.FramesWritten, FramesRead: b.FramesRead,
		WriterPID: b.WriterPID, WriterAlive: b.WriterAlive, ReaderPID: b.ReaderPID, ReaderAlive: b.ReaderAlive,
		ReaderLock: b.ReaderLock, Semaphores: b.Semaphores, SemaphoresValid: b.SemaphoresValid,
		Owners: b.Owners, Stale: b.Stale, initialising: b.Initialising(),
	}
	if in.Owners == nil {
		in.Owners = []uint32{}
	}
	if b.Valid && b.PayloadSize > 0 {
		in.Utilisation = 100 * float64(b.UsedBytes) / float64(b.PayloadSize)
	}
	return in
}

// dirOpts turns the CLI's directories into core options.
func dirOpts(d platform.Dirs) []core.Option {
	return []core.Option{core.WithDirs(d.Shm, d.Lock)}
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
	case b.initialising:
		return "initialising"
	case !b.Valid:
		return "invalid"
	}
	return "live"
}

// discover lists every buffer in the directories (see [core.List]).
func discover(d platform.Dirs) ([]bufferInfo, error) {
	all, err := core.List(dirOpts(d)...)
	if err != nil {
		return nil, err
	}
	out := make([]bufferInfo, len(all))
	for i, b := range all {
		out[i] = fromCore(b)
	}
	return out, nil
}

// probe describes one buffer name without modifying anything (see
// [core.Inspect]). It fails with an error matching fs.ErrNotExist when
// no object of the name exists.
func probe(name string, d platform.Dirs) (bufferInfo, error) {
	b, err := core.Inspect(name, dirOpts(d)...)
	if err != nil {
		return bufferInfo{}, err
	}
	return fromCore(b), nil
}

// displayName returns name as printed in tables and messages: unchanged
// when it holds only printable characters and no space, quote or
// backslash, else Go-quoted, so that no name can send escape sequences to
// a terminal or pass for another name.
func displayName(name string) string {
	q := strconv.Quote(name)
	if q[1:len(q)-1] == name && !strings.ContainsAny(name, " \"'\\") {
		return name
	}
	return q
}
