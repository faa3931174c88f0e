package duplex

import (
	"bytes"
	"encoding/binary"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestErrorFrame_Layout(t *testing.T) {
	got := AppendErrorFrame(nil, "boom")
	want := []byte{0xff, 'Z', 'B', 'E', 'R', 'R', 0, 1, 4, 0, 0, 0, 'b', 'o', 'o', 'm'}
	if !bytes.Equal(got, want) {
		t.Fatalf("error frame % x, want % x", got, want)
	}
}

func TestErrorFrame_RoundTrip(t *testing.T) {
	long := strings.Repeat("é", MaxErrorMessage) // 2 bytes per rune
	for _, tc := range []struct{ name, msg, want string }{
		{"empty", "", ""},
		{"plain", "handler failed: x", "handler failed: x"},
		{"invalid utf8", "bad \xff\xfe byte", "bad \uFFFD byte"},
		{"cut at rune boundary", long, long[:MaxErrorMessage]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg, ok := ParseErrorFrame(AppendErrorFrame(nil, tc.msg))
			if !ok || msg != tc.want {
				t.Errorf("got %q (ok %v), want %q", msg, ok, tc.want)
			}
			if !utf8.ValidString(msg) {
				t.Error("message is not valid UTF-8")
			}
		})
	}
}

func TestErrorFrame_InSlot(t *testing.T) {
	for _, size := range []int{errFrameMin, errFrameMin + 3, 100} {
		slot := bytes.Repeat([]byte{0xaa}, size)
		putErrorFrame(slot, "a message longer than some slots")
		msg, ok := ParseErrorFrame(slot)
		want := "a message longer than some slots"[:min(32, size-errFrameMin)]
		if !ok || msg != want {
			t.Errorf("slot of %d: %q, want %q", size, msg, want)
		}
		if n := binary.LittleEndian.Uint32(slot[8:]); bytes.ContainsRune(slot[errFrameMin+int(n):], 0xaa) {
			t.Errorf("slot of %d: padding not cleared", size)
		}
	}
}

func TestParseErrorFrame_NotError(t *testing.T) {
	for _, b := range [][]byte{nil, {0xff}, []byte("\xffZBERR\x00\x02xxxx"), []byte("hello world, this is data")} {
		if _, ok := ParseErrorFrame(b); ok {
			t.Errorf("% x taken for an error response", b)
		}
	}
	if msg, ok := ParseErrorFrame([]byte(ErrorMarker + "\x40\x00\x00\x00short")); !ok || msg != "short" {
		t.Errorf("bad length: %q %v, want the rest of the frame", msg, ok)
	}
}

func FuzzParseErrorFrame(f *testing.F) {
	f.Add([]byte(ErrorMarker))
	f.Add(AppendErrorFrame(nil, "boom"))
	f.Add([]byte(ErrorMarker + "\xff\xff\xff\xffx"))
	f.Fuzz(func(t *testing.T, b []byte) {
		msg, ok := ParseErrorFrame(b)
		if !ok {
			return
		}
		if len(msg) > MaxErrorMessage || !utf8.ValidString(msg) {
			t.Fatalf("message of %d bytes, valid UTF-8 %v", len(msg), utf8.ValidString(msg))
		}
		if again, ok := ParseErrorFrame(AppendErrorFrame(nil, msg)); !ok || again != msg {
			t.Fatalf("round trip of %q gave %q", msg, again)
		}
	})
}

// TestParseErrorFrame_HugeFrameCopiesLittle: a peer's 64 MiB error frame
// costs a message-sized copy, not a frame-sized one.
func TestParseErrorFrame_HugeFrameCopiesLittle(t *testing.T) {
	frame := bytes.Repeat([]byte{'a'}, 64<<20)
	copy(frame, ErrorMarker)
	binary.LittleEndian.PutUint32(frame[len(ErrorMarker):], uint32(len(frame)-errFrameMin))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	msg, ok := ParseErrorFrame(frame)
	runtime.ReadMemStats(&after)
	if !ok || len(msg) != MaxErrorMessage {
		t.Fatalf("ParseErrorFrame: ok %v, %d bytes, want %d", ok, len(msg), MaxErrorMessage)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<10 {
		t.Errorf("ParseErrorFrame of a 64 MiB frame allocated %d bytes", alloc)
	}
}
