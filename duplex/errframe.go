package duplex

import (
	"encoding/binary"
	"strings"
	"unicode/utf8"
)

// Error responses are ordinary v1 frames (docs/PROTOCOL.md section 12 adds no framing)
// that begin with a reserved marker:
//
//	offset 0   8 bytes  ErrorMarker  "\xffZBERR\x00\x01"
//	offset 8   u32 LE   n, the length of the message
//	offset 12  n bytes  message, UTF-8
//	offset 12+n         padding, ignored (zero bytes)
//
// Every other frame is a successful response, byte for byte what the
// handler wrote.

// ErrorMarker is the 8-byte prefix of every error response. The last byte
// is the version of the layout (1). A successful response must not begin
// with these bytes; a client would read it as an error.
const ErrorMarker = "\xffZBERR\x00\x01"

// MaxErrorMessage is the largest handler message, in bytes, that an error
// response carries; longer messages are cut at a UTF-8 boundary.
const MaxErrorMessage = 4096

// errFrameMin is the size of an error response with an empty message.
const errFrameMin = len(ErrorMarker) + 4

// AppendErrorFrame appends the error response carrying msg to dst and
// returns the extended slice. msg is made valid UTF-8 and cut to
// [MaxErrorMessage] bytes. Use it to answer a duplex client from a server
// built directly on core.
func AppendErrorFrame(dst []byte, msg string) []byte {
	msg = errorText(msg, MaxErrorMessage)
	dst = append(dst, ErrorMarker...)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(msg)))
	return append(dst, msg...)
}

// ParseErrorFrame reports whether frame is an error response and returns
// its message. A frame that starts with [ErrorMarker] is an error response
// even if its length field is out of range; the message is then the rest
// of the frame. It never panics, and copies at most a few KiB whatever
// the frame's size.
func ParseErrorFrame(frame []byte) (msg string, ok bool) {
	if len(frame) < len(ErrorMarker) || string(frame[:len(ErrorMarker)]) != ErrorMarker {
		return "", false
	}
	rest := frame[len(ErrorMarker):]
	if len(rest) < 4 {
		return "", true
	}
	n := binary.LittleEndian.Uint32(rest)
	rest = rest[4:]
	if uint64(n) <= uint64(len(rest)) {
		rest = rest[:n]
	}
	// Cut before converting: the frame is peer-controlled and may be as
	// large as the ring, the message at most MaxErrorMessage bytes (plus
	// one rune, so that a valid last rune is not split).
	if len(rest) > MaxErrorMessage+utf8.UTFMax {
		rest = rest[:MaxErrorMessage+utf8.UTFMax]
	}
	return errorText(string(rest), MaxErrorMessage), true
}

// putErrorFrame fills dst, which holds at least errFrameMin bytes, with an
// error response for msg (cut to fit) followed by zero padding.
func putErrorFrame(dst []byte, msg string) {
	msg = errorText(msg, min(MaxErrorMessage, len(dst)-errFrameMin))
	copy(dst, ErrorMarker)
	binary.LittleEndian.PutUint32(dst[len(ErrorMarker):], uint32(len(msg)))
	n := copy(dst[errFrameMin:], msg)
	clear(dst[errFrameMin+n:])
}

// errorText returns msg as valid UTF-8 of at most limit bytes, cut at a
// rune boundary.
func errorText(msg string, limit int) string {
	msg = strings.ToValidUTF8(msg, "\uFFFD")
	if limit < 0 {
		limit = 0
	}
	if len(msg) <= limit {
		return msg
	}
	n := limit
	for n > 0 && !utf8.RuneStart(msg[n]) {
		n--
	}
	return msg[:n]
}

// responseError returns the client-side error for an error response, or
// nil for a successful one.
func responseError(frame []byte) error {
	msg, ok := ParseErrorFrame(frame)
	if !ok {
		return nil
	}
	return &HandlerError{Message: msg}
}
