// Package layout holds the byte layout of a ZeroBuffer v1 shared-memory
// segment (docs/PROTOCOL.md sections 2-5) as pure functions over byte
// slices: no mapping, no atomics, no unsafe. Everything here treats its
// input as untrusted and returns an error instead of reading out of range.
//
// The core package uses the offsets for its atomic views; the command-line
// tool and the fuzz targets use the decoders directly.
package layout

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Sizes and offsets of the Operation Info Exchange Block (OIEB).
const (
	OIEBSize     = 128 // bytes at offset 0 of every segment
	HeaderSize   = 16  // frame header: u64 size, u64 sequence
	Align        = 64  // metadata and payload sizes are rounded up to this
	VersionMajor = 1

	OffOIEBSize             = 0x00 // u32
	OffVersion              = 0x04 // 4 x u8: major, minor, patch, reserved
	OffMetadataSize         = 0x08
	OffMetadataFreeBytes    = 0x10
	OffMetadataWrittenBytes = 0x18
	OffPayloadSize          = 0x20
	OffPayloadFreeBytes     = 0x28
	OffPayloadWritePos      = 0x30
	OffPayloadReadPos       = 0x38
	OffPayloadWrittenCount  = 0x40
	OffPayloadReadCount     = 0x48
	OffWriterPID            = 0x50
	OffReaderPID            = 0x58
	OffReserved             = 0x60 // 4 x u64, zero

	// OffGoWriterPID is the first reserved word, used by Go writers only:
	// a Go writer stores its PID here before it stores writer_pid, and
	// clears it on Close. A reader that finds it equal to writer_pid knows
	// that the writer counts a wrap marker together with the frame after
	// it, once the frame is complete (docs/PROTOCOL.md section 17), and
	// may read on payload_written_count alone. Foreign peers leave it zero
	// and ignore it.
	OffGoWriterPID = OffReserved
)

// ErrBase is the root every ZeroBuffer error matches with errors.Is; the
// core package exports it as ErrZeroBuffer.
var ErrBase = errors.New("zerobuffer")

// ErrCorrupt is returned (wrapped in a *CorruptError) when bytes read from
// a segment contradict the layout.
var ErrCorrupt error = &sentinel{msg: "zerobuffer: corrupt shared memory"}

// ErrNotInitialized is returned by Validate for a segment whose reader has
// not finished initialising it (oieb_size still zero).
var ErrNotInitialized error = &sentinel{msg: "zerobuffer: buffer not initialised yet"}

// ErrVersion is returned by Validate for an unsupported major version.
var ErrVersion error = &sentinel{msg: "zerobuffer: unsupported protocol version"}

// sentinel is an error value that also matches ErrBase.
type sentinel struct{ msg string }

func (e *sentinel) Error() string        { return e.msg }
func (e *sentinel) Is(target error) bool { return target == ErrBase }

// CorruptError names the field whose value is impossible.
type CorruptError struct {
	Field string
	Got   uint64
	Limit uint64
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("zerobuffer: corrupt shared memory: %s = %d (limit %d)", e.Field, e.Got, e.Limit)
}

// Is reports whether target is ErrCorrupt or ErrBase.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt || target == ErrBase }

func corrupt(field string, got, limit uint64) error {
	return &CorruptError{Field: field, Got: got, Limit: limit}
}

// RoundUp rounds n up to a multiple of Align; 0 stays 0.
func RoundUp(n uint64) uint64 { return (n + Align - 1) &^ (Align - 1) }

// Geometry is the validated shape of a segment.
type Geometry struct {
	MetadataSize uint64 // M, bytes in the metadata block
	PayloadSize  uint64 // P, bytes in the payload ring
}

// MetadataOffset is where the metadata block starts.
func (g Geometry) MetadataOffset() uint64 { return OIEBSize }

// PayloadOffset is where the payload ring starts.
func (g Geometry) PayloadOffset() uint64 { return OIEBSize + g.MetadataSize }

