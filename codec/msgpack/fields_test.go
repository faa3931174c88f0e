package msgpack

import (
	"reflect"
	"testing"
)

// TestFieldSet_Has: field names of every length are found, the packed
// comparison of names up to 7 bytes tells apart prefixes, extensions and
// a trailing NUL, and names of 8 bytes and more take the string path.
func TestFieldSet_Has(t *testing.T) {
	type fields struct {
		A     int
		Seq   int
		Seven int `msgpack:"Exactly"`
		Eight int `msgpack:"Eightchr"`
		Long  int `msgpack:"AMuchLongerFieldName"`
	}
	f := knownFields(reflect.TypeFor[fields]())
	for _, k := range []string{"A", "Seq", "Exactly", "Eightchr", "AMuchLongerFieldName"} {
		if !f.has([]byte(k)) {
			t.Errorf("%q not found", k)
		}
	}
	for _, k := range []string{"", "B", "Se", "Seq\x00", "Exactl", "Exactly7", "Eightch", "Eightchrs",
		"AMuchLongerFieldNam", "AMuchLongerFieldNames", "a", "Seven", "Long", "\x00"} {
		if f.has([]byte(k)) {
			t.Errorf("%q found", k)
		}
	}
}

// TestSkipValue_SameAsSkip: the inline cases of skipValue give what skip
// gives, for every type byte, with the value complete and cut short.
func TestSkipValue_SameAsSkip(t *testing.T) {
	for c := range 256 {
		for _, tail := range []int{0, 1, 4, 8, 40} {
			b := make([]byte, 1+tail)
			b[0] = byte(c)
			for i := 1; i < len(b); i++ {
				b[i] = 0x01 // small lengths and counts for the types skip handles
			}
			if got, want := skipValue(b, 0), skip(b, 0); got != want {
				t.Errorf("type byte %#02x, %d bytes after it: skipValue %d, skip %d", c, tail, got, want)
			}
		}
	}
	if got := skipValue([]byte{0x01}, 1); got != -1 {
		t.Errorf("at the end: %d, want -1", got)
	}
}
