package codec_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/zerobuffer/zerobuffer-go/codec"
	"github.com/zerobuffer/zerobuffer-go/internal/codectest"
)

// Compile-time checks of the ownership split.
var (
	_ codec.ViewCodec[[]byte] = codec.Raw{}
	_ codec.Codec[[]byte]     = codec.RawCopy{}
)

func TestRaw_ViewAliasesFrame(t *testing.T) {
	frame := []byte("hello")
	v, err := codec.Raw{}.View(frame)
	if err != nil {
		t.Fatal(err)
	}
	if &v[0] != &frame[0] || len(v) != len(frame) {
		t.Fatal("Raw.View copied the frame")
	}
}

func TestRawCopy_DecodeOwns(t *testing.T) {
	frame := []byte("hello")
	v, err := codec.RawCopy{}.Decode(frame)
	if err != nil {
		t.Fatal(err)
	}
	frame[0] = 'j'
	if string(v) != "hello" {
		t.Fatalf("RawCopy.Decode aliases the frame: %q", v)
	}
}

func TestMarshal_Raw(t *testing.T) {
	for _, enc := range []codec.Encoder[[]byte]{codec.Raw{}, codec.RawCopy{}} {
		got, err := codec.Marshal(enc, []byte("abc"))
		if err != nil || string(got) != "abc" {
			t.Fatalf("Marshal(%T) = %q, %v", enc, got, err)
		}
	}
}

type failWriter struct{ err error }

func (f failWriter) Reserve(context.Context, int) ([]byte, error) { return nil, f.err }
func (f failWriter) Commit() error                                { return nil }

func TestRaw_WriterErrorPassesThrough(t *testing.T) {
	sentinel := errors.New("ring gone")
	err := codec.Raw{}.EncodeFrame(context.Background(), failWriter{sentinel}, []byte("x"))
	if err != sentinel {
		t.Fatalf("got %v, want the writer's error unchanged", err)
	}
}

// TestWriteFrame: a CopyFrameWriter takes the frame in one WriteFrame
// call; any other FrameWriter gets Reserve, a copy and Commit. Both
// publish p's bytes, and the writer's errors pass through unchanged.
func TestWriteFrame(t *testing.T) {
	ctx := context.Background()
	p := []byte("frame bytes")
	cs := &codectest.CopySink{}
	if err := codec.WriteFrame(ctx, cs, p); err != nil || cs.Writes != 1 || cs.Exact != 0 || !bytes.Equal(cs.Frame, p) {
		t.Fatalf("CopyFrameWriter: err %v, %d WriteFrame, %d Reserve, frame %q", err, cs.Writes, cs.Exact, cs.Frame)
	}
	ms := &codectest.MaxSink{}
	if err := codec.WriteFrame(ctx, ms, p); err != nil || ms.Exact != 1 || ms.Reserved != 0 || !bytes.Equal(ms.Frame, p) {
		t.Fatalf("FrameWriter: err %v, %d Reserve, open %d, frame %q", err, ms.Exact, ms.Reserved, ms.Frame)
	}
	sentinel := errors.New("ring gone")
	if err := codec.WriteFrame(ctx, failWriter{sentinel}, p); err != sentinel {
		t.Fatalf("got %v, want the writer's error unchanged", err)
	}
}

type lazyEncoder struct{}

func (lazyEncoder) Name() string { return "lazy" }
func (lazyEncoder) EncodeFrame(context.Context, codec.FrameWriter, int) error {
	return nil
}

func TestMarshal_NoCommit(t *testing.T) {
	if _, err := codec.Marshal[int](lazyEncoder{}, 1); !errors.Is(err, codec.ErrEncode) {
		t.Fatalf("got %v, want ErrEncode", err)
	}
}

func TestValidateName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"raw", true},
		{"msgpack", true},
		{"flatbuffers:sensor.Reading", true},
		{"a/b+c-d_e", true},
		{"a=b", false},
		{"", false},
		{"with space", false},
		{"new\nline", false},
		{strings.Repeat("x", codec.MaxNameLen), true},
		{strings.Repeat("x", codec.MaxNameLen+1), false},
	}
	for _, tt := range tests {
		err := codec.ValidateName(tt.name)
		if (err == nil) != tt.ok {
			t.Errorf("ValidateName(%q) = %v, want ok=%v", tt.name, err, tt.ok)
		}
		if err != nil && !errors.Is(err, codec.ErrInvalidName) {
			t.Errorf("ValidateName(%q) error %v does not match ErrInvalidName", tt.name, err)
		}
	}
}