// SegmentSize is the exact object size: 128 + M + P.
func (g Geometry) SegmentSize() uint64 { return OIEBSize + g.MetadataSize + g.PayloadSize }

// NewGeometry rounds the requested sizes as the reference does and checks
// that the result is usable (payload large enough for a header and a byte).
func NewGeometry(metadata, payload int) (Geometry, error) {
	const max = 1 << 48
	if metadata < 0 || payload < 0 || metadata > max || payload > max {
		return Geometry{}, fmt.Errorf("zerobuffer: buffer sizes out of range: metadata %d, payload %d", metadata, payload)
	}
	g := Geometry{MetadataSize: RoundUp(uint64(metadata)), PayloadSize: RoundUp(uint64(payload))}
	if g.PayloadSize < HeaderSize+1 {
		return Geometry{}, fmt.Errorf("zerobuffer: payload size %d too small (need at least %d)", payload, HeaderSize+1)
	}
	return g, nil
}

// OIEB is a decoded copy of the 128-byte block. The JSON names are the
// field names of docs/PROTOCOL.md section 3.
type OIEB struct {
	OIEBSize             uint32    `json:"oieb_size"`
	Version              [4]byte   `json:"version"`
	MetadataSize         uint64    `json:"metadata_size"`
	MetadataFreeBytes    uint64    `json:"metadata_free_bytes"`
	MetadataWrittenBytes uint64    `json:"metadata_written_bytes"`
	PayloadSize          uint64    `json:"payload_size"`
	PayloadFreeBytes     uint64    `json:"payload_free_bytes"`
	PayloadWritePos      uint64    `json:"payload_write_pos"`
	PayloadReadPos       uint64    `json:"payload_read_pos"`
	PayloadWrittenCount  uint64    `json:"payload_written_count"`
	PayloadReadCount     uint64    `json:"payload_read_count"`
	WriterPID            uint64    `json:"writer_pid"`
	ReaderPID            uint64    `json:"reader_pid"`
	Reserved             [4]uint64 `json:"reserved"`
}

// DecodeOIEB copies the OIEB out of b without validating it.
func DecodeOIEB(b []byte) (OIEB, error) {
	if len(b) < OIEBSize {
		return OIEB{}, corrupt("segment size", uint64(len(b)), OIEBSize)
	}
	le := binary.LittleEndian
	o := OIEB{
		OIEBSize:             le.Uint32(b[OffOIEBSize:]),
		MetadataSize:         le.Uint64(b[OffMetadataSize:]),
		MetadataFreeBytes:    le.Uint64(b[OffMetadataFreeBytes:]),
		MetadataWrittenBytes: le.Uint64(b[OffMetadataWrittenBytes:]),
		PayloadSize:          le.Uint64(b[OffPayloadSize:]),
		PayloadFreeBytes:     le.Uint64(b[OffPayloadFreeBytes:]),
		PayloadWritePos:      le.Uint64(b[OffPayloadWritePos:]),
		PayloadReadPos:       le.Uint64(b[OffPayloadReadPos:]),
		PayloadWrittenCount:  le.Uint64(b[OffPayloadWrittenCount:]),
		PayloadReadCount:     le.Uint64(b[OffPayloadReadCount:]),
		WriterPID:            le.Uint64(b[OffWriterPID:]),
		ReaderPID:            le.Uint64(b[OffReaderPID:]),
	}
	copy(o.Version[:], b[OffVersion:OffVersion+4])
	for i := range o.Reserved {
		o.Reserved[i] = le.Uint64(b[OffReserved+8*i:])
	}
	return o, nil
}

