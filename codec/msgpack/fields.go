package msgpack

import (
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
)

var errUnknownField = errors.New("unknown field")

// fieldSet is the set of map keys of T's encoded fields. Structs have few
// fields: a linear scan over them costs less than hashing the key, and
// keys of 1 to 7 bytes, the usual field names, are compared as packed
// integers (see pack) instead of with a call per name.
type fieldSet struct {
	names  []string
	packed []uint64 // pack(names[i]), or 0 for a name pack does not take
}

// pack returns the bytes of a key of 1 to 7 bytes in the low 56 bits of
// a word and its length in the top 8, so that two such keys are equal
// exactly when their words are; 0 (no key has that word) for any other
// length.
func pack(key []byte) uint64 {
	n := len(key)
	if n < 1 || n > 7 {
		return 0
	}
	v := uint64(n) << 56
	for i, c := range key {
		v |= uint64(c) << (8 * i)
	}
	return v
}

func (f *fieldSet) has(key []byte) bool {
	if v := pack(key); v != 0 {
		for _, p := range f.packed {
			if p == v {
				return true
			}
		}
		return false
	}
	for _, k := range f.names {
		if k == string(key) {
			return true
		}
	}
	return false
}

// knownFields returns the map keys of T's encoded fields, for refusing
// unknown fields in front of a generated decoder (which skips them), or
// nil when T is not a plain struct: then no key check is made.
func knownFields(t reflect.Type) *fieldSet {
	if t.Kind() != reflect.Struct || t == timeType {
		return nil
	}
	m := &fieldSet{}
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous {
			return nil // embedded fields: layouts differ between libraries
		}
		if key, ok := fieldKey(f); ok {
			m.names = append(m.names, key)
			m.packed = append(m.packed, pack([]byte(key)))
		}
	}
	return m
}

// flat reports whether t is a struct of scalars, strings and byte slices
// only. Generated code for such a type checks every length it reads
// against the bytes left and sizes nothing from a declared count, so the
// walk of check (which bounds the allocations of containers) is not
// needed in front of it.
func flat(t reflect.Type) bool {
	if t.Kind() != reflect.Struct || t == timeType {
		return false
	}
	for i := range t.NumField() {
		switch ft := t.Field(i).Type; ft.Kind() {
		case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
			reflect.Float32, reflect.Float64, reflect.String:
		case reflect.Slice:
			if ft.Elem().Kind() != reflect.Uint8 {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// checkKeys refuses a top-level map in b with a key that is not in
// fields. Other top-level values are left to the decoder. It stays inside
// b whatever b holds.
func checkKeys(b []byte, fields *fieldSet) error {
	n, i, ok := mapHeader(b)
	if !ok {
		return nil
	}
	for range n {
		key, next, ok := strAt(b, i)
		if !ok {
			return fmt.Errorf("%w: map key at %d is not a string", errUnknownField, i)
		}
		if !fields.has(key) {
			return fmt.Errorf("%w %q", errUnknownField, key)
		}
		if i = skipValue(b, next); i < 0 {
			return errTruncated
		}
	}
	return nil
}

// skipValue is skip with the values of struct fields inline: scalars of
// a fixed size and short strings, which make up most fields, cost a
// switch instead of a call.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	var adv int
	switch c := b[i]; {
	case c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3:
		adv = 1 // positive or negative fixint, nil, false, true
	case c&0xe0 == 0xa0:
		adv = 1 + int(c&0x1f) // fixstr
	case c == 0xcc || c == 0xd0:
		adv = 2 // uint8, int8
	case c == 0xcd || c == 0xd1:
		adv = 3 // uint16, int16
	case c == 0xca || c == 0xce || c == 0xd2:
		adv = 5 // float32, uint32, int32
	case c == 0xcb || c == 0xcf || c == 0xd3:
		adv = 9 // float64, uint64, int64
	default:
		return skip(b, i)
	}
	if adv > len(b)-i {
		return -1
	}
	return i + adv
}

// mapHeader decodes the map header at the start of b.
func mapHeader(b []byte) (n, next int, ok bool) {
	switch {
	case len(b) >= 1 && b[0]&0xf0 == 0x80:
		return int(b[0] & 0x0f), 1, true
	case len(b) >= 3 && b[0] == 0xde:
		return int(binary.BigEndian.Uint16(b[1:])), 3, true
	case len(b) >= 5 && b[0] == 0xdf:
		return int(binary.BigEndian.Uint32(b[1:])), 5, true
	}
	return 0, 0, false
}

// strAt returns the string at b[i:] and the index after it.
func strAt(b []byte, i int) (s []byte, next int, ok bool) {
	if i >= len(b) {
		return nil, 0, false
	}
	c := b[i]
	var n, h int
	switch {
	case c&0xe0 == 0xa0:
		n, h = int(c&0x1f), 1
	case c == 0xd9 && i+2 <= len(b):
		n, h = int(b[i+1]), 2
	case c == 0xda && i+3 <= len(b):
		n, h = int(binary.BigEndian.Uint16(b[i+1:])), 3
	case c == 0xdb && i+5 <= len(b):
		n, h = int(binary.BigEndian.Uint32(b[i+1:])), 5
	default:
		return nil, 0, false
	}
	if n > len(b)-i-h {
		return nil, 0, false
	}
	return b[i+h : i+h+n], i + h + n, true
}

// skip returns the index after the value at b[i:], or -1 if it is cut
// short.
func skip(b []byte, i int) int {
	for left := uint64(1); left > 0; left-- {
		if i >= len(b) {
			return -1
		}
		c := b[i]
		i++
		var adv uint64
		switch {
		case c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc1 || c == 0xc2 || c == 0xc3:
		case c <= 0x8f:
			left += 2 * uint64(c&0x0f)
		case c <= 0x9f:
			left += uint64(c & 0x0f)
		case c <= 0xbf:
			adv = uint64(c & 0x1f)
		default:
			n, lenBytes, extra, isMap, isArray := sizeOf(c)
			if len(b)-i < lenBytes {
				return -1
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
				left += 2 * v
			case isArray:
				left += v
			case lenBytes > 0:
				adv = v + extra
			default:
				adv = n
			}
		}
		if adv > uint64(len(b)-i) {
			return -1
		}
		i += int(adv)
	}
	return i
}
