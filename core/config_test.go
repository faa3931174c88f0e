package core

import (
	"bytes"
	"testing"
	"time"
)

// TestBufferConfig_ZeroMeansDefaults: BufferConfig{} creates a buffer with
// the documented sizes; a writer can fill the metadata block and send the
// largest frame those sizes allow.
func TestBufferConfig_ZeroMeansDefaults(t *testing.T) {
	name := testName(t)
	r, err := NewReader(name, BufferConfig{})
	if err != nil {
		t.Fatalf("NewReader with a zero BufferConfig: %v", err)
	}
	defer r.Close()
	if m, p := r.v.load(offMetaSize), r.v.load(offPayloadSize); m != DefaultMetadataSize || p != DefaultPayloadSize {
		t.Fatalf("zero BufferConfig: metadata %d, payload %d; want %d, %d", m, p, DefaultMetadataSize, DefaultPayloadSize)
	}
	w, err := NewWriter(name)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if got, want := w.MaxFrameSize(), DefaultPayloadSize-16; got != want {
		t.Errorf("MaxFrameSize %d, want %d", got, want)
	}
	meta := bytes.Repeat([]byte{'m'}, DefaultMetadataSize-8)
	if err := w.SetMetadata(meta); err != nil {
		t.Fatalf("metadata filling the default block: %v", err)
	}
	ctx := ctxT(t, 30*time.Second)
	big := bytes.Repeat([]byte{0xab}, DefaultPayloadSize-16)
	if err := w.WriteFrame(ctx, big); err != nil {
		t.Fatalf("largest frame of the default ring: %v", err)
	}
	f, err := r.ReadFrame(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(f.Data(), big) {
		t.Error("largest frame read back differs")
	}
	f.Release()
	if got, err := r.Metadata(); err != nil || !bytes.Equal(got, meta) {
		t.Errorf("metadata read back: %d bytes, %v", len(got), err)
	}
}

// TestBufferConfig_WithDefaults: only a zero PayloadSize takes defaults;
// with an explicit PayloadSize, MetadataSize 0 keeps meaning "no metadata
// block", as before and as in the other implementations.
func TestBufferConfig_WithDefaults(t *testing.T) {
	for _, tc := range []struct{ in, want BufferConfig }{
		{BufferConfig{}, BufferConfig{DefaultMetadataSize, DefaultPayloadSize}},
		{BufferConfig{MetadataSize: 100}, BufferConfig{100, DefaultPayloadSize}},
		{BufferConfig{PayloadSize: 4096}, BufferConfig{0, 4096}},
		{BufferConfig{MetadataSize: -1, PayloadSize: -1}, BufferConfig{-1, -1}},
	} {
		if got := tc.in.WithDefaults(); got != tc.want {
			t.Errorf("%+v.WithDefaults() = %+v, want %+v", tc.in, got, tc.want)
		}
	}
	name := testName(t)
	r, err := NewReader(name, BufferConfig{PayloadSize: 4096})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if m, p := r.v.load(offMetaSize), r.v.load(offPayloadSize); m != 0 || p != 4096 {
		t.Fatalf("metadata %d, payload %d; want 0, 4096", m, p)
	}
	if _, err := NewReader(testName(t), BufferConfig{PayloadSize: -1}); err == nil {
		t.Error("PayloadSize -1 accepted")
	}
}

func TestHumanSize(t *testing.T) {
	for n, want := range map[uint64]string{0: "0 B", 1023: "1023 B", 1024: "1 KiB", 1536: "1.5 KiB", 1 << 30: "1 GiB", 128 + 4096 + 1<<30: "1.0 GiB"} {
		if got := humanSize(n); got != want {
			t.Errorf("humanSize(%d) = %q, want %q", n, got, want)
		}
	}
}
