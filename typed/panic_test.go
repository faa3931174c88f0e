package typed_test

import (
	"errors"
	"testing"

	"github.com/zerobuffer/zerobuffer-go/codec"
	"github.com/zerobuffer/zerobuffer-go/core"
	"github.com/zerobuffer/zerobuffer-go/typed"
)

// panicky is a faulty raw decoder that panics on frames starting with '!'.
type panicky struct{}

func (panicky) Name() string { return codec.RawName }

func (panicky) Decode(frame []byte) ([]byte, error) {
	if frame[0] == '!' {
		panic("decoder bug")
	}
	return append([]byte(nil), frame...), nil
}

func (p panicky) View(frame []byte) ([]byte, error) { return p.Decode(frame) }

// TestReceiver_DecoderPanicIsErrInvalid: a decoder that panics costs one
// message (an error wrapping codec.ErrInvalid), not the receiving
// goroutine, on every receive path.
func TestReceiver_DecoderPanicIsErrInvalid(t *testing.T) {
	ctx := testCtx(t)
	send := func(name string) {
		tx, err := typed.Dial(ctx, name, codec.Raw{})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range []string{"!a", "b", "!c", "d"} {
			if err := tx.Send(ctx, []byte(m)); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Close(); err != nil {
			t.Fatal(err)
		}
	}
	check := func(path string, got []string, errs int) {
		if len(got) != 2 || got[0] != "b" || got[1] != "d" || errs != 2 {
			t.Errorf("%s: got %q and %d errors, want [b d] and 2", path, got, errs)
		}
	}

	name := bufferName(t)
	rx, err := typed.Listen(name, core.BufferConfig{PayloadSize: 4096}, panicky{})
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	send(name)
	var got []string
	errs := 0
	for v, err := range rx.All(ctx) {
		if err != nil {
			if !errors.Is(err, codec.ErrInvalid) {
				t.Fatalf("All: %v", err)
			}
			errs++
			continue
		}
		got = append(got, string(v))
	}
	check("Receiver.All", got, errs)

	name = bufferName(t)
	vrx, err := typed.ListenView(name, core.BufferConfig{PayloadSize: 4096}, panicky{})
	if err != nil {
		t.Fatal(err)
	}
	defer vrx.Close()
	send(name)
	got, errs = nil, 0
	for v, err := range vrx.All(ctx) {
		if err != nil {
			if !errors.Is(err, codec.ErrInvalid) {
				t.Fatalf("ViewReceiver.All: %v", err)
			}
			errs++
			continue
		}
		got = append(got, string(v))
	}
	check("ViewReceiver.All", got, errs)
}
