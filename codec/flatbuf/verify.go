package flatbuf

import (
	"encoding/binary"
	"fmt"

	flatbuffers "github.com/google/flatbuffers/go"

	"github.com/zerobuffer/zerobuffer-go/codec"
)

// Limits applied by the verifier.
const (
	// MaxSize is the largest buffer the verifier accepts (FlatBuffers
	// offsets are 32-bit and signed in places, so 2 GiB - 1).
	MaxSize = 1<<31 - 1
	// MaxDepth bounds nesting of tables reached through [Table.Table].
	MaxDepth = 64
	// maxField is the largest field index a 16-bit vtable can describe.
	maxField = (1<<16 - 1 - 4) / 2
	// identLen is the size of a FlatBuffers file identifier.
	identLen = 4
)

// Table is a FlatBuffers table whose header has been checked against its
// buffer: the table offset, the vtable (offset, even size >= 4, inside the
// buffer) and the inline object size. Fields are checked one by one with
// [Table.Scalar], [Table.String], [Table.Vector] and [Table.Table]; a schema
// verifier calls them for every field the generated accessors may read, and
// only then hands out a view (see the sensor subpackage).
//
// Field numbers are the schema's field indexes (0 for the first field),
// i.e. vtable slot (4 + 2*field). An absent field (outside a short vtable,
// or with offset 0) always verifies: the generated accessors return the
// default value for it. All arithmetic is done in int64, so a corrupt
// offset cannot wrap into range. A Table is a small value; it is safe to
// copy and to use from several goroutines.
type Table struct {
	buf []byte
	// at packs the table start (low 32 bits) and the vtable start; lens
	// packs the vtable size (bits 0-15), the inline object size (16-31) and
	// the nesting depth (32-47). Packed, a Table and an error come back from
	// a call in registers, which matters in a verifier run on every frame.
	at, lens uint64
}

func (t *Table) pos() int64    { return int64(uint32(t.at)) }
func (t *Table) vt() int64     { return int64(t.at >> 32) }
func (t *Table) vtLen() int64  { return int64(uint16(t.lens)) }
func (t *Table) objLen() int64 { return int64(uint16(t.lens >> 16)) }
func (t *Table) depth() int    { return int(uint16(t.lens >> 32)) }

// VerifyRoot checks the root table of the finished (not size-prefixed)
// buffer buf. If ident is not empty, the buffer must carry that 4-byte file
// identifier. Errors wrap [codec.ErrInvalid].
//
// The checks of VerifyRoot and of the Table methods are written as one
// fast test that inlines into a schema's verifier, with the error built by
// a separate slow function that finds which rule the input broke: a
// verifier runs on every received frame, and a small message's
// verification would otherwise cost more than its trip through the ring.
func VerifyRoot(buf []byte, ident string) (Table, error) {
	n := len(buf)
	if n < 8 || n > MaxSize || ident != "" && (len(ident) != identLen || string(buf[4:8]) != ident) {
		if n >= 4 && n <= MaxSize && ident == "" {
			return tableAt(buf, int64(binary.LittleEndian.Uint32(buf)), 1)
		}
		return Table{}, rootErr(buf, ident)
	}
	return tableAt(buf, int64(binary.LittleEndian.Uint32(buf)), 1)
}

// rootErr is VerifyRoot's error for a buffer that failed its fast test
// (other than a short buffer without identifier, which tableAt judges).
func rootErr(buf []byte, ident string) error {
	n := len(buf)
	switch {
	case n > MaxSize:
		return invalid("buffer of %d bytes exceeds %d", n, MaxSize)
	case ident != "" && len(ident) != identLen:
		return invalid("file identifier %q is not %d bytes", ident, identLen)
	case ident != "":
		return invalid("missing file identifier %q", ident)
	default:
		return invalid("buffer of %d bytes has no root offset", n)
	}
}

func tableAt(buf []byte, pos int64, depth int) (Table, error) {
	n := int64(len(buf))
	if depth > MaxDepth || pos < 0 || pos > n-4 {
		return Table{}, tableErr(buf, pos, depth)
	}
	vt := pos - int64(int32(binary.LittleEndian.Uint32(buf[pos:])))
	if vt < 0 || vt > n-4 {
		return Table{}, tableErr(buf, pos, depth)
	}
	vtLen := int64(binary.LittleEndian.Uint16(buf[vt:]))
	objLen := int64(binary.LittleEndian.Uint16(buf[vt+2:]))
	if vtLen < 4 || vtLen%2 != 0 || vtLen > n-vt || objLen < 4 || objLen > n-pos {
		return Table{}, tableErr(buf, pos, depth)
	}
	return Table{buf: buf, at: uint64(pos) | uint64(vt)<<32, lens: uint64(vtLen) | uint64(objLen)<<16 | uint64(depth)<<32}, nil
}

// tableErr is tableAt's error: it repeats tableAt's checks one by one.
func tableErr(buf []byte, pos int64, depth int) error {
	n := int64(len(buf))
	if depth > MaxDepth {
		return invalid("tables nested deeper than %d", MaxDepth)
	}
	if pos < 0 || pos > n-4 {
		return invalid("table offset %d outside buffer of %d bytes", pos, n)
	}
	vt := pos - int64(int32(binary.LittleEndian.Uint32(buf[pos:])))
	if vt < 0 || vt > n-4 {
		return invalid("vtable offset %d outside buffer of %d bytes", vt, n)
	}
	vtLen := int64(binary.LittleEndian.Uint16(buf[vt:]))
	if vtLen < 4 || vtLen%2 != 0 || vtLen > n-vt {
		return invalid("vtable size %d at %d invalid for buffer of %d bytes", vtLen, vt, n)
	}
	objLen := int64(binary.LittleEndian.Uint16(buf[vt+2:]))
	return invalid("table size %d at %d invalid for buffer of %d bytes", objLen, pos, n)
}

