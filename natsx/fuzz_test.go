package natsx

import (
	"bytes"
	"errors"
	"strconv"
	"testing"

	"github.com/zerobuffer/zerobuffer-go/codec"
	"github.com/zerobuffer/zerobuffer-go/codec/msgpack"
)

type fuzzEvent struct {
	Seq  int
	Text string
	Blob []byte
}

// FuzzReceivePath feeds arbitrary bytes to what a receiver does with a
// message from NATS: the batch split of bridge messages, then the codec's
// Decode (the decode path shared with shared memory). Nothing panics; a
// refusal matches codec.ErrInvalid; a batch that splits re-encodes to the
// same bytes.
func FuzzReceivePath(f *testing.F) {
	c := msgpack.New[fuzzEvent]()
	one, err := codec.Marshal[fuzzEvent](c, fuzzEvent{Seq: 1, Text: "x"})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(one, "")
	f.Add(appendFrame(appendFrame(nil, one), one), "2")
	f.Add([]byte{0xff, 0xff, 0xff, 0xff}, "1")
	f.Add([]byte{}, "0")
	f.Add(one, "-1")
	f.Fuzz(func(t *testing.T, data []byte, batch string) {
		frames := [][]byte{data}
		if batch != "" {
			var err error
			frames, err = splitBatch(data, batch)
			if err != nil {
				if !errors.Is(err, codec.ErrInvalid) || !errors.Is(err, ErrBadMessage) {
					t.Fatalf("batch error %v does not match ErrInvalid and ErrBadMessage", err)
				}
				return
			}
			var again []byte
			for _, fr := range frames {
				again = appendFrame(again, fr)
			}
			if n, _ := strconv.Atoi(batch); n != len(frames) || !bytes.Equal(again, data) {
				t.Fatalf("batch %q of %d bytes split into %d frames that re-encode differently", batch, len(data), len(frames))
			}
		}
		for _, fr := range frames {
			if _, err := c.Decode(fr); err != nil && !errors.Is(err, codec.ErrInvalid) {
				t.Fatalf("decode error %v does not match codec.ErrInvalid", err)
			}
		}
	})
}
