package core

import (
	"sync/atomic"
	"unsafe"

	"github.com/zerobuffer/zerobuffer-go/internal/layout"
	"github.com/zerobuffer/zerobuffer-go/platform"
)

// view is the typed window onto one mapped segment. It is the only place
// in this package that turns shared memory into Go pointers: every OIEB
// word is accessed through sync/atomic on an 8-aligned address inside the
// mapping (the mapping is page aligned and the OIEB offsets are multiples
// of 8). Frame headers are unaligned and read with encoding/binary after
// the acquire that published them: a peer's plain stores are visible in
// order once the word that publishes them has been loaded.
type view struct {
	seg  *platform.Segment
	geo  layout.Geometry // validated once, never re-read from shared memory
	meta []byte          // metadata block, capacity capped
	ring []byte          // payload ring, capacity capped
	p    uint64          // ring size (== len(ring))
	base unsafe.Pointer  // start of the mapping
}

func newView(seg *platform.Segment, g layout.Geometry) *view {
	b := seg.Bytes()
	mo, po, end := g.MetadataOffset(), g.PayloadOffset(), g.SegmentSize()
	return &view{
		seg:  seg,
		geo:  g,
		meta: b[mo:po:po],
		ring: b[po:end:end],
		p:    g.PayloadSize,
		base: unsafe.Pointer(&b[0]),
	}
}

func (v *view) word(off uintptr) *uint64 { return (*uint64)(unsafe.Add(v.base, off)) }

func (v *view) load(off uintptr) uint64     { return atomic.LoadUint64(v.word(off)) }
func (v *view) store(off uintptr, x uint64) { atomic.StoreUint64(v.word(off), x) }
func (v *view) add(off uintptr, x uint64)   { atomic.AddUint64(v.word(off), x) }

// storeOrdered is a plain store for a field this side alone writes,
// published by the atomic read-modify-write that follows it (docs/PROTOCOL.md section 17:
// the sem post or free_bytes update orders it; on arm64 those are
// release operations). It saves a full fence per frame on amd64.
func (v *view) storeOrdered(off uintptr, x uint64) { *v.word(off) = x }

func (v *view) sub(off uintptr, x uint64) uint64 {
	return atomic.AddUint64(v.word(off), -x)
}

// OIEB field offsets as uintptr for the accessors.
const (
	offHead         = uintptr(layout.OffOIEBSize) // u32 oieb_size + 4 version bytes, stored as one word
	offMetaSize     = uintptr(layout.OffMetadataSize)
	offMetaFree     = uintptr(layout.OffMetadataFreeBytes)
	offMetaWritten  = uintptr(layout.OffMetadataWrittenBytes)
	offPayloadSize  = uintptr(layout.OffPayloadSize)
	offFree         = uintptr(layout.OffPayloadFreeBytes)
	offWritePos     = uintptr(layout.OffPayloadWritePos)
	offReadPos      = uintptr(layout.OffPayloadReadPos)
	offWrittenCount = uintptr(layout.OffPayloadWrittenCount)
	offReadCount    = uintptr(layout.OffPayloadReadCount)
	offWriterPID    = uintptr(layout.OffWriterPID)
	offReaderPID    = uintptr(layout.OffReaderPID)
	offGoWriterPID  = uintptr(layout.OffGoWriterPID)
)

// headWord is the first OIEB word of an initialised segment: oieb_size 128
// and version 1.0.0 in one little-endian u64, stored last by the reader so
// that a writer never sees a half-initialised block as valid.
const headWord = uint64(layout.OIEBSize) | uint64(layout.VersionMajor)<<32

// snapshot copies the OIEB with atomic loads (for validation by a writer
// that connects while the reader may still be initialising).
func (v *view) snapshot() layout.OIEB {
	var b [layout.OIEBSize]byte
	for off := uintptr(0); off < layout.OIEBSize; off += 8 {
		x := v.load(off)
		for i := 0; i < 8; i++ {
			b[int(off)+i] = byte(x >> (8 * i))
		}
	}
	o, _ := layout.DecodeOIEB(b[:])
	return o
}

// segmentHead reads the OIEB of a freshly opened segment with atomics,
// without trusting its geometry yet.
func segmentHead(seg *platform.Segment) (layout.OIEB, bool) {
	b := seg.Bytes()
	if len(b) < layout.OIEBSize {
		return layout.OIEB{}, false
	}
	v := &view{base: unsafe.Pointer(&b[0])}
	return v.snapshot(), true
}
