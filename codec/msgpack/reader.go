package msgpack

import (
	"io"
	"sort"
)

// frameReader is the decoder's view of a frame: a bytes.Reader that also
// refuses to hand out a type code from inside an extension body. The
// library reads extension bodies with Read as opaque bytes, except where
// a Go map is expected: there it skips the extension header and decodes
// the body as MessagePack, continuing past its end. That parse diverges
// from the one [check] walked, and so escapes its bounds (a 9-byte frame
// could ask for a 60 GiB slice). Refusing the first code read inside a
// body keeps the decoder on the walked path.
type frameReader struct {
	b    []byte
	i    int
	exts []int // [start, end) pairs of extension bodies, ascending
}

func (r *frameReader) reset(b []byte, exts []int) { r.b, r.i, r.exts = b, 0, exts }

// Len returns the number of unread bytes.
func (r *frameReader) Len() int { return len(r.b) - r.i }

// Read copies the next bytes into p.
func (r *frameReader) Read(p []byte) (int, error) {
	if r.i >= len(r.b) {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	n := copy(p, r.b[r.i:])
	r.i += n
	return n, nil
}

// ReadByte returns the next byte, which the decoder always reads as a
// type code or a header byte, never as extension data.
func (r *frameReader) ReadByte() (byte, error) {
	if r.i >= len(r.b) {
		return 0, io.EOF
	}
	if len(r.exts) > 0 && r.inExtBody(r.i) {
		return 0, errExtBody
	}
	c := r.b[r.i]
	r.i++
	return c, nil
}

// UnreadByte steps back one byte (the decoder peeks at codes).
func (r *frameReader) UnreadByte() error {
	if r.i == 0 {
		return io.EOF
	}
	r.i--
	return nil
}

func (r *frameReader) inExtBody(pos int) bool {
	k := len(r.exts) / 2
	j := sort.Search(k, func(j int) bool { return r.exts[2*j+1] > pos }) // first body ending after pos
	return j < k && r.exts[2*j] <= pos
}
