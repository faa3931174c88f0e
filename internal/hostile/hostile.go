// Package hostile damages ZeroBuffer buffers on purpose, for reliability
// tests: it maps a buffer's shared memory a second time, read-write, and
// overwrites OIEB fields, frame headers or random bytes, and it posts
// tokens nobody earned on the buffer's semaphores. It works in the process
// that owns the buffer as well as from a separate process (a test child or
// cmd/zbchaos), because it goes through the file system names only.
//
// Nothing here is for production use: every function trusts its caller and
// none of them respects the protocol.
//
// # Caveats
//
// Pokes of 8-byte OIEB fields are single atomic stores, like the peers'
// own stores, so a peer never sees half a value. Byte pokes and
// [Segment.Scribble] are plain stores: tearing is part of the damage.
package hostile

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"unsafe"

	"github.com/zerobuffer/zerobuffer-go/internal/layout"
	"github.com/zerobuffer/zerobuffer-go/platform"
)

// Field is one OIEB field: its name as in docs/PROTOCOL.md section 3, its
// byte offset and its width (1, 4 or 8 bytes).
type Field struct {
	Name  string
	Off   int
	Width int
}

// Fields lists every OIEB field, in offset order.
var Fields = []Field{
	{"oieb_size", layout.OffOIEBSize, 4},
	{"version_major", layout.OffVersion, 1},
	{"version_minor", layout.OffVersion + 1, 1},
	{"version_patch", layout.OffVersion + 2, 1},
	{"version_reserved", layout.OffVersion + 3, 1},
	{"metadata_size", layout.OffMetadataSize, 8},
	{"metadata_free_bytes", layout.OffMetadataFreeBytes, 8},
	{"metadata_written_bytes", layout.OffMetadataWrittenBytes, 8},
	{"payload_size", layout.OffPayloadSize, 8},
	{"payload_free_bytes", layout.OffPayloadFreeBytes, 8},
	{"payload_write_pos", layout.OffPayloadWritePos, 8},
	{"payload_read_pos", layout.OffPayloadReadPos, 8},
	{"payload_written_count", layout.OffPayloadWrittenCount, 8},
	{"payload_read_count", layout.OffPayloadReadCount, 8},
	{"writer_pid", layout.OffWriterPID, 8},
	{"reader_pid", layout.OffReaderPID, 8},
}

// FieldByName returns the OIEB field called name.
func FieldByName(name string) (Field, error) {
	for _, f := range Fields {
		if f.Name == name {
			return f, nil
		}
	}
	return Field{}, fmt.Errorf("hostile: no OIEB field %q", name)
}

// Segment is a second, read-write mapping of a buffer's shared memory.
type Segment struct {
	names platform.Names
	seg   *platform.Segment
	b     []byte
}

// Open maps the shared memory of buffer name (dirs as given to the core
// package; the zero value means the defaults).
func Open(name string, dirs platform.Dirs) (*Segment, error) {
	names, err := platform.ObjectNames(name, dirs)
	if err != nil {
		return nil, err
	}
	seg, err := platform.OpenSegment(names.Shm, true)
	if err != nil {
		return nil, err
	}
	b := seg.Bytes()
	if len(b) < layout.OIEBSize {
		seg.Close()
		return nil, fmt.Errorf("hostile: %s is only %d bytes", names.Shm, len(b))
	}
	return &Segment{names: names, seg: seg, b: b}, nil
}

// Close unmaps the segment.
func (s *Segment) Close() error { return s.seg.Close() }

// Len returns the size of the mapping.
func (s *Segment) Len() int { return len(s.b) }

// StillLinked reports whether the buffer's path still names the mapped
// object (false once a new reader replaced it).
func (s *Segment) StillLinked() bool { return s.seg.StillLinked() }

// word returns the 8-aligned word that contains byte off.
func (s *Segment) word(off int) *uint64 {
	return (*uint64)(unsafe.Pointer(&s.b[off&^7]))
}

// Peek reads field f.
func (s *Segment) Peek(f Field) uint64 {
	w := atomic.LoadUint64(s.word(f.Off))
	shift := uint(f.Off&7) * 8
	switch f.Width {
	case 8:
		return w
	case 4:
		return uint64(uint32(w >> shift))
	default:
		return uint64(uint8(w >> shift))
	}
}

// Poke stores v into field f (truncated to its width) with one atomic
// operation on the word that holds it.
func (s *Segment) Poke(f Field, v uint64) {
	p := s.word(f.Off)
	if f.Width == 8 {
		atomic.StoreUint64(p, v)
		return
	}
	shift := uint(f.Off&7) * 8
	mask := uint64(1)<<(8*uint(f.Width)) - 1
	for {
		old := atomic.LoadUint64(p)
		nw := old&^(mask<<shift) | (v&mask)<<shift
		if atomic.CompareAndSwapUint64(p, old, nw) {
			return
		}
	}
}

// Add adds delta (two's complement for a subtraction) to the 8-byte field
// f with one atomic read-modify-write, as peers update payload_free_bytes,
// and returns the new value.
func (s *Segment) Add(f Field, delta uint64) uint64 {
	return atomic.AddUint64(s.word(f.Off), delta)
}

// PokeName is Poke by field name.
func (s *Segment) PokeName(name string, v uint64) error {
	f, err := FieldByName(name)
	if err != nil {
		return err
	}
	s.Poke(f, v)
	return nil
}

