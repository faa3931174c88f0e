//go:build linux

package main

import (
	"github.com/zerobuffer/zerobuffer-go/core"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zerobuffer/zerobuffer-go/internal/layout"
	"github.com/zerobuffer/zerobuffer-go/platform"
)

// writeImage writes a hand-made segment into a private shm directory.
func writeImage(t *testing.T, name string, img []byte) platform.Dirs {
	t.Helper()
	root := t.TempDir()
	d := platform.Dirs{Shm: filepath.Join(root, "shm"), Lock: filepath.Join(root, "lock")}
	if err := os.MkdirAll(d.Shm, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d.Shm, name), img, 0o600); err != nil {
		t.Fatal(err)
	}
	return d
}

// ringImage builds a segment with M=64, P=256 whose unread items are: a
// 40-byte frame at 160, a wrap marker at 216, a 20-byte frame at 0 and a
// 10-byte frame at 36 whose sequence skips one.
func ringImage(t *testing.T) []byte {
	g, err := layout.NewGeometry(64, 256)
	if err != nil {
		t.Fatal(err)
	}
	img := make([]byte, g.SegmentSize())
	o := layout.Initial(g, 0)
	o.PayloadReadPos, o.PayloadWritePos = 160, 62
	o.PayloadWrittenCount, o.PayloadReadCount = 10, 6
	o.PayloadFreeBytes = 256 - (56 + 40 + 36 + 26)
	o.MetadataWrittenBytes, o.MetadataFreeBytes = 8+4, 64-12
	o.Encode(img)
	copy(img[g.MetadataOffset():], []byte{4, 0, 0, 0, 0, 0, 0, 0, 0xff, 0, 1, 2})
	ring := img[g.PayloadOffset():]
	layout.PutHeader(ring[160:], layout.Header{Size: 40, Sequence: 1})
	layout.PutHeader(ring[216:], layout.Header{}) // wrap marker
	layout.PutHeader(ring[0:], layout.Header{Size: 20, Sequence: 2})
	layout.PutHeader(ring[36:], layout.Header{Size: 10, Sequence: 5})
	return img
}

func TestInspect_WalkWrapAndGap(t *testing.T) {
	d := writeImage(t, "img", ringImage(t))
	in, err := inspect("img", d, 10)
	if err != nil {
		t.Fatal(err)
	}
	if in.Unread != 3 || len(in.Frames) != 3 {
		t.Fatalf("unread %d, frames %+v", in.Unread, in.Frames)
	}
	want := []frameInfo{{Offset: 160, Size: 40, Sequence: 1}, {Offset: 0, Size: 20, Sequence: 2, Wrapped: true},
		{Offset: 36, Size: 10, Sequence: 5}}
	for i, f := range want {
		if in.Frames[i] != f {
			t.Errorf("frame %d = %+v, want %+v", i, in.Frames[i], f)
		}
	}
	if in.Metadata == nil || in.Metadata.Length != 4 || in.Metadata.Hex == "" {
		t.Errorf("metadata preview %+v, want 4 bytes in hex", in.Metadata)
	}
	if !strings.Contains(strings.Join(in.Issues, "\n"), "sequence 5 after 2") {
		t.Errorf("issues %q lack the sequence gap", in.Issues)
	}
	if in.Health != "healthy" || in.Buffer.Utilisation < 61 || in.Buffer.Utilisation > 62 {
		t.Errorf("health %s at %.1f%%", in.Health, in.Buffer.Utilisation)
	}
}

func TestInspect_HealthBands(t *testing.T) {
	for _, tc := range []struct {
		used uint64
		want string
	}{{0, "healthy"}, {204, "healthy"}, {205, "degraded"}, {243, "degraded"}, {244, "critical"}, {256, "critical"}} {
		b := fromCore(core.Buffer{Exists: true, Valid: true, PayloadSize: 256, UsedBytes: tc.used})
		if got := b.health(); got != tc.want {
			t.Errorf("used %d/256 (%.1f%%): %s, want %s", tc.used, b.Utilisation, got, tc.want)
		}
	}
}

func TestInspect_CorruptHeader(t *testing.T) {
	img := ringImage(t)
	layout.PutHeader(img[layout.OIEBSize+64+160:], layout.Header{Size: 1 << 40, Sequence: 1})
	d := writeImage(t, "bad", img)
	in, err := inspect("bad", d, 10)
	if err != nil {
		t.Fatal(err)
	}
	if in.Unread != 0 || !strings.Contains(strings.Join(in.Issues, "\n"), "frame size") {
		t.Errorf("corrupt frame: unread %d, issues %q", in.Unread, in.Issues)
	}
	if !in.Buffer.Stale || in.Buffer.state() != "stale" {
		t.Errorf("a buffer without a reader should be stale: %+v", in.Buffer)
	}
}
