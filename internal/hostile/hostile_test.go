package hostile

import (
	"math/rand/v2"
	"testing"

	"github.com/zerobuffer/zerobuffer-go/internal/layout"
	"github.com/zerobuffer/zerobuffer-go/platform"
)

// fixture creates a valid buffer image (OIEB, 64-byte metadata block,
// 256-byte ring) and its two semaphores in a temporary directory.
func fixture(t *testing.T) (string, platform.Dirs) {
	t.Helper()
	dirs := platform.Dirs{Shm: t.TempDir(), Lock: t.TempDir()}
	names, err := platform.ObjectNames("h", dirs)
	if err != nil {
		t.Fatal(err)
	}
	g := layout.Geometry{MetadataSize: 64, PayloadSize: 256}
	seg, err := platform.CreateSegment(names.Shm, int64(g.SegmentSize()), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	o := layout.Initial(g, 42)
	o.Encode(seg.Bytes())
	seg.Close()
	for _, p := range []string{names.SemW, names.SemR} {
		s, err := platform.CreateSemaphore(p, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
	return "h", dirs
}

func TestPokePeek(t *testing.T) {
	name, dirs := fixture(t)
	s, err := Open(name, dirs)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var orig [layout.OIEBSize]byte
	o := s.Snapshot()
	o.Encode(orig[:])
	for _, f := range Fields {
		before := s.Snapshot()
		s.Poke(f, 0xA5A5A5A5A5A5A5A5)
		want := uint64(0xA5A5A5A5A5A5A5A5)
		if f.Width < 8 {
			want &= uint64(1)<<(8*uint(f.Width)) - 1
		}
		if got := s.Peek(f); got != want {
			t.Errorf("%s: peek %x, want %x", f.Name, got, want)
		}
		if f.Width == 1 { // the other version bytes share the word
			after := s.Snapshot()
			after.Version[f.Off-layout.OffVersion] = before.Version[f.Off-layout.OffVersion]
			if after != before {
				t.Errorf("%s: poke changed other fields", f.Name)
			}
		}
		if err := s.PokeBytes(0, orig[:]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Geometry(); err != nil {
		t.Fatal(err)
	}
	if err := s.PokeHeader(240, 7, 9); err != nil {
		t.Fatal(err)
	}
	if h, err := s.PeekHeader(240); err != nil || h.Size != 7 || h.Sequence != 9 {
		t.Fatalf("header %+v %v", h, err)
	}
	if err := s.PokeHeader(241, 1, 1); err == nil {
		t.Error("header past the ring accepted")
	}
	if err := s.PokeBytes(s.Len()-1, []byte{1, 2}); err == nil {
		t.Error("bytes past the segment accepted")
	}
}

func TestScribbleStaysInside(t *testing.T) {
	name, dirs := fixture(t)
	s, err := Open(name, dirs)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	if n := s.Scribble(rng, 10000); n == 0 {
		t.Fatal("scribble changed nothing")
	}
}

func TestPost(t *testing.T) {
	name, dirs := fixture(t)
	if v, err := Post(name, dirs, SemW, 3); err != nil || v != 3 {
		t.Fatalf("post sem-w: %d %v", v, err)
	}
	if v, err := SemValue(name, dirs, SemR); err != nil || v != 0 {
		t.Fatalf("sem-r: %d %v", v, err)
	}
}
