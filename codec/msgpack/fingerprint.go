package msgpack

import (
	"fmt"
	"hash/fnv"
	"reflect"
	"strings"
	"time"
)

// fingerprint returns "TYPE@DIGEST" for T: TYPE is T's Go name (with bytes
// outside the codec-name set replaced by '_', cut to fit), DIGEST the
// FNV-64a hash of T's wire layout (see layoutOf), so that a type with the
// same layout under another name (a copy of the struct without generated
// methods, the same struct in another program) matches.
func fingerprint(t reflect.Type) string {
	var b strings.Builder
	layoutOf(&b, t, 0)
	h := fnv.New64a()
	h.Write([]byte(b.String()))
	digest := fmt.Sprintf("%016x", h.Sum64())
	name := []byte(t.String())
	for i, c := range name {
		if !fpByte(c) {
			name[i] = '_'
		}
	}
	if len(name) == 0 {
		name = []byte("_")
	}
	if max := 128 - 1 - len(digest); len(name) > max {
		name = name[:max]
	}
	return string(name) + "@" + digest
}

func fpByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("._:/+-", c) >= 0
}

var timeType = reflect.TypeFor[time.Time]()

// layoutOf writes what of t the MessagePack encoding depends on: struct
// field keys (the msgpack tag's name, else the msg tag's, else the Go
// name; "-" fields and unexported ones skipped) in order with their
// layouts, element and key layouts of containers, and the kind of
// everything else. Integer widths and signedness are kept, although both
// libraries read any width: a changed field type is worth a refusal.
func layoutOf(b *strings.Builder, t reflect.Type, depth int) {
	if depth > 16 {
		b.WriteString("...")
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		b.WriteByte('*')
		layoutOf(b, t.Elem(), depth+1)
	case reflect.Struct:
		if t == timeType {
			b.WriteString("time")
			return
		}
		b.WriteByte('{')
		for i := range t.NumField() {
			f := t.Field(i)
			key, ok := fieldKey(f)
			if !ok {
				continue
			}
			b.WriteString(key)
			b.WriteByte(':')
			layoutOf(b, f.Type, depth+1)
			b.WriteByte(',')
		}
		b.WriteByte('}')
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			b.WriteString("bin")
			return
		}
		b.WriteString("[]")
		layoutOf(b, t.Elem(), depth+1)
	case reflect.Array:
		fmt.Fprintf(b, "[%d]", t.Len())
		layoutOf(b, t.Elem(), depth+1)
	case reflect.Map:
		b.WriteString("map[")
		layoutOf(b, t.Key(), depth+1)
		b.WriteByte(']')
		layoutOf(b, t.Elem(), depth+1)
	default:
		b.WriteString(t.Kind().String())
	}
}

// fieldKey returns the map key under which f is encoded, and false for a
// field that is not encoded.
func fieldKey(f reflect.StructField) (string, bool) {
	if !f.IsExported() {
		return "", false
	}
	for _, tag := range []string{"msgpack", "msg"} {
		if v, ok := f.Tag.Lookup(tag); ok {
			name, _, _ := strings.Cut(v, ",")
			if name == "-" {
				return "", false
			}
			if name != "" {
				return name, true
			}
		}
	}
	return f.Name, true
}