// Encode writes the OIEB into b[:128].
func (o *OIEB) Encode(b []byte) {
	le := binary.LittleEndian
	le.PutUint32(b[OffOIEBSize:], o.OIEBSize)
	copy(b[OffVersion:OffVersion+4], o.Version[:])
	le.PutUint64(b[OffMetadataSize:], o.MetadataSize)
	le.PutUint64(b[OffMetadataFreeBytes:], o.MetadataFreeBytes)
	le.PutUint64(b[OffMetadataWrittenBytes:], o.MetadataWrittenBytes)
	le.PutUint64(b[OffPayloadSize:], o.PayloadSize)
	le.PutUint64(b[OffPayloadFreeBytes:], o.PayloadFreeBytes)
	le.PutUint64(b[OffPayloadWritePos:], o.PayloadWritePos)
	le.PutUint64(b[OffPayloadReadPos:], o.PayloadReadPos)
	le.PutUint64(b[OffPayloadWrittenCount:], o.PayloadWrittenCount)
	le.PutUint64(b[OffPayloadReadCount:], o.PayloadReadCount)
	le.PutUint64(b[OffWriterPID:], o.WriterPID)
	le.PutUint64(b[OffReaderPID:], o.ReaderPID)
	for i, v := range o.Reserved {
		le.PutUint64(b[OffReserved+8*i:], v)
	}
}

// Initial returns the OIEB a reader writes into a fresh segment.
func Initial(g Geometry, readerPID uint64) OIEB {
	return OIEB{
		OIEBSize:          OIEBSize,
		Version:           [4]byte{VersionMajor, 0, 0, 0},
		MetadataSize:      g.MetadataSize,
		MetadataFreeBytes: g.MetadataSize,
		PayloadSize:       g.PayloadSize,
		PayloadFreeBytes:  g.PayloadSize,
		ReaderPID:         readerPID,
	}
}

// Validate checks the OIEB against the mapping length and returns the
// geometry. Positions and counters are checked only for range, since
// they move while a peer runs.
func (o *OIEB) Validate(mapLen uint64) (Geometry, error) {
	if o.OIEBSize == 0 && o.Version == [4]byte{} {
		return Geometry{}, ErrNotInitialized
	}
	if o.OIEBSize != OIEBSize {
		return Geometry{}, corrupt("oieb_size", uint64(o.OIEBSize), OIEBSize)
	}
	if o.Version[0] != VersionMajor {
		return Geometry{}, fmt.Errorf("%w: major %d, want %d", ErrVersion, o.Version[0], VersionMajor)
	}
	if mapLen < OIEBSize {
		return Geometry{}, corrupt("segment size", mapLen, OIEBSize)
	}
	room := mapLen - OIEBSize
	if o.MetadataSize > room {
		return Geometry{}, corrupt("metadata_size", o.MetadataSize, room)
	}
	room -= o.MetadataSize
	if o.PayloadSize > room {
		return Geometry{}, corrupt("payload_size", o.PayloadSize, room)
	}
	if o.PayloadSize < HeaderSize+1 {
		return Geometry{}, corrupt("payload_size", o.PayloadSize, HeaderSize+1)
	}
	g := Geometry{MetadataSize: o.MetadataSize, PayloadSize: o.PayloadSize}
	if o.PayloadWritePos > g.PayloadSize {
		return g, corrupt("payload_write_pos", o.PayloadWritePos, g.PayloadSize)
	}
	if o.PayloadReadPos > g.PayloadSize {
		return g, corrupt("payload_read_pos", o.PayloadReadPos, g.PayloadSize)
	}
	if o.PayloadFreeBytes > g.PayloadSize {
		return g, corrupt("payload_free_bytes", o.PayloadFreeBytes, g.PayloadSize)
	}
	if o.MetadataWrittenBytes > g.MetadataSize {
		return g, corrupt("metadata_written_bytes", o.MetadataWrittenBytes, g.MetadataSize)
	}
	return g, nil
}

// Header is a decoded frame header.
type Header struct {
	Size     uint64 // payload bytes; 0 marks a wrap
	Sequence uint64
}

// IsWrap reports whether h is a wrap marker.
func (h Header) IsWrap() bool { return h.Size == 0 }

// PutHeader writes a frame header at b[0:16].
func PutHeader(b []byte, h Header) {
	binary.LittleEndian.PutUint64(b[0:8], h.Size)
	binary.LittleEndian.PutUint64(b[8:16], h.Sequence)
}

