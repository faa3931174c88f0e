package msgpack_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	vmsgpack "github.com/vmihailenco/msgpack/v5"

	"github.com/zerobuffer/zerobuffer-go/codec"
	"github.com/zerobuffer/zerobuffer-go/codec/msgpack"
)

// randomValue builds a value of every MessagePack family the library
// encodes: ints of each width, floats, strings and binaries across the
// 8/16/32-bit length forms, arrays and maps across theirs, nil, bools,
// time (an ext type) and nesting.
func randomValue(r *rand.Rand, depth int) any {
	switch k := r.IntN(12); {
	case k == 0:
		return nil
	case k == 1:
		return r.IntN(2) == 0
	case k == 2:
		return r.Int64() >> r.IntN(64)
	case k == 3:
		return -r.Int64() >> r.IntN(64)
	case k == 4:
		return r.Float64()
	case k == 5:
		return float32(r.Float64())
	case k == 6:
		return string(bytes.Repeat([]byte("s"), []int{0, 5, 31, 32, 255, 256, 70000}[r.IntN(7)]))
	case k == 7:
		return bytes.Repeat([]byte{7}, []int{0, 1, 255, 256, 70000}[r.IntN(5)])
	case k == 8:
		return vmsgpack.RawMessage{0xd6, 0xff, 0, 0, 0, 1} // timestamp ext (fixext4)
	case depth > 4:
		return uint8(r.IntN(256))
	case k == 9 || k == 10:
		n := []int{0, 1, 15, 16, 20}[r.IntN(5)]
		a := make([]any, n)
		for i := range a {
			a[i] = randomValue(r, depth+1)
		}
		return a
	default:
		n := []int{0, 1, 15, 16, 17}[r.IntN(5)]
		m := make(map[string]any, n)
		for i := 0; i < n; i++ {
			m[string(rune('a'+i))] = randomValue(r, depth+1)
		}
		return m
	}
}

// The pre-decode walk accepts everything the library encodes: it refuses
// lies, not valid input.
func TestCheck_AcceptsLibraryEncodings(t *testing.T) {
	c := msgpack.New[any]()
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		v := randomValue(r, 0)
		b, err := vmsgpack.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Decode(b); err != nil {
			t.Fatalf("value %d (%d bytes, first %x): %v", i, len(b), b[:min(len(b), 8)], err)
		}
	}
}

// Declared counts and lengths that exceed the frame are refused before the
// decoder allocates for them. Without the walk, the library sizes a typed
// slice from an array32 header (about 2 GiB for this one) before it
// notices the frame is short.
func TestCheck_RefusesAllocationBombs(t *testing.T) {
	type floats struct {
		V []float64
		M map[string][]any
	}
	c := msgpack.New[floats]()
	bombs := map[string][]byte{
		"array32 of floats": {0x81, 0xa1, 'V', 0xdd, 0x0f, 0xff, 0xff, 0xff, 0xcb},
		"map32":             {0x81, 0xa1, 'V', 0xdf, 0x0f, 0xff, 0xff, 0xff},
		"bin32":             {0x81, 0xa1, 'V', 0xc6, 0x30, 0x30, 0, 0},
		"str32 key":         {0x81, 0xdb, 0x7f, 0, 0, 0},
		"ext32":             {0x81, 0xa1, 'V', 0xc9, 0x7f, 0, 0, 0, 1},
		"nested counts":     append([]byte{0x81, 0xa1, 'V', 0xdc, 0xff, 0xff}, bytes.Repeat([]byte{0x9f}, 64)...),
		// A fixext4 where the library expects a map: it skips the
		// extension header and reads the body as MessagePack, meeting
		// an array32 header the walk saw as opaque data (found by
		// FuzzDecode, 60 GiB requested).
		// The walk sees {"M": ext, -1: -1, -1: nil}; the library reads
		// {"M": {"": [268M elements]}}.
		"extension read as a map": {0x83, 0xa1, 'M', 0xd6, 0x30, 0x81, 0xa0, 0xdd, 0x0f, 0xff, 0xff, 0xff, 0xc0},
	}
	for name, b := range bombs {
		t.Run(name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := c.Decode(b)
			runtime.ReadMemStats(&after)
			if !errors.Is(err, codec.ErrInvalid) {
				t.Fatalf("Decode = %v, want ErrInvalid", err)
			}
			t.Log(err)
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
				t.Fatalf("Decode of a %d-byte frame allocated %d bytes", len(b), grew)
			}
		})
	}
}

// Nesting deeper than MaxDepth is refused without recursing; nesting up to
// it decodes.
func TestCheck_Depth(t *testing.T) {
	c := msgpack.New[any]()
	nest := func(depth int) []byte {
		return append(bytes.Repeat([]byte{0x91}, depth), 0xc0) // [[[...nil]]]
	}
	if _, err := c.Decode(nest(msgpack.MaxDepth)); err != nil {
		t.Fatalf("depth %d: %v", msgpack.MaxDepth, err)
	}
	if _, err := c.Decode(nest(1 << 20)); !errors.Is(err, codec.ErrInvalid) {
		t.Fatalf("depth 2^20: %v, want ErrInvalid", err)
	}
}

// Truncation anywhere, a reserved type byte and trailing bytes are refused.
func TestCheck_Malformed(t *testing.T) {
	c := msgpack.New[any]()
	whole, err := vmsgpack.Marshal(map[string]any{"a": []any{1, "xyz", 2.5, []byte{1, 2}}, "b": nil})
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n < len(whole); n++ {
		if _, err := c.Decode(whole[:n]); !errors.Is(err, codec.ErrInvalid) {
			t.Fatalf("prefix of %d/%d bytes: %v, want ErrInvalid", n, len(whole), err)
		}
	}
	for name, b := range map[string][]byte{
		"0xc1":     {0xc1},
		"trailing": append(append([]byte{}, whole...), 0),
	} {
		if _, err := c.Decode(b); !errors.Is(err, codec.ErrInvalid) {
			t.Fatalf("%s: %v, want ErrInvalid", name, err)
		}
	}
}

// Extension values the library reads as bytes still decode: time.Time in
// all three timestamp sizes, including nanoseconds whose first byte looks
// like a map header.
func TestCheck_TimeExtensions(t *testing.T) {
	type stamped struct {
		At    time.Time
		Times []time.Time
		Tags  map[string]string
	}
	c := msgpack.New[stamped]()
	v := stamped{
		At:   time.Unix(1<<31+5, 0).UTC(), // timestamp32, first byte 0x80
		Tags: map[string]string{"k": "v"},
	}
	for ns := int64(0); ns < 1e9; ns += 10_309_278 {
		v.Times = append(v.Times, time.Unix(1_700_000_000, ns).UTC())
	}
	v.Times = append(v.Times, time.Unix(1<<40, 7).UTC()) // timestamp96
	b, err := codec.Marshal[stamped](c, v)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !got.At.Equal(v.At) || len(got.Times) != len(v.Times) || got.Tags["k"] != "v" {
		t.Fatalf("round trip: %+v", got)
	}
	for i := range v.Times {
		if !got.Times[i].Equal(v.Times[i]) {
			t.Fatalf("time %d: %v, want %v", i, got.Times[i], v.Times[i])
		}
	}
}
