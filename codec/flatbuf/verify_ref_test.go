package flatbuf

import (
	"encoding/binary"
	"testing"

	flatbuffers "github.com/google/flatbuffers/go"
)

// The verifier before its fast paths were split from its error paths
// (refTable, refVerifyRoot): FuzzVerifierDifferential checks that the
// current one accepts and rejects exactly the same inputs with the same
// messages and results.

type refTable struct {
	buf    []byte
	pos    int64 // table start
	vt     int64 // vtable start
	vtLen  int64 // vtable size in bytes
	objLen int64 // inline object size in bytes
	depth  int
}

func refVerifyRoot(buf []byte, ident string) (refTable, error) {
	n := len(buf)
	if n > MaxSize {
		return refTable{}, invalid("buffer of %d bytes exceeds %d", n, MaxSize)
	}
	if ident != "" {
		if len(ident) != identLen {
			return refTable{}, invalid("file identifier %q is not %d bytes", ident, identLen)
		}
		if n < 8 || string(buf[4:8]) != ident {
			return refTable{}, invalid("missing file identifier %q", ident)
		}
	}
	if n < 4 {
		return refTable{}, invalid("buffer of %d bytes has no root offset", n)
	}
	return refTableAt(buf, int64(binary.LittleEndian.Uint32(buf)), 1)
}

func refTableAt(buf []byte, pos int64, depth int) (refTable, error) {
	n := int64(len(buf))
	if depth > MaxDepth {
		return refTable{}, invalid("tables nested deeper than %d", MaxDepth)
	}
	if pos < 0 || pos > n-4 {
		return refTable{}, invalid("table offset %d outside buffer of %d bytes", pos, n)
	}
	vt := pos - int64(int32(binary.LittleEndian.Uint32(buf[pos:])))
	if vt < 0 || vt > n-4 {
		return refTable{}, invalid("vtable offset %d outside buffer of %d bytes", vt, n)
	}
	vtLen := int64(binary.LittleEndian.Uint16(buf[vt:]))
	objLen := int64(binary.LittleEndian.Uint16(buf[vt+2:]))
	if vtLen < 4 || vtLen%2 != 0 || vtLen > n-vt {
		return refTable{}, invalid("vtable size %d at %d invalid for buffer of %d bytes", vtLen, vt, n)
	}
	if objLen < 4 || objLen > n-pos {
		return refTable{}, invalid("table size %d at %d invalid for buffer of %d bytes", objLen, pos, n)
	}
	return refTable{buf: buf, pos: pos, vt: vt, vtLen: vtLen, objLen: objLen, depth: depth}, nil
}

func (t refTable) Pos() uint32 { return uint32(t.pos) }

func (t refTable) field(field int) (off int64, ok bool, err error) {
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

func (t refTable) Scalar(field, size int) error {
	off, ok, err := t.field(field)
	if !ok {
		return err
	}
	if size < 0 || off+int64(size) > t.objLen {
		return invalid("field %d (%d bytes at %d) outside table of %d bytes", field, size, off, t.objLen)
	}
	return nil
}

func (t refTable) indirect(field int) (target int64, ok bool, err error) {
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

func (t refTable) Vector(field, elemSize int) (int, error) {
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

func (t refTable) String(field int) error {
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

func (t refTable) Table(field int) (sub refTable, ok bool, err error) {
	target, ok, err := t.indirect(field)
	if !ok {
		return refTable{}, false, err
	}
	sub, err = refTableAt(t.buf, target, t.depth+1)
	return sub, err == nil, err
}

// FuzzVerifierDifferential runs both verifiers over the same buffer and
// field questions and requires identical answers, error text included.
func FuzzVerifierDifferential(f *testing.F) {
	f.Add([]byte{12, 0, 0, 0, 'Z', 'B', 'S', 'R', 6, 0, 8, 0, 6, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0}, true, uint8(0), uint8(4))
	f.Add([]byte{4, 0, 0, 0, 0, 0, 0, 0}, false, uint8(1), uint8(8))
	for fld := range 6 {
		f.Add(refSample(), true, uint8(fld+1), uint8(8+4))
		f.Add(refSample(), true, uint8(fld+1), uint8(8+8))
	}
	f.Fuzz(func(t *testing.T, buf []byte, withIdent bool, field, size uint8) {
		ident := ""
		if withIdent {
			ident = "ZBSR"
		}
		got, gerr := VerifyRoot(buf, ident)
		want, werr := refVerifyRoot(buf, ident)
		same(t, "VerifyRoot", gerr, werr)
		if gerr != nil {
			return
		}
		if got.pos() != want.pos || got.vt() != want.vt || got.vtLen() != want.vtLen || got.objLen() != want.objLen || got.depth() != want.depth {
			t.Fatalf("VerifyRoot: table %+v, reference %+v", got, want)
		}
		fld, sz := int(field%20)-1, int(size)-8 // a few out-of-range fields and negative sizes too
		same(t, "Scalar", got.Scalar(fld, sz), want.Scalar(fld, sz))
		same(t, "String", got.String(fld), want.String(fld))
		gn, gerr := got.Vector(fld, sz)
		wn, werr := want.Vector(fld, sz)
		same(t, "Vector", gerr, werr)
		if gn != wn {
			t.Fatalf("Vector: %d elements, reference %d", gn, wn)
		}
		gs, gok, gerr := got.Table(fld)
		ws, wok, werr := want.Table(fld)
		same(t, "Table", gerr, werr)
		if gok != wok || gok && (gs.pos() != ws.pos || gs.vt() != ws.vt || gs.depth() != ws.depth) {
			t.Fatalf("Table: %+v %v, reference %+v %v", gs, gok, ws, wok)
		}
		same(t, "unverified Scalar", (Table{}).Scalar(fld, sz), (refTable{}).Scalar(fld, sz))
	})
}

func same(t *testing.T, what string, got, want error) {
	t.Helper()
	if (got == nil) != (want == nil) || got != nil && got.Error() != want.Error() {
		t.Fatalf("%s: %v, reference %v", what, got, want)
	}
}

// refSample builds a buffer whose root table has a uint32 (field 0), an
// int64 (1), a vector of doubles (2), a string (3) and a sub-table (4)
// holding a uint32 and a string.
func refSample() []byte {
	b := flatbuffers.NewBuilder(256)
	subName := b.CreateString("inner")
	b.StartObject(2)
	b.PrependUint32Slot(0, 7, 0)
	b.PrependUOffsetTSlot(1, subName, 0)
	sub := b.EndObject()
	name := b.CreateString("reading")
	b.StartVector(8, 3, 8)
	for _, v := range []float64{3, 2, 1} {
		b.PrependFloat64(v)
	}
	vec := b.EndVector(3)
	b.StartObject(5)
	b.PrependUint32Slot(0, 42, 0)
	b.PrependInt64Slot(1, -5, 0)
	b.PrependUOffsetTSlot(2, vec, 0)
	b.PrependUOffsetTSlot(3, name, 0)
	b.PrependUOffsetTSlot(4, sub, 0)
	b.FinishWithFileIdentifier(b.EndObject(), []byte("ZBSR"))
	return b.FinishedBytes()
}
