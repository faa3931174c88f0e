package layout

import (
	"encoding/binary"
	"errors"
	"os"
	"testing"
)

func goldenImage(t testing.TB, name string) []byte {
	b, err := os.ReadFile("../../core/testdata/golden/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestOIEB_RoundTrip(t *testing.T) {
	img := goldenImage(t, "cpp-golden-wrap.shm")
	o, err := DecodeOIEB(img)
	if err != nil {
		t.Fatal(err)
	}
	g, err := o.Validate(uint64(len(img)))
	if err != nil || g.PayloadOffset() != 384 || g.SegmentSize() != 4480 {
		t.Fatalf("validate: %+v %v", g, err)
	}
	var b [OIEBSize]byte
	o.Encode(b[:])
	if string(b[:]) != string(img[:OIEBSize]) {
		t.Fatal("Encode(Decode(b)) != b")
	}
}

func TestValidate_Rejects(t *testing.T) {
	base, _ := DecodeOIEB(goldenImage(t, "cpp-golden-basic.shm"))
	cases := map[string]func(o *OIEB){
		"oieb_size":     func(o *OIEB) { o.OIEBSize = 64 },
		"metadata_size": func(o *OIEB) { o.MetadataSize = 1 << 40 },
		"payload_size":  func(o *OIEB) { o.PayloadSize = 5000 },
		"write_pos":     func(o *OIEB) { o.PayloadWritePos = 4097 },
		"read_pos":      func(o *OIEB) { o.PayloadReadPos = ^uint64(0) },
		"free":          func(o *OIEB) { o.PayloadFreeBytes = 4097 },
		"meta_written":  func(o *OIEB) { o.MetadataWrittenBytes = 257 },
	}
	for name, poke := range cases {
		o := base
		poke(&o)
		if _, err := o.Validate(4480); !errors.Is(err, ErrCorrupt) || !errors.Is(err, ErrBase) {
			t.Errorf("%s: %v, want ErrCorrupt", name, err)
		}
	}
	o := base
	o.Version[0] = 2
	if _, err := o.Validate(4480); !errors.Is(err, ErrVersion) {
		t.Errorf("version 2: %v", err)
	}
	if _, err := (&OIEB{}).Validate(4480); !errors.Is(err, ErrNotInitialized) {
		t.Errorf("zero OIEB: %v", err)
	}
}

func TestNextFrame_Cases(t *testing.T) {
	ring := make([]byte, 256)
	PutHeader(ring[0:], Header{Size: 10, Sequence: 1})
	loc, err := NextFrame(ring, 0)
	if err != nil || loc.Offset != 16 || loc.Next != 26 || loc.Sequence != 1 {
		t.Fatalf("plain frame: %+v %v", loc, err)
	}
	// marker at 200, then a frame at 0 that needed the wrap (66 > 56 bytes)
	PutHeader(ring[200:], Header{})
	PutHeader(ring[0:], Header{Size: 50, Sequence: 1})
	loc, err = NextFrame(ring, 200)
	if err != nil || loc.Markers != 1 || loc.Skipped != 56 || loc.Offset != 16 {
		t.Fatalf("marker: %+v %v", loc, err)
	}
	// a marker in front of a frame that would have fit is stale data
	PutHeader(ring[0:], Header{Size: 10, Sequence: 1})
	if _, err := NextFrame(ring, 200); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("needless marker: %v", err)
	}
	// fewer than 16 bytes left: implicit wrap, no marker counted
	loc, err = NextFrame(ring, 250)
	if err != nil || loc.Markers != 0 || loc.Skipped != 6 || loc.Offset != 16 {
		t.Fatalf("short tail: %+v %v", loc, err)
	}
	// read_pos == P is 0
	if loc, err = NextFrame(ring, 256); err != nil || loc.Skipped != 0 || loc.Offset != 16 {
		t.Fatalf("pos == P: %+v %v", loc, err)
	}
	PutHeader(ring[0:], Header{Size: 241, Sequence: 1})
	if _, err := NextFrame(ring, 0); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("oversized frame: %v", err)
	}
	PutHeader(ring[0:], Header{Size: 0})
	if _, err := NextFrame(ring, 0); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("marker at 0: %v", err)
	}
	if _, err := NextFrame(ring, 257); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("pos > P: %v", err)
	}
}

func TestMetadata_Cases(t *testing.T) {
	block := make([]byte, 64)
	if b, ok, err := Metadata(block, 0); b != nil || ok || err != nil {
		t.Fatal("unwritten metadata")
	}
	binary.LittleEndian.PutUint64(block, 5)
	copy(block[8:], "hello")
	if b, ok, err := Metadata(block, 13); string(b) != "hello" || !ok || err != nil {
		t.Fatalf("metadata %q %v %v", b, ok, err)
	}
	if _, _, err := Metadata(block, 12); !errors.Is(err, ErrCorrupt) {
		t.Fatal("length beyond written bytes accepted")
	}
	if _, _, err := Metadata(block, 4); !errors.Is(err, ErrCorrupt) {
		t.Fatal("written bytes < 8 accepted")
	}
	if _, _, err := Metadata(block, 65); !errors.Is(err, ErrCorrupt) {
		t.Fatal("written bytes beyond block accepted")
	}
}

