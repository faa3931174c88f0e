// Package specpeer is a test peer that writes a ZeroBuffer ring the way
// the C++ and Python reference writers do (docs/PROTOCOL.md section 5.2),
// step by step, with a hook between the steps, so that tests can stop a
// foreign-style writer anywhere inside a frame and check that a reader
// never delivers what the writer has not finished.
//
// The reference writers differ from the Go writer in what they count: they
// store payload_written_count for a wrap marker as soon as the marker is
// written, before the frame at offset 0 exists, and the Python writer also
// counts a marker it never writes when it wraps at a 1..15-byte tail. Both
// then post one sem-w token per frame, after the frame is complete.
//
// Nothing here is for production use: the writer holds no lock and trusts
// the buffer it opens.
package specpeer

import (
	"errors"
	"fmt"
	"time"

	"github.com/zerobuffer/zerobuffer-go/internal/hostile"
	"github.com/zerobuffer/zerobuffer-go/internal/layout"
	"github.com/zerobuffer/zerobuffer-go/platform"
)

// Counting selects which reference writer's counting is imitated.
type Counting int

const (
	// CountCPP counts a written marker (at a tail of 16 bytes or more) and
	// nothing at a shorter tail.
	CountCPP Counting = iota
	// CountPython counts a marker at every wrap, including a 1..15-byte
	// tail where it writes none (a phantom count).
	CountPython
)

// Step names a point inside the writing of one frame.
type Step int

const (
	// MarkerCounted: a wrap marker (or a phantom) is counted; the frame at
	// offset 0 is not written yet.
	MarkerCounted Step = iota
	// HeaderWritten: the frame's header is written, its payload is not.
	HeaderWritten
	// DataWritten: the payload is written; the frame is neither counted
	// nor posted yet.
	DataWritten
)

// ErrTimeout is returned by Write when no space came in time.
var ErrTimeout = errors.New("specpeer: no space within the timeout")

var (
	fFree     = mustField("payload_free_bytes")
	fWritePos = mustField("payload_write_pos")
	fWritten  = mustField("payload_written_count")
	fWriter   = mustField("writer_pid")
	fReader   = mustField("reader_pid")
)

func mustField(name string) hostile.Field {
	f, err := hostile.FieldByName(name)
	if err != nil {
		panic(err)
	}
	return f
}

// Writer is a spec-literal foreign writer. It is not safe for concurrent
// use.
type Writer struct {
	// Counting is the reference writer imitated; CountCPP by default.
	Counting Counting
	// Pause, if set, is called at every step of every frame.
	Pause func(Step)

	seg        *hostile.Segment
	semW, semR *platform.Semaphore
	ringOff    uint64 // byte offset of the ring in the segment
	p          uint64 // ring size
	pos        uint64 // write position, may equal p as in C++
	count      uint64 // payload_written_count
	seq        uint64 // next sequence number
}

// Open connects to buffer name (default directories) as its writer: it
// adopts write_pos and written_count, and stores its PID in writer_pid.
func Open(name string) (*Writer, error) {
	names, err := platform.ObjectNames(name, platform.Dirs{})
	if err != nil {
		return nil, err
	}
	seg, err := hostile.Open(name, platform.Dirs{})
	if err != nil {
		return nil, err
	}
	g, err := seg.Geometry()
	if err != nil {
		seg.Close()
		return nil, err
	}
	w := &Writer{seg: seg, ringOff: g.PayloadOffset(), p: g.PayloadSize, seq: 1}
	if w.semW, err = platform.OpenSemaphore(names.SemW); err != nil {
		seg.Close()
		return nil, err
	}
	if w.semR, err = platform.OpenSemaphore(names.SemR); err != nil {
		w.semW.Close()
		seg.Close()
		return nil, err
	}
	w.pos = seg.Peek(fWritePos)
	if w.pos > w.p {
		w.pos = 0
	}
	w.count = seg.Peek(fWritten)
	seg.Poke(fWriter, platform.Getpid())
	return w, nil
}

// Close clears writer_pid and unmaps the buffer.
func (w *Writer) Close() error {
	w.seg.Poke(fWriter, 0)
	w.semW.Close()
	w.semR.Close()
	return w.seg.Close()
}

func (w *Writer) pause(s Step) {
	if w.Pause != nil {
		w.Pause(s)
	}
}

// Write writes one frame, waiting up to timeout for space on sem-r one
// token at a time, in 100ms slices, as the C++ writer does.
func (w *Writer) Write(data []byte, timeout time.Duration) error {
	n := uint64(len(data))
	t := layout.HeaderSize + n
	if n == 0 || t > w.p {
		return fmt.Errorf("specpeer: cannot write %d bytes into a %d-byte ring", n, w.p)
	}
	e := w.p - w.pos
	need := t
	if e < t {
		need = e + t
	}
	deadline := time.Now().Add(timeout)
	for w.seg.Peek(fFree) < need {
		if w.seg.Peek(fReader) == 0 {
			return errors.New("specpeer: reader gone")
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w (free %d, need %d)", ErrTimeout, w.seg.Peek(fFree), need)
		}
		w.semR.Wait(100*time.Millisecond, 1, nil)
	}
	if e < t {
		counted := false
		if e >= layout.HeaderSize {
			w.put(w.pos, layout.Header{})
			counted = true
		} else if e > 0 && w.Counting == CountPython {
			counted = true // a phantom: nothing written, one counted
		}
		if counted {
			w.count++
			w.seg.Poke(fWritten, w.count)
			w.pause(MarkerCounted)
		}
		w.seg.Add(fFree, -e)
		w.pos = 0
	}
	w.put(w.pos, layout.Header{Size: n, Sequence: w.seq})
	w.pause(HeaderWritten)
	if err := w.seg.PokeBytes(int(w.ringOff+w.pos+layout.HeaderSize), data); err != nil {
		return err
	}
	w.pause(DataWritten)
	w.pos += t
	w.seg.Poke(fWritePos, w.pos)
	w.seg.Add(fFree, -t)
	w.count++
	w.seg.Poke(fWritten, w.count)
	w.semW.Post(1)
	w.seq++
	if w.Counting == CountPython && w.pos == w.p {
		w.pos = 0 // the Python writer keeps its position modulo P
	}
	return nil
}

func (w *Writer) put(pos uint64, h layout.Header) {
	var b [layout.HeaderSize]byte
	layout.PutHeader(b[:], h)
	_ = w.seg.PokeBytes(int(w.ringOff+pos), b[:]) // pos+16 <= p: checked by the caller
}
