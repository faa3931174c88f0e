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
	var s codec.Decoder[int] = selfGuarded{}
	if codec.Guard(s) != s {
		t.Error("Guard wrapped a Recovering decoder")
	}
}
