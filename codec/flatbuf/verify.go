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
	buf    []byte
	pos    int64 // table start
	vt     int64 // vtable start
	vtLen  int64 // vtable size in bytes
	objLen int64 // inline object size in bytes
	depth  int
}

// VerifyRoot checks the root table of the finished (not size-prefixed)
// buffer buf. If ident is not empty, the buffer must carry that 4-byte file
// identifier. Errors wrap [codec.ErrInvalid].
func VerifyRoot(buf []byte, ident string) (Table, error) {
	n := len(buf)
	if n > MaxSize {
		return Table{}, invalid("buffer of %d bytes exceeds %d", n, MaxSize)
	}
	if ident != "" {
		if len(ident) != identLen {
			return Table{}, invalid("file identifier %q is not %d bytes", ident, identLen)
		}
		if n < 8 || string(buf[4:8]) != ident {
			return Table{}, invalid("missing file identifier %q", ident)
		}
	}
	if n < 4 {
		return Table{}, invalid("buffer of %d bytes has no root offset", n)
	}
	return tableAt(buf, int64(binary.LittleEndian.Uint32(buf)), 1)
}

func tableAt(buf []byte, pos int64, depth int) (Table, error) {
	n := int64(len(buf))
	if depth > MaxDepth {
		return Table{}, invalid("tables nested deeper than %d", MaxDepth)
	}
	if pos < 0 || pos > n-4 {
		return Table{}, invalid("table offset %d outside buffer of %d bytes", pos, n)
	}
	vt := pos - int64(int32(binary.LittleEndian.Uint32(buf[pos:])))
	if vt < 0 || vt > n-4 {
		return Table{}, invalid("vtable offset %d outside buffer of %d bytes", vt, n)
	}
	vtLen := int64(binary.LittleEndian.Uint16(buf[vt:]))
	objLen := int64(binary.LittleEndian.Uint16(buf[vt+2:]))
	if vtLen < 4 || vtLen%2 != 0 || vtLen > n-vt {
		return Table{}, invalid("vtable size %d at %d invalid for buffer of %d bytes", vtLen, vt, n)
	}
	if objLen < 4 || objLen > n-pos {
		return Table{}, invalid("table size %d at %d invalid for buffer of %d bytes", objLen, pos, n)
	}
	return Table{buf: buf, pos: pos, vt: vt, vtLen: vtLen, objLen: objLen, depth: depth}, nil
}

// Pos returns the table's offset in the buffer, as expected by the
// generated Init methods.
func (t Table) Pos() flatbuffers.UOffsetT { return flatbuffers.UOffsetT(t.pos) }

// field returns the offset of field inside the object, or ok=false when the
// field is absent.
func (t Table) field(field int) (off int64, ok bool, err error) {
	if t.buf == nil {
		return 0, false, invalid("table not verified")
	}
	if field < 0 || field > maxField {
		return 0, false, invalid("field number %d out of range", field)
	}
	slot := int64(4 + 2*field)
	if slot+2 > t.vtLen {
		return 0, false, nil
	}
	off = int64(binary.LittleEndian.Uint16(t.buf[t.vt+slot:]))
	return off, off != 0, nil
}

// Scalar checks that the inline field (a scalar or struct of size bytes)
// lies inside the table.
func (t Table) Scalar(field, size int) error {
	off, ok, err := t.field(field)
	if !ok {
		return err
	}
	if size < 0 || off+int64(size) > t.objLen {
		return invalid("field %d (%d bytes at %d) outside table of %d bytes", field, size, off, t.objLen)
	}
	return nil
}

// indirect follows the 32-bit offset stored in field to its target.
func (t Table) indirect(field int) (target int64, ok bool, err error) {
	off, ok, err := t.field(field)
	if !ok {
		return 0, false, err
	}
	if off+4 > t.objLen {
		return 0, false, invalid("field %d offset at %d outside table of %d bytes", field, off, t.objLen)
	}
	at := t.pos + off
	target = at + int64(binary.LittleEndian.Uint32(t.buf[at:]))
	if target > int64(len(t.buf))-4 {
		return 0, false, invalid("field %d points to %d outside buffer of %d bytes", field, target, len(t.buf))
	}
	return target, true, nil
}

// Vector checks the vector of elemSize-byte scalars or structs referenced
// by field and returns its length (0 when absent).
func (t Table) Vector(field, elemSize int) (int, error) {
	target, ok, err := t.indirect(field)
	if !ok {
		return 0, err
	}
	if elemSize < 0 || elemSize > MaxSize {
		return 0, invalid("element size %d out of range", elemSize)
	}
	n := int64(binary.LittleEndian.Uint32(t.buf[target:]))
	if n*int64(elemSize) > int64(len(t.buf))-target-4 {
		return 0, invalid("vector field %d: %d elements of %d bytes at %d exceed buffer of %d bytes",
			field, n, elemSize, target, len(t.buf))
	}
	return int(n), nil
}

// String checks the string referenced by field, including its NUL
// terminator.
func (t Table) String(field int) error {
	target, ok, err := t.indirect(field)
	if !ok {
		return err
	}
	n := int64(binary.LittleEndian.Uint32(t.buf[target:]))
	end := target + 4 + n // index of the terminator
	if end >= int64(len(t.buf)) {
		return invalid("string field %d: %d bytes at %d exceed buffer of %d bytes", field, n, target, len(t.buf))
	}
	if t.buf[end] != 0 {
		return invalid("string field %d is not NUL-terminated", field)
	}
	return nil
}

// Table checks the header of the sub-table referenced by field. ok is false
// when the field is absent.
func (t Table) Table(field int) (sub Table, ok bool, err error) {
	target, ok, err := t.indirect(field)
	if !ok {
		return Table{}, false, err
	}
	sub, err = tableAt(t.buf, target, t.depth+1)
	return sub, err == nil, err
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: flatbuffers: %s", codec.ErrInvalid, fmt.Sprintf(format, args...))
}