func TestMetadata_RoundTrip(t *testing.T) {
	md, err := codec.AppendMetadata(nil, "msgpack", []byte("user=1\nmore"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "zerobuffer-codec=msgpack\nuser=1\nmore"; string(md) != want {
		t.Fatalf("metadata %q, want %q", md, want)
	}
	if n := codec.MetadataLen("msgpack", len("user=1\nmore")); n != len(md) {
		t.Fatalf("MetadataLen = %d, want %d", n, len(md))
	}
	name, user, err := codec.ParseMetadata(md)
	if err != nil || name != "msgpack" || string(user) != "user=1\nmore" {
		t.Fatalf("ParseMetadata = %q, %q, %v", name, user, err)
	}
	if _, err := codec.AppendMetadata(nil, "bad name", nil); !errors.Is(err, codec.ErrInvalidName) {
		t.Fatalf("AppendMetadata(bad name) = %v", err)
	}
}

func TestParseMetadata_Malformed(t *testing.T) {
	for _, md := range []string{
		"", "zerobuffer-codec=", "zerobuffer-codec=raw", "zerobuffer-codec=\n",
		"zerobuffer-codec=a b\n", "codec=raw\n", "ZEROBUFFER-CODEC=raw\n",
	} {
		if _, _, err := codec.ParseMetadata([]byte(md)); !errors.Is(err, codec.ErrMetadata) {
			t.Errorf("ParseMetadata(%q) = %v, want ErrMetadata", md, err)
		}
	}
}

func TestCheckMetadata(t *testing.T) {
	tests := []struct {
		md      string
		wantGot string
		ok      bool
	}{
		{"zerobuffer-codec=raw\n", "", true},
		{"zerobuffer-codec=raw\nextra", "", true},
		{"zerobuffer-codec=msgpack\n", "msgpack", false},
		{"", "", false},
		{"garbage", "", false},
	}
	for _, tt := range tests {
		err := codec.CheckMetadata([]byte(tt.md), "raw")
		if tt.ok {
			if err != nil {
				t.Errorf("CheckMetadata(%q) = %v", tt.md, err)
			}
			continue
		}
		var me *codec.MismatchError
		if !errors.Is(err, codec.ErrMismatch) || !errors.As(err, &me) {
			t.Fatalf("CheckMetadata(%q) = %v, want *MismatchError", tt.md, err)
		}
		if me.Want != "raw" || me.Got != tt.wantGot {
			t.Errorf("CheckMetadata(%q) = %+v", tt.md, me)
		}
		if !strings.HasPrefix(err.Error(), "zerobuffer: ") {
			t.Errorf("error text %q lacks the zerobuffer prefix", err)
		}
	}
}

func TestErrors_Prefixed(t *testing.T) {
	for _, err := range []error{codec.ErrMismatch, codec.ErrInvalid, codec.ErrEncode,
		codec.ErrInvalidName, codec.ErrMetadata} {
		if !strings.HasPrefix(err.Error(), "zerobuffer: ") {
			t.Errorf("%q lacks the zerobuffer prefix", err)
		}
	}
}

func FuzzRawView(f *testing.F) {
	f.Add([]byte("hello"))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := codec.Raw{}.View(b)
		if err != nil || !bytes.Equal(v, b) {
			t.Fatalf("View = %q, %v", v, err)
		}
		c, err := codec.RawCopy{}.Decode(b)
		if err != nil || !bytes.Equal(c, b) {
			t.Fatalf("Decode = %q, %v", c, err)
		}
	})
}

func FuzzParseMetadata(f *testing.F) {
	f.Add([]byte("zerobuffer-codec=msgpack\nuser"))
	f.Fuzz(func(t *testing.T, md []byte) {
		name, user, err := codec.ParseMetadata(md)
		if err != nil {
			return
		}
		// Invariant: a parsed header re-encodes to the same bytes.
		again, err := codec.AppendMetadata(nil, name, user)
		if err != nil || !bytes.Equal(again, md) {
			t.Fatalf("re-encoding %q gave %q, %v", md, again, err)
		}
	})
}

// TestIsRaw: the raw codec in its two forms and their pointers is raw;
// a type that embeds it, or another codec, is not.
func TestIsRaw(t *testing.T) {
	type wrapped struct{ codec.Raw }
	for _, c := range []any{codec.Raw{}, codec.RawCopy{}, &codec.Raw{}, &codec.RawCopy{}} {
		if !codec.IsRaw(c) {
			t.Errorf("%T: not raw", c)
		}
	}
	for _, c := range []any{wrapped{}, nil, "raw", codec.RawName} {
		if codec.IsRaw(c) {
			t.Errorf("%T %v: raw", c, c)
		}
	}
}