// Snapshot decodes the OIEB as it is now (each word read atomically).
func (s *Segment) Snapshot() layout.OIEB {
	var b [layout.OIEBSize]byte
	for off := 0; off < layout.OIEBSize; off += 8 {
		binary.LittleEndian.PutUint64(b[off:], atomic.LoadUint64(s.word(off)))
	}
	o, _ := layout.DecodeOIEB(b[:])
	return o
}

// Geometry validates the OIEB as it is now and returns the block layout.
func (s *Segment) Geometry() (layout.Geometry, error) {
	o := s.Snapshot()
	return o.Validate(uint64(len(s.b)))
}

// PokeBytes copies p to byte offset off of the segment.
func (s *Segment) PokeBytes(off int, p []byte) error {
	if off < 0 || off > len(s.b) || len(p) > len(s.b)-off {
		return fmt.Errorf("hostile: %d bytes at %d outside the %d-byte segment", len(p), off, len(s.b))
	}
	copy(s.b[off:], p)
	return nil
}

// PeekBytes returns a copy of n bytes at byte offset off.
func (s *Segment) PeekBytes(off, n int) ([]byte, error) {
	if off < 0 || n < 0 || off > len(s.b) || n > len(s.b)-off {
		return nil, fmt.Errorf("hostile: %d bytes at %d outside the %d-byte segment", n, off, len(s.b))
	}
	return append([]byte(nil), s.b[off:off+n]...), nil
}

// PokeHeader overwrites the frame header at ring offset pos with {size,
// seq}. The ring's place comes from the current OIEB, which must be valid.
func (s *Segment) PokeHeader(pos, size, seq uint64) error {
	g, err := s.Geometry()
	if err != nil {
		return err
	}
	if pos > g.PayloadSize || g.PayloadSize-pos < layout.HeaderSize {
		return fmt.Errorf("hostile: header at ring offset %d outside the %d-byte ring", pos, g.PayloadSize)
	}
	var h [layout.HeaderSize]byte
	layout.PutHeader(h[:], layout.Header{Size: size, Sequence: seq})
	return s.PokeBytes(int(g.PayloadOffset()+pos), h[:])
}

// PeekHeader reads the frame header at ring offset pos.
func (s *Segment) PeekHeader(pos uint64) (layout.Header, error) {
	g, err := s.Geometry()
	if err != nil {
		return layout.Header{}, err
	}
	if pos > g.PayloadSize || g.PayloadSize-pos < layout.HeaderSize {
		return layout.Header{}, fmt.Errorf("hostile: header at ring offset %d outside the %d-byte ring", pos, g.PayloadSize)
	}
	return layout.ReadHeader(s.b[g.PayloadOffset():g.SegmentSize()], pos), nil
}

// Scribble makes n random writes anywhere in the segment: random bytes at
// random offsets, plausible-looking values in aligned OIEB words (small
// numbers, so that range checks are not the only defence), and
// plausible frame headers at random ring offsets. It returns how many
// bytes it changed at most.
func (s *Segment) Scribble(rng *rand.Rand, n int) int {
	size := len(s.b)
	touched := 0
	for range n {
		switch rng.IntN(4) {
		case 0, 1: // random bytes anywhere
			off := rng.IntN(size)
			k := min(1+rng.IntN(16), size-off)
			for i := range k {
				s.b[off+i] = byte(rng.Uint32())
			}
			touched += k
		case 2: // a plausible value in an OIEB word
			off := 8 * rng.IntN(layout.OIEBSize/8)
			atomic.StoreUint64(s.word(off), uint64(rng.IntN(2*size+2)))
			touched += 8
		default: // a plausible frame header anywhere past the OIEB
			if size <= layout.OIEBSize+layout.HeaderSize {
				continue
			}
			off := layout.OIEBSize + rng.IntN(size-layout.OIEBSize-layout.HeaderSize)
			var h [layout.HeaderSize]byte
			layout.PutHeader(h[:], layout.Header{Size: uint64(rng.IntN(size)), Sequence: uint64(rng.IntN(1 << 12))})
			copy(s.b[off:], h[:])
			touched += layout.HeaderSize
		}
	}
	return touched
}

// Sem names one of a buffer's two semaphores.
type Sem byte

// The two semaphores of a buffer.
const (
	SemW Sem = 'w' // "data available", posted by the writer per frame
	SemR Sem = 'r' // "space available", posted by the reader per release
)

// Post adds n tokens nobody earned to semaphore which of buffer name and
// returns the value after the post.
func Post(name string, dirs platform.Dirs, which Sem, n uint32) (uint32, error) {
	return withSem(name, dirs, which, func(sem *platform.Semaphore) uint32 {
		sem.Post(n)
		return sem.Value()
	})
}

// SemValue returns the token count of semaphore which of buffer name.
func SemValue(name string, dirs platform.Dirs, which Sem) (uint32, error) {
	return withSem(name, dirs, which, (*platform.Semaphore).Value)
}

// withSem opens semaphore which of buffer name for the length of fn.
func withSem(name string, dirs platform.Dirs, which Sem, fn func(*platform.Semaphore) uint32) (uint32, error) {
	names, err := platform.ObjectNames(name, dirs)
	if err != nil {
		return 0, err
	}
	path := names.SemW
	if which == SemR {
		path = names.SemR
	}
	sem, err := platform.OpenSemaphore(path)
	if err != nil {
		return 0, err
	}
	defer sem.Close()
	return fn(sem), nil
}
