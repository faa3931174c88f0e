package sensor

import (
	"bytes"
	"fmt"

	flatbuffers "github.com/google/flatbuffers/go"

	"github.com/zerobuffer/zerobuffer-go/codec"
	"github.com/zerobuffer/zerobuffer-go/codec/flatbuf"
)

// CodecName is the codec name of the sensor.Reading codecs.
const CodecName = flatbuf.NamePrefix + "sensor.Reading"

// FileIdentifier is the schema's file_identifier; every encoded Reading
// carries it at bytes 4..8.
const FileIdentifier = "ZBSR"

// Field indexes of table Reading, in schema order.
const (
	fieldID = iota
	fieldTimestamp
	fieldValues
	fieldName
)

// Verify checks that buf is a complete Reading buffer: file identifier,
// root table, vtable, and every field the generated accessors read (id,
// timestamp, the values vector and the name string) lies inside buf. It
// returns the verified root table. Errors wrap [codec.ErrInvalid].
func Verify(buf []byte) (flatbuf.Table, error) {
	t, err := flatbuf.VerifyRoot(buf, FileIdentifier)
	if err != nil {
		return t, err
	}
	if err := t.Scalar(fieldID, 4); err != nil {
		return t, err
	}
	if err := t.Scalar(fieldTimestamp, 8); err != nil {
		return t, err
	}
	if _, err := t.Vector(fieldValues, 8); err != nil {
		return t, err
	}
	return t, t.String(fieldName)
}

// View verifies buf and returns the Reading at its root, as a view over
// buf (no copy, no allocation). Errors wrap [codec.ErrInvalid].
func View(buf []byte) (Reading, error) {
	var r Reading
	t, err := Verify(buf)
	if err != nil {
		return r, err
	}
	r.Init(buf, t.Pos())
	return r, nil
}

// NewEncoder returns the encoder for *ReadingT values (object API), named
// [CodecName], finishing buffers with [FileIdentifier]. Encoding a nil
// *ReadingT fails with an error wrapping [codec.ErrEncode].
func NewEncoder() *flatbuf.Encoder[*ReadingT] {
	return must(flatbuf.NewEncoder(CodecName, packChecked, flatbuf.WithFileIdentifier(FileIdentifier),
		flatbuf.WithSizeBound(sizeBound)))
}

// sizeBound bounds the finished size of a Reading: the root offset and
// file identifier (8), the vtable (4 + 2 per field), the table (a vtable
// offset, id, timestamp and two offsets: 24, plus alignment), the values
// vector (length 4, data 8 each, alignment up to 4) and the name (length
// 4, bytes, NUL, alignment up to 3), plus slack for the builder, which
// grows one byte before it is full (TestSizeBound checks the bound).
func sizeBound(t *ReadingT) int {
	if t == nil {
		return 0
	}
	return 8 + (4 + 2*4) + (24 + 8) + (4 + 8*len(t.Values) + 4) + (4 + len(t.Name) + 1 + 3) + 16
}

func packChecked(b *flatbuffers.Builder, t *ReadingT) flatbuffers.UOffsetT {
	if t == nil {
		panic("sensor: nil *ReadingT") // recovered by flatbuf.Encoder as codec.ErrEncode
	}
	return pack(b, t)
}

// NewDecoder returns the zero-copy decoder: its View results are
// [Reading] views over the frame.
func NewDecoder() *flatbuf.Decoder[Reading] {
	return must(flatbuf.NewDecoder(CodecName, View))
}

// ObjectDecoder is an owning [codec.Decoder] for the Reading schema: it
// copies the frame into private memory, verifies the copy and unpacks it
// into a new *ReadingT (allocating the values slice and the name string),
// which stays valid after the frame is released. Use it where a value must
// outlive its frame, e.g. with typed.Receiver.Recv or a channel.
//
// The frame is read once: verifying shared memory and then unpacking it
// again would let a writer that changes the bytes in between (a vector
// length, an offset) make the unpacking run outside what was verified.
type ObjectDecoder struct{}

// NewObjectDecoder returns an [ObjectDecoder].
func NewObjectDecoder() ObjectDecoder { return ObjectDecoder{} }

// Name returns [CodecName].
func (ObjectDecoder) Name() string { return CodecName }

// Decode copies frame, verifies the copy and unpacks it into a new
// *ReadingT. Errors wrap [codec.ErrInvalid]; a panic while unpacking (which
// the verifier should make impossible) is recovered into such an error.
// The copy is the frame's size; the result allocates the values slice and
// the name string.
func (ObjectDecoder) Decode(frame []byte) (r *ReadingT, err error) {
	defer func() {
		if p := recover(); p != nil {
			r, err = nil, fmt.Errorf("%w: %s: unpack panicked: %v", codec.ErrInvalid, CodecName, p)
		}
	}()
	buf := bytes.Clone(frame)
	v, err := View(buf)
	if err != nil {
		return nil, err
	}
	return unpack(&v), nil
}

var _ codec.Decoder[*ReadingT] = ObjectDecoder{}

// must unwraps constructors whose arguments are constants of this package;
// an error there is a programming error caught by the package tests.
func must[T any](v T, err error) T {
	if err != nil {
		panic(fmt.Sprintf("sensor: %v", err))
	}
	return v
}