// ReadHeader reads the header at ring offset pos. The caller has made sure
// that pos+16 <= len(ring).
func ReadHeader(ring []byte, pos uint64) Header {
	b := ring[pos : pos+HeaderSize : pos+HeaderSize]
	return Header{Size: binary.LittleEndian.Uint64(b[0:8]), Sequence: binary.LittleEndian.Uint64(b[8:16])}
}

// FrameAt is the common case of NextFrame, cheap enough for every frame:
// a frame whose header starts at pos itself (no wrap) and whose size is
// non-zero and fits before the end of the ring. ok is false, with no other
// meaning, for everything else, which NextFrame then sorts out.
func FrameAt(ring []byte, pos uint64) (size, seq uint64, ok bool) {
	p := uint64(len(ring))
	if pos >= p || p-pos < HeaderSize {
		return 0, 0, false
	}
	b := ring[pos : pos+HeaderSize : pos+HeaderSize]
	size = binary.LittleEndian.Uint64(b[0:8])
	if size == 0 || size > p-pos-HeaderSize {
		return 0, 0, false
	}
	return size, binary.LittleEndian.Uint64(b[8:16]), true
}

// Located is one frame found by NextFrame.
type Located struct {
	Header
	Offset  uint64 // ring offset of the payload
	Next    uint64 // ring offset after the frame (may equal len(ring))
	Skipped uint64 // bytes skipped at the end of the ring (marker or short tail)
	Markers uint64 // wrap markers crossed (0 or 1)
}

// NextFrame finds the frame that starts at or after readPos, applying the
// wrap rules of docs/PROTOCOL.md section 5.3 and the defensive implicit wrap of 5.5:
// readPos == len(ring) is 0, fewer than 16 bytes to the end is an unmarked
// wrap, and a size-0 header is a marker. It validates the frame's size
// against the ring and never reads out of range. Sequence numbers are not
// checked here.
func NextFrame(ring []byte, readPos uint64) (Located, error) {
	p := uint64(len(ring))
	if p < HeaderSize+1 {
		return Located{}, corrupt("payload_size", p, HeaderSize+1)
	}
	if readPos > p {
		return Located{}, corrupt("payload_read_pos", readPos, p)
	}
	var loc Located
	pos := readPos
	if p-pos < HeaderSize { // includes pos == p
		loc.Skipped = p - pos
		pos = 0
	}
	h := ReadHeader(ring, pos)
	if h.IsWrap() {
		if pos == 0 {
			return Located{}, corrupt("frame size", 0, p-HeaderSize)
		}
		e := p - pos // bytes the writer skipped
		loc.Skipped += e
		loc.Markers = 1
		pos = 0
		h = ReadHeader(ring, 0)
		if h.IsWrap() {
			return Located{}, corrupt("frame size", 0, p-HeaderSize)
		}
		// Writers wrap only for a frame that does not fit before the end
		// (C++), or would leave fewer than 16 bytes there (Go). A marker
		// in front of a frame that fits with room to spare is stale data.
		if h.Size <= p && HeaderSize+h.Size+HeaderSize <= e {
			return Located{}, corrupt("frame size", h.Size, e-2*HeaderSize) // after a needless wrap marker
		}
	}
	room := p - pos - HeaderSize
	if h.Size > room {
		return Located{}, corrupt("frame size", h.Size, room)
	}
	loc.Header = h
	loc.Offset = pos + HeaderSize
	loc.Next = loc.Offset + h.Size
	return loc, nil
}

// Metadata returns the metadata content inside block given the published
// metadata_written_bytes. ok is false when no metadata has been written.
// The returned slice aliases block.
func Metadata(block []byte, written uint64) (content []byte, ok bool, err error) {
	if written == 0 {
		return nil, false, nil
	}
	m := uint64(len(block))
	if written < 8 || written > m {
		return nil, false, corrupt("metadata_written_bytes", written, m)
	}
	n := binary.LittleEndian.Uint64(block[0:8])
	if n > written-8 {
		return nil, false, corrupt("metadata length", n, written-8)
	}
	return block[8 : 8+n : 8+n], true, nil
}