func FuzzParseOIEB(f *testing.F) {
	for _, n := range []string{"cpp-golden-basic.shm", "cpp-golden-wrap.shm", "cpp-golden-tail-bug.shm"} {
		img := goldenImage(f, n)
		f.Add(img[:OIEBSize], uint64(len(img)))
	}
	f.Fuzz(func(t *testing.T, b []byte, mapLen uint64) {
		o, err := DecodeOIEB(b)
		if err != nil {
			return
		}
		g, err := o.Validate(mapLen)
		if err != nil {
			return
		}
		if g.SegmentSize() > mapLen || g.PayloadOffset() < OIEBSize || g.PayloadSize < HeaderSize+1 {
			t.Fatalf("accepted geometry %+v outside mapping %d", g, mapLen)
		}
		if o.PayloadReadPos > g.PayloadSize || o.PayloadWritePos > g.PayloadSize {
			t.Fatalf("accepted positions outside the ring: %+v", o)
		}
		var enc [OIEBSize]byte
		o.Encode(enc[:])
		if string(enc[:]) != string(b[:OIEBSize]) {
			t.Fatal("Encode(Decode(b)) != b")
		}
	})
}

func FuzzNextFrame(f *testing.F) {
	img := goldenImage(f, "cpp-golden-wrap.shm")
	f.Add(img[384:], uint64(3048))
	f.Add(img[384:], uint64(0))
	tail := goldenImage(f, "cpp-golden-tail-bug.shm")
	f.Add(tail[384:], uint64(4086))
	f.Fuzz(func(t *testing.T, ring []byte, pos uint64) {
		loc, err := NextFrame(ring, pos)
		// FrameAt is NextFrame's fast path: where it answers, both agree.
		if size, seq, ok := FrameAt(ring, pos); ok {
			want := Located{Header: Header{Size: size, Sequence: seq}, Offset: pos + HeaderSize, Next: pos + HeaderSize + size}
			if err != nil || loc != want {
				t.Fatalf("FrameAt(%d) = %d, %d; NextFrame = %+v, %v", pos, size, seq, loc, err)
			}
		}
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		p := uint64(len(ring))
		if loc.Offset < HeaderSize || loc.Next > p || loc.Offset+loc.Size != loc.Next || loc.Size == 0 {
			t.Fatalf("frame outside ring: %+v (ring %d)", loc, p)
		}
		if loc.Markers > 1 || loc.Skipped > p {
			t.Fatalf("bad skip: %+v", loc)
		}
	})
}

func FuzzMetadata(f *testing.F) {
	img := goldenImage(f, "cpp-golden-basic.shm")
	f.Add(img[128:384], uint64(23))
	f.Add(img[128:384], uint64(7))
	f.Fuzz(func(t *testing.T, block []byte, written uint64) {
		b, ok, err := Metadata(block, written)
		if err != nil || !ok {
			if b != nil {
				t.Fatal("content with error")
			}
			return
		}
		if len(b)+8 > len(block) || uint64(len(b))+8 > written {
			t.Fatalf("content of %d bytes outside block %d / written %d", len(b), len(block), written)
		}
	})
}

// FuzzVersion: over a valid OIEB, only the major version decides. A major
// other than 1 is ErrVersion (and never ErrCorrupt); minor, patch and the
// reserved byte are ignored, as the C++ reference ignores them
// (PROTOCOL.md section 4; RELIABILITY.md's "reserved byte rejected" would
// refuse foreign peers, and wire compatibility wins). An all-zero block
// with a zero oieb_size is "not initialised", whatever else it says.
func FuzzVersion(f *testing.F) {
	img := goldenImage(f, "cpp-golden-basic.shm")
	f.Add([]byte{1, 0, 0, 0}, uint32(OIEBSize))
	f.Add([]byte{2, 0, 0, 0}, uint32(OIEBSize))
	f.Add([]byte{1, 9, 9, 9}, uint32(OIEBSize))
	f.Add([]byte{0, 0, 0, 0}, uint32(0))
	f.Fuzz(func(t *testing.T, version []byte, oiebSize uint32) {
		if len(version) != 4 {
			return
		}
		b := append([]byte(nil), img...)
		binary.LittleEndian.PutUint32(b[OffOIEBSize:], oiebSize)
		copy(b[OffVersion:], version)
		o, err := DecodeOIEB(b)
		if err != nil {
			t.Fatal(err)
		}
		_, err = o.Validate(uint64(len(b)))
		switch {
		case oiebSize == 0 && [4]byte(version) == [4]byte{}:
			if !errors.Is(err, ErrNotInitialized) {
				t.Fatalf("zero block: %v", err)
			}
		case oiebSize != OIEBSize:
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("oieb_size %d: %v", oiebSize, err)
			}
		case version[0] != VersionMajor:
			if !errors.Is(err, ErrVersion) || errors.Is(err, ErrCorrupt) {
				t.Fatalf("version %v: %v, want ErrVersion", version, err)
			}
		default:
			if err != nil {
				t.Fatalf("version %v refused: %v", version, err)
			}
		}
	})
}