// Pos returns the table's offset in the buffer, as expected by the
// generated Init methods.
func (t Table) Pos() flatbuffers.UOffsetT { return flatbuffers.UOffsetT(t.pos()) }

// slot returns the offset of field inside the object, 0 when the field is
// absent. ok is false for a field number out of range or a Table that was
// not verified (fieldErr says which).
func (t *Table) slot(field int) (off int64, ok bool) {
	if t.buf == nil || uint(field) > maxField {
		return 0, false
	}
	s := int64(4 + 2*field)
	if s+2 > t.vtLen() {
		return 0, true // beyond a short vtable: absent
	}
	return int64(binary.LittleEndian.Uint16(t.buf[t.vt()+s:])), true
}

// fieldErr is the error of a slot that is not ok.
func (t *Table) fieldErr(field int) error {
	if t.buf == nil {
		return invalid("table not verified")
	}
	return invalid("field number %d out of range", field)
}

// Scalar checks that the inline field (a scalar or struct of size bytes)
// lies inside the table.
func (t Table) Scalar(field, size int) error {
	off, ok := t.slot(field)
	if ok && (off == 0 || size >= 0 && off+int64(size) <= t.objLen()) {
		return nil
	}
	return t.scalarErr(field, size, off, ok)
}

func (t *Table) scalarErr(field, size int, off int64, ok bool) error {
	if !ok {
		return t.fieldErr(field)
	}
	return invalid("field %d (%d bytes at %d) outside table of %d bytes", field, size, off, t.objLen())
}

// indirect follows the 32-bit offset stored in field to its target; target
// is 0 when the field is absent (a target is never 0: it lies behind the
// root offset). ok is false when the field is out of range, the Table not
// verified, or the target outside the buffer (indirectErr says which).
func (t *Table) indirect(field int) (target int64, ok bool) {
	off, ok := t.slot(field)
	if !ok || off == 0 {
		return 0, ok
	}
	if off+4 > t.objLen() {
		return 0, false
	}
	at := t.pos() + off
	target = at + int64(binary.LittleEndian.Uint32(t.buf[at:]))
	return target, target <= int64(len(t.buf))-4
}

// indirectErr is the error of an indirect that is not ok.
func (t *Table) indirectErr(field int) error {
	off, ok := t.slot(field)
	if !ok {
		return t.fieldErr(field)
	}
	if off+4 > t.objLen() {
		return invalid("field %d offset at %d outside table of %d bytes", field, off, t.objLen())
	}
	at := t.pos() + off
	target := at + int64(binary.LittleEndian.Uint32(t.buf[at:]))
	return invalid("field %d points to %d outside buffer of %d bytes", field, target, len(t.buf))
}

// Vector checks the vector of elemSize-byte scalars or structs referenced
// by field and returns its length (0 when absent).
func (t Table) Vector(field, elemSize int) (int, error) {
	target, ok := t.indirect(field)
	if !ok {
		return 0, t.indirectErr(field)
	}
	if target == 0 {
		return 0, nil
	}
	n := int64(binary.LittleEndian.Uint32(t.buf[target:]))
	if elemSize < 0 || elemSize > MaxSize || n*int64(elemSize) > int64(len(t.buf))-target-4 {
		return 0, t.vectorErr(field, elemSize, target, n)
	}
	return int(n), nil
}

func (t *Table) vectorErr(field, elemSize int, target, n int64) error {
	if elemSize < 0 || elemSize > MaxSize {
		return invalid("element size %d out of range", elemSize)
	}
	return invalid("vector field %d: %d elements of %d bytes at %d exceed buffer of %d bytes",
		field, n, elemSize, target, len(t.buf))
}

// String checks the string referenced by field, including its NUL
// terminator.
func (t Table) String(field int) error {
	target, ok := t.indirect(field)
	if !ok {
		return t.indirectErr(field)
	}
	if target == 0 {
		return nil
	}
	end := target + 4 + int64(binary.LittleEndian.Uint32(t.buf[target:])) // index of the terminator
	if end >= int64(len(t.buf)) || t.buf[end] != 0 {
		return t.stringErr(field, target)
	}
	return nil
}

func (t *Table) stringErr(field int, target int64) error {
	n := int64(binary.LittleEndian.Uint32(t.buf[target:]))
	if target+4+n >= int64(len(t.buf)) {
		return invalid("string field %d: %d bytes at %d exceed buffer of %d bytes", field, n, target, len(t.buf))
	}
	return invalid("string field %d is not NUL-terminated", field)
}

// Table checks the header of the sub-table referenced by field. ok is false
// when the field is absent.
func (t Table) Table(field int) (sub Table, ok bool, err error) {
	target, ok := t.indirect(field)
	if !ok {
		return Table{}, false, t.indirectErr(field)
	}
	if target == 0 {
		return Table{}, false, nil
	}
	sub, err = tableAt(t.buf, target, t.depth()+1)
	return sub, err == nil, err
}

//go:noinline
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: flatbuffers: %s", codec.ErrInvalid, fmt.Sprintf(format, args...))
}
