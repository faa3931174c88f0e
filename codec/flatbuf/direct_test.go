package flatbuf_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"

	flatbuffers "github.com/google/flatbuffers/go"

	"github.com/zerobuffer/zerobuffer-go/codec"
	"github.com/zerobuffer/zerobuffer-go/codec/flatbuf"
	"github.com/zerobuffer/zerobuffer-go/codec/flatbuf/sensor"
	"github.com/zerobuffer/zerobuffer-go/internal/codectest"
)

// boundEncoder is the sensor encoder with a size bound of the test's
// choosing, with or without the file identifier.
func boundEncoder(t testing.TB, ident bool, bound func(*sensor.ReadingT) int) *flatbuf.Encoder[*sensor.ReadingT] {
	t.Helper()
	opts := []flatbuf.EncoderOption{flatbuf.WithSizeBound(bound)}
	if ident {
		opts = append(opts, flatbuf.WithFileIdentifier(sensor.FileIdentifier))
	}
	enc, err := flatbuf.NewEncoder(sensor.CodecName, func(b *flatbuffers.Builder, r *sensor.ReadingT) flatbuffers.UOffsetT {
		return r.Pack(b)
	}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return enc
}

// checkReading verifies frame as a Reading and compares every field with
// want.
func checkReading(t *testing.T, what string, frame []byte, ident bool, want *sensor.ReadingT) {
	t.Helper()
	var v sensor.Reading
	if ident {
		var err error
		if v, err = sensor.View(frame); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	} else {
		tab, err := flatbuf.VerifyRoot(frame, "")
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		v.Init(frame, tab.Pos())
	}
	if v.Id() != want.Id || v.Timestamp() != want.Timestamp || string(v.Name()) != want.Name ||
		!slices.Equal(v.AppendValues(nil), want.Values) {
		t.Fatalf("%s: decoded another reading than the one encoded", what)
	}
}

// TestEncoder_SmallFrameWrittenWhole: a reading whose bound is below
// MinInRingSize is built in a pooled builder and published with one
// WriteFrame when the writer has it (a *core.Writer does); a larger one is
// still built in a reservation. Both frames decode to the reading.
func TestEncoder_SmallFrameWrittenWhole(t *testing.T) {
	ctx := context.Background()
	enc := sensor.NewEncoder()
	small := &sensor.ReadingT{Id: 7, Timestamp: 70, Name: "small", Values: []float64{1, 2}}
	large := &sensor.ReadingT{Id: 8, Timestamp: 80, Name: "large", Values: make([]float64, flatbuf.MinInRingSize/8)}
	for _, tc := range []struct {
		name           string
		r              *sensor.ReadingT
		writes, maxRes int
	}{
		{"small", small, 1, 0},
		{"large", large, 0, 1},
	} {
		s := &codectest.CopySink{MaxSink: codectest.MaxSink{Size: 1 << 16}}
		if err := enc.EncodeFrame(ctx, s, tc.r); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if s.Writes != tc.writes || s.MaxCalls != tc.maxRes || s.Exact != 0 || s.Reserved != 0 {
			t.Fatalf("%s: %d WriteFrame (want %d), %d ReserveMax (want %d), %d Reserve, open %d",
				tc.name, s.Writes, tc.writes, s.MaxCalls, tc.maxRes, s.Exact, s.Reserved)
		}
		checkReading(t, tc.name, s.Frame, true, tc.r)
	}
}

// TestEncoder_BuildsInTheRing: with a size bound and a MaxFrameWriter the
// reading is built in the reservation. A tight bound publishes the
// reservation with the header moved to the front; a loose one moves the
// buffer to the front (the bytes of the builder path); a bound too small
// and a refused reservation fall back to an exact reservation; each frame
// decodes to the reading. Afterwards the pooled builder no longer uses the
// ring: scribbling over the ring does not change the next encoding.
func TestEncoder_BuildsInTheRing(t *testing.T) {
	ctx := context.Background()
	for _, n := range []int{0, 1, 3, 100, 600, 1000, 8191} {
		r := &sensor.ReadingT{Id: 3, Timestamp: -9, Name: "ring", Values: make([]float64, n)}
		for i := range r.Values {
			r.Values[i] = float64(i) / 3
		}
		for _, ident := range []bool{true, false} {
			want, err := codec.Marshal[*sensor.ReadingT](boundEncoder(t, ident, func(*sensor.ReadingT) int { return 1 << 30 }), r)
			if err != nil {
				t.Fatal(err)
			}
			for _, tc := range []struct {
				name      string
				bound     int
				refuse    bool
				wantExact int // Reserve calls after ReserveMax
				wantLen   int // 0: rounded bound
			}{
				{"tight", len(want) + 40, false, 0, 0},
				{"loose", len(want) + flatbuf.MaxDirectGap + 100, false, 0, len(want)},
				{"too small", len(want) / 2, false, 1, len(want)},
				{"refused", len(want) + 40, true, 1, len(want)},
			} {
				what := tc.name
				enc := boundEncoder(t, ident, func(*sensor.ReadingT) int { return tc.bound })
				m := &codectest.MaxSink{Size: 1 << 20, RefuseMax: tc.refuse}
				if err := enc.EncodeFrame(ctx, m, r); err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				wantLen, wantMax, wantExact := tc.wantLen, 1, tc.wantExact
				if wantLen == 0 {
					wantLen = inRingLen(tc.bound, len(want))
				}
				if tc.bound < flatbuf.MinInRingSize { // small: the builder path only
					wantLen, wantMax, wantExact = len(want), 0, 1
				}
				if len(m.Frame) != wantLen || m.MaxCalls != wantMax || m.Exact != wantExact || m.Reserved != 0 {
					t.Fatalf("%s (values %d, ident %v): frame %d bytes (want %d), %d ReserveMax (want %d), %d Reserve (want %d), open %d",
						what, n, ident, len(m.Frame), wantLen, m.MaxCalls, wantMax, m.Exact, wantExact, m.Reserved)
				}
				if len(m.Frame) == len(want) && !bytes.Equal(m.Frame, want) {
					t.Fatalf("%s (values %d, ident %v): other bytes than the builder path", what, n, ident)
				}
				checkReading(t, what, m.Frame, ident, r)
				for i := range m.Ring {
					m.Ring[i] = 0xAA
				}
				again, err := codec.Marshal[*sensor.ReadingT](enc, r)
				if err != nil || !bytes.Equal(again, want) {
					t.Fatalf("%s: the builder path after the ring path gave other bytes (%v)", what, err)
				}
			}
		}
	}
}

// inRingLen is the frame length EncodeFrame gives a message of size bytes
// built in a reservation of bound bytes: the rounded reservation when the
// gap may stay, else the message moved to the front.
func inRingLen(bound, size int) int {
	n := (bound + 15) &^ 15
	if gap := n - size; gap <= flatbuf.MaxDirectGap && gap <= n/16 {
		return n
	}
	return size
}

// TestEncoder_SensorBoundIsTight: with the sensor encoder's own bound a
// message of MinInRingSize and more is built in the ring without a
// fallback and keeps its small gap instead of moving.
func TestEncoder_SensorBoundIsTight(t *testing.T) {
	enc := sensor.NewEncoder()
	for _, n := range []int{0, 1, 2, 7, 8, 1000, 4093, 4096, 5001} {
		for _, name := range []string{"", "a", "abc", "abcd", "a longer sensor name"} {
			r := &sensor.ReadingT{Id: 1, Name: name, Values: make([]float64, n)}
			m := &codectest.MaxSink{Size: 1 << 16}
			if err := enc.EncodeFrame(context.Background(), m, r); err != nil {
				t.Fatal(err)
			}
			want, err := codec.Marshal[*sensor.ReadingT](enc, r)
			if err != nil {
				t.Fatal(err)
			}
			// Small messages take the builder path (one exact Reserve);
			// from MinInRingSize on, the bound's slack (under 64 bytes) is
			// small enough for the in-ring frame to keep its gap.
			big := len(want) >= flatbuf.MinInRingSize
			slack := len(m.Frame) - len(want)
			if big && (m.Exact != 0 || slack <= 0 || slack > 64) || !big && (m.Exact != 1 || slack != 0) {
				t.Fatalf("values %d, name %q: %d exact reservations, frame %d bytes, tightest %d", n, name, m.Exact, len(m.Frame), len(want))
			}
			checkReading(t, "sensor", m.Frame, true, r)
		}
	}
}

// TestEncoder_InRingPanicAborts: a BuildFunc that panics while building
// in the ring drops the reservation and publishes nothing.
func TestEncoder_InRingPanicAborts(t *testing.T) {
	enc, err := flatbuf.NewEncoder("flatbuffers:bad", func(b *flatbuffers.Builder, _ int) flatbuffers.UOffsetT {
		b.StartObject(1)
		b.StartObject(1) // nested: the builder panics
		return 0
	}, flatbuf.WithSizeBound(func(int) int { return flatbuf.MinInRingSize }))
	if err != nil {
		t.Fatal(err)
	}
	m := &codectest.MaxSink{}
	if err := enc.EncodeFrame(context.Background(), m, 1); !errors.Is(err, codec.ErrEncode) {
		t.Fatalf("got %v, want ErrEncode", err)
	}
	if m.Aborts != 1 || m.Frame != nil || m.Reserved != 0 {
		t.Fatalf("%d aborts, frame %x, open %d", m.Aborts, m.Frame, m.Reserved)
	}
}

func TestWithSizeBound_WrongType(t *testing.T) {
	_, err := flatbuf.NewEncoder("flatbuffers:x", func(*flatbuffers.Builder, int) flatbuffers.UOffsetT { return 0 },
		flatbuf.WithSizeBound(func(string) int { return 1 }))
	if !errors.Is(err, codec.ErrEncode) {
		t.Fatalf("got %v, want ErrEncode", err)
	}
}

// FuzzInRingEncode: whatever the bound (too small, tight, loose, absurd),
// encoding into a MaxFrameWriter yields a frame that verifies and decodes
// to the reading, and never leaves a reservation open.
func FuzzInRingEncode(f *testing.F) {
	f.Add(uint16(3), "thermo", int32(200), true)
	f.Add(uint16(0), "", int32(1), false)
	f.Add(uint16(500), "x", int32(4100), true)
	f.Fuzz(func(t *testing.T, n uint16, name string, bound int32, ident bool) {
		r := &sensor.ReadingT{Id: uint32(n), Timestamp: int64(bound), Name: name, Values: make([]float64, n%2048)}
		for i := range r.Values {
			r.Values[i] = float64(i) - 0.5
		}
		enc := boundEncoder(t, ident, func(*sensor.ReadingT) int { return int(bound) })
		m := &codectest.MaxSink{Size: 1 << 16}
		if err := enc.EncodeFrame(context.Background(), m, r); err != nil {
			if errors.Is(err, codectest.ErrTooLarge) {
				return // the reading does not fit the sink's ring
			}
			t.Fatal(err)
		}
		if m.Reserved != 0 {
			t.Fatal("reservation left open")
		}
		checkReading(t, "fuzz", m.Frame, ident, r)
	})
}
