package sensor

import (
	"encoding/binary"
	"math"
	"slices"
)

// Bulk accessors: the values vector read in one pass, instead of one
// generated Values(j) call (with its vtable lookup) per element. Both
// check the vector's bounds against the buffer again, so that a view whose
// frame changed after it was verified (views trust the writer, see
// flatbuf.Decoder) yields an empty result rather than a panic.

// valuesOffset is the vtable slot of field values (4 + 2*fieldValues).
const valuesOffset = 4 + 2*fieldValues

// ValuesBytes returns the values vector as its little-endian bytes, 8 per
// element, aliasing the buffer (no copy): a view over the frame, valid
// while the frame is held. It returns nil when the field is absent or out
// of bounds.
func (rcv *Reading) ValuesBytes() []byte {
	buf := rcv._tab.Bytes
	size := int64(len(buf))
	le32 := func(at int64) (int64, bool) {
		if at < 0 || at > size-4 {
			return 0, false
		}
		return int64(binary.LittleEndian.Uint32(buf[at:])), true
	}
	pos := int64(rcv._tab.Pos)
	soff, ok := le32(pos)
	if !ok {
		return nil
	}
	vt := pos - int64(int32(soff)) // the vtable, read again: the frame may have changed
	if vt < 0 || vt > size-4 {
		return nil
	}
	if vtLen := int64(binary.LittleEndian.Uint16(buf[vt:])); valuesOffset+2 > vtLen || vt+valuesOffset+2 > size {
		return nil // absent (or a vtable cut short)
	}
	o := int64(binary.LittleEndian.Uint16(buf[vt+valuesOffset:]))
	if o == 0 {
		return nil
	}
	at := pos + o
	rel, ok := le32(at)
	if !ok {
		return nil
	}
	n, ok := le32(at + rel)
	if !ok {
		return nil
	}
	start := at + rel + 4
	if n*8 > size-start {
		return nil
	}
	end := start + n*8
	return buf[start:end:end]
}

// AppendValues appends the values vector to dst, growing it once, and
// returns the extended slice: one pass over the vector's bytes. The
// result is owned by the caller.
func (rcv *Reading) AppendValues(dst []float64) []float64 {
	b := rcv.ValuesBytes()
	n := len(b) / 8
	dst = slices.Grow(dst, n)
	for i := range n {
		dst = append(dst, math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:])))
	}
	return dst
}

// unpack is UnPack with the values vector read in bulk.
func unpack(r *Reading) *ReadingT {
	return &ReadingT{
		Id:        r.Id(),
		Timestamp: r.Timestamp(),
		Values:    r.AppendValues(nil),
		Name:      string(r.Name()),
	}
}
