package msgpack

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// MaxDepth is the deepest nesting of arrays and maps that Decode accepts.
// Deeper input is refused before the decoder sees it: the decoder recurses
// once per level, and a frame of nested one-element arrays could otherwise
// exhaust the goroutine stack, which is a fatal error, not a panic.
const MaxDepth = 1000

var (
	errTruncated = errors.New("truncated value")
	errBadByte   = errors.New("reserved byte 0xc1")
	errTooDeep   = fmt.Errorf("nesting deeper than %d", MaxDepth)
	errTooMany   = errors.New("declared element count exceeds the bytes left")
	errExtBody   = errors.New("extension body read as MessagePack")
)

// check walks the single MessagePack value that must fill b without
// decoding it, and refuses input whose declared lengths or element counts
// cannot fit in the bytes that remain, which nests deeper than MaxDepth,
// or which has trailing bytes. It runs before the reflection decoder so
// that a hostile frame cannot make it allocate more than a small multiple
// of the frame's size (the decoder sizes slices from declared counts) or
// recurse without bound. The bodies of extension values are opaque to the
// walk; their [start, end) ranges are appended to exts so that
// [frameReader] can refuse a decoder that reads one as MessagePack (the
// library does that where a Go map is expected), which would take it off
// the walked path. stack and exts are scratch space, returned for reuse.
func check(b []byte, stack []uint64, exts []int) ([]uint64, []int, error) {
	stack, exts = stack[:0], exts[:0]
	left := uint64(1) // values still to read at the current level
	owed := uint64(1) // values still to read at all levels
	i := 0
	for {
		for left == 0 {
			if len(stack) == 0 {
				if i != len(b) {
					return stack, exts, fmt.Errorf("%d trailing bytes", len(b)-i)
				}
				return stack, exts, nil
			}
			left = stack[len(stack)-1]
			stack = stack[:len(stack)-1]
		}
		if i >= len(b) {
			return stack, exts, errTruncated
		}
		left--
		owed--
		c := b[i]
		i++
		var skip uint64 // payload bytes after the type byte and length
		var items uint64
		container := false
		switch {
		case c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3:
		case c <= 0x8f:
			items, container = 2*uint64(c&0x0f), true
		case c <= 0x9f:
			items, container = uint64(c&0x0f), true
		case c <= 0xbf:
			skip = uint64(c & 0x1f)
		case c == 0xc1:
			return stack, exts, errBadByte
		default:
			n, lenBytes, extra, isMap, isArray := sizeOf(c)
			if len(b)-i < lenBytes {
				return stack, exts, errTruncated
			}
			var v uint64
			switch lenBytes {
			case 1:
				v = uint64(b[i])
			case 2:
				v = uint64(binary.BigEndian.Uint16(b[i:]))
			case 4:
				v = uint64(binary.BigEndian.Uint32(b[i:]))
			}
			i += lenBytes
			switch {
			case isMap:
				items, container = 2*v, true
			case isArray:
				items, container = v, true
			case lenBytes > 0:
				skip = v + extra
			default:
				skip = n
			}
		}
		rest := uint64(len(b) - i)
		if skip > rest {
			return stack, exts, errTruncated
		}
		if isExt(c) { // body: after the type byte, skip-1 bytes
			exts = append(exts, i+1, i+int(skip))
		}
		i += int(skip)
		if container && items > 0 {
			// Every value takes at least one byte, so a count larger than
			// the bytes left (less those already owed) is a lie.
			owed += items
			if owed > uint64(len(b)-i) {
				return stack, exts, errTooMany
			}
			if len(stack) >= MaxDepth {
				return stack, exts, errTooDeep
			}
			stack = append(stack, left)
			left = items
		}
	}
}

// isExt reports whether c starts an extension value (fixext1..16 or
// ext8/16/32).
func isExt(c byte) bool { return (c >= 0xd4 && c <= 0xd8) || (c >= 0xc7 && c <= 0xc9) }

// sizeOf describes the type bytes 0xc4..0xdf: n is the fixed payload size
// for types without a length field; lenBytes is the width of the length
// field; extra is the payload bytes beyond the declared length (the ext
// type byte).
func sizeOf(c byte) (n uint64, lenBytes int, extra uint64, isMap, isArray bool) {
	switch c {
	case 0xc4, 0xd9: // bin8, str8
		return 0, 1, 0, false, false
	case 0xc5, 0xda: // bin16, str16
		return 0, 2, 0, false, false
	case 0xc6, 0xdb: // bin32, str32
		return 0, 4, 0, false, false
	case 0xc7: // ext8
		return 0, 1, 1, false, false
	case 0xc8: // ext16
		return 0, 2, 1, false, false
	case 0xc9: // ext32
		return 0, 4, 1, false, false
	case 0xca: // float32
		return 4, 0, 0, false, false
	case 0xcb: // float64
		return 8, 0, 0, false, false
	case 0xcc, 0xd0: // uint8, int8
		return 1, 0, 0, false, false
	case 0xcd, 0xd1: // uint16, int16
		return 2, 0, 0, false, false
	case 0xce, 0xd2: // uint32, int32
		return 4, 0, 0, false, false
	case 0xcf, 0xd3: // uint64, int64
		return 8, 0, 0, false, false
	case 0xd4: // fixext1
		return 2, 0, 0, false, false
	case 0xd5: // fixext2
		return 3, 0, 0, false, false
	case 0xd6: // fixext4
		return 5, 0, 0, false, false
	case 0xd7: // fixext8
		return 9, 0, 0, false, false
	case 0xd8: // fixext16
		return 17, 0, 0, false, false
	case 0xdc: // array16
		return 0, 2, 0, false, true
	case 0xdd: // array32
		return 0, 4, 0, false, true
	case 0xde: // map16
		return 0, 2, 0, true, false
	default: // 0xdf map32
		return 0, 4, 0, true, false
	}
}
