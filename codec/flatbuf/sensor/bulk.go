package sensor

import (
	"encoding/binary"
	"math"
	"slices"
	"unsafe"

	flatbuffers "github.com/google/flatbuffers/go"
)

// Bulk access to the values vector: it is written (pack) and read
// (ValuesBytes, AppendValues) as one block of bytes, instead of one
// generated PrependFloat64 or Values(j) call (with its vtable lookup) per
// element. The readers check the vector's bounds against the buffer
// again, so that a view whose frame changed after it was verified (views
// trust the writer, see flatbuf.Decoder) yields an empty result rather
// than a panic.

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
// returns the extended slice: one copy of the vector's bytes. The result
// is owned by the caller.
func (rcv *Reading) AppendValues(dst []float64) []float64 {
	b := rcv.ValuesBytes()
	n := len(b) / 8
	dst = slices.Grow(dst, n)
	if littleEndian && n > 0 {
		at := len(dst)
		dst = dst[:at+n]
		copy(unsafe.Slice((*byte)(unsafe.Pointer(&dst[at])), 8*n), b)
		return dst
	}
	for i := range n {
		dst = append(dst, math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:])))
	}
	return dst
}

// littleEndian: a []float64 in memory has the vector's wire layout, so it
// is copied as bytes (the float64 slice is the aligned side of the copy).
var littleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// pack is the generated [ReadingT.Pack] with the values vector written in
// one copy instead of one PrependFloat64 call per element. The bytes it
// produces are identical (TestPack_SameBytes).
func pack(b *flatbuffers.Builder, t *ReadingT) flatbuffers.UOffsetT {
	values := flatbuffers.UOffsetT(0)
	if t.Values != nil {
		values = float64Vector(b, t.Values)
	}
	name := b.CreateString(t.Name)
	ReadingStart(b)
	ReadingAddId(b, t.Id)
	ReadingAddTimestamp(b, t.Timestamp)
	ReadingAddValues(b, values)
	ReadingAddName(b, name)
	return ReadingEnd(b)
}

// float64Vector adds v as a vector of float64. The builder has no bulk
// call for it, so it aligns the data to 8 (what StartVector(8, n, 8)
// does), lets CreateByteVector copy the bytes and place the length, and
// then overwrites that length, which CreateByteVector counted in bytes,
// with the element count.
func float64Vector(b *flatbuffers.Builder, v []float64) flatbuffers.UOffsetT {
	n := len(v)
	if !littleEndian || n == 0 {
		b.StartVector(8, n, 8)
		for j := n - 1; j >= 0; j-- {
			b.PlaceFloat64(v[j]) // room was made by StartVector
		}
		return b.EndVector(n)
	}
	b.Prep(8, 8*n) // 8-aligned, so CreateByteVector's 4-byte Prep adds nothing
	off := b.CreateByteVector(unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), 8*n))
	binary.LittleEndian.PutUint32(b.Bytes[b.Head():], uint32(n))
	return off
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
