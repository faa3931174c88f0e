package codec_test

import (
	"errors"
	"testing"

	"github.com/zerobuffer/zerobuffer-go/codec"
)

// panicky panics on an empty frame and declares a fingerprint.
type panicky struct{}

func (panicky) Name() string        { return "panicky" }
func (panicky) Fingerprint() string { return "panicky.T" }
func (panicky) Decode(frame []byte) (int, error) {
	if len(frame) == 0 {
		panic("empty frame")
	}
	return int(frame[0]), nil
}

// selfGuarded recovers by itself.
type selfGuarded struct{ panicky }

func (selfGuarded) RecoversPanics() {}

func TestGuard(t *testing.T) {
	g := codec.Guard[int](panicky{})
	if v, err := g.Decode([]byte{7}); v != 7 || err != nil {
		t.Fatalf("Decode: %d, %v", v, err)
	}
	if _, err := g.Decode(nil); !errors.Is(err, codec.ErrInvalid) {
		t.Fatalf("a panic: %v, want codec.ErrInvalid", err)
	}
	if _, ok := g.(codec.Recovering); !ok {
		t.Error("the guarded decoder is not Recovering: guarding it again would wrap it again")
	}
	if g.Name() != "panicky" || codec.FingerprintOf(g) != "panicky.T" {
		t.Errorf("name %q, fingerprint %q: not passed on", g.Name(), codec.FingerprintOf(g))
	}
	if codec.Guard(g) != g {
		t.Error("Guard of a guarded decoder wrapped it again")
	}
	dst := 5
	if err := g.DecodeInto(nil, &dst); !errors.Is(err, codec.ErrInvalid) || dst != 0 {
		t.Fatalf("DecodeInto of a panic: %d, %v; want 0 and codec.ErrInvalid", dst, err)
	}
	if err := g.DecodeInto([]byte{9}, &dst); err != nil || dst != 9 {
		t.Fatalf("DecodeInto: %d, %v", dst, err)
	}

	// A Recovering decoder without DecodeInto gets a wrapper that adds
	// only DecodeInto; a Recovering IntoDecoder is returned as it is.
	s := codec.Guard[int](selfGuarded{})
	if err := s.DecodeInto([]byte{3}, &dst); err != nil || dst != 3 {
		t.Fatalf("DecodeInto of the wrapped Recovering decoder: %d, %v", dst, err)
	}
	if s.Name() != "panicky" || codec.FingerprintOf(s) != "panicky.T" {
		t.Errorf("name %q, fingerprint %q: not passed on", s.Name(), codec.FingerprintOf(s))
	}
	if codec.Guard[int](s) != s {
		t.Error("Guard wrapped a Recovering IntoDecoder")
	}
}

// intoOnly decodes only through DecodeInto; its Decode must not be called
// when DecodeInto exists.
type intoOnly struct{ panicky }

func (intoOnly) Decode([]byte) (int, error) { panic("Decode called") }
func (intoOnly) DecodeInto(frame []byte, dst *int) error {
	*dst = int(frame[0]) + 100
	return nil
}

func TestDecodeInto(t *testing.T) {
	var dst int
	if err := codec.DecodeInto[int](intoOnly{}, []byte{1}, &dst); err != nil || dst != 101 {
		t.Fatalf("DecodeInto of an IntoDecoder: %d, %v", dst, err)
	}
	if err := codec.DecodeInto[int](panicky{}, []byte{2}, &dst); err != nil || dst != 2 {
		t.Fatalf("DecodeInto of a Decoder: %d, %v", dst, err)
	}
	if err := codec.DecodeInto[int](intoOnly{}, nil, &dst); !errors.Is(err, codec.ErrInvalid) || dst != 0 {
		t.Fatalf("DecodeInto that panicked: %d, %v; want 0 and codec.ErrInvalid", dst, err)
	}
}
