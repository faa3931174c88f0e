package natsx_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/zerobuffer/zerobuffer-go/codec"
	"github.com/zerobuffer/zerobuffer-go/codec/msgpack"
	"github.com/zerobuffer/zerobuffer-go/core"
	"github.com/zerobuffer/zerobuffer-go/natsx"
	"github.com/zerobuffer/zerobuffer-go/typed"
)

// listenCore is a core-mode natsx.Listen that fails the test on error and
// closes the receiver at cleanup.
func listenCore[T any](t *testing.T, nc *nats.Conn, subj string, dec codec.Decoder[T]) *natsx.Receiver[T] {
	t.Helper()
	rx, err := natsx.Listen(context.Background(), nc, subj, dec, natsx.WithMode(natsx.Core))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rx.Close() })
	return rx
}

// TestRawCore: a core-mode channel of []byte with codec.Raw sending (the
// encoder-free publish path) and codec.RawCopy receiving (the copy-free
// decode path). Every message arrives with its bytes; each value is the
// receiver's own (capacity ends at its length, so an append never writes
// into memory another value shows); an oversized message fails with
// core.ErrFrameTooLarge and sends nothing; Send after Close fails with
// core.ErrClosed.
func TestRawCore(t *testing.T) {
	ctx, url, nc, subj := testChannel(t, 60*time.Second)
	rx := listenCore(t, nc, subj, codec.Decoder[[]byte](codec.RawCopy{}))
	tx, err := natsx.Dial(ctx, connect(t, url), subj, codec.Raw{}, natsx.WithMode(natsx.Core))
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	msg := func(i int) []byte { return []byte(fmt.Sprintf("message %03d %s", i, bytes.Repeat([]byte{byte(i)}, i))) }
	buf := make([]byte, 0, 512)
	for i := range n {
		// The sender reuses its buffer: nats.go must have copied the
		// bytes before Send returned.
		buf = append(buf[:0], msg(i)...)
		if err := tx.Send(ctx, buf); err != nil {
			t.Fatal(err)
		}
		if i == n/2 {
			big := make([]byte, nc.MaxPayload()+1)
			if err := tx.Send(ctx, big); !errors.Is(err, core.ErrFrameTooLarge) {
				t.Fatalf("oversized message: %v, want core.ErrFrameTooLarge", err)
			}
		}
	}
	var prev []byte
	for i := range n {
		v, err := rx.Recv(ctx)
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if !bytes.Equal(v, msg(i)) {
			t.Fatalf("message %d: %q, want %q", i, v, msg(i))
		}
		if cap(v) != len(v) {
			t.Fatalf("message %d: capacity %d beyond its %d bytes", i, cap(v), len(v))
		}
		if prev != nil {
			_ = append(prev, "overwrite?"...)
			if !bytes.Equal(v, msg(i)) {
				t.Fatalf("message %d changed by an append to message %d", i, i-1)
			}
		}
		prev = v
	}
	if err := tx.Close(); err != nil {
		t.Fatal(err)
	}
	if err := tx.Send(ctx, []byte("late")); !errors.Is(err, core.ErrClosed) {
		t.Fatalf("Send after Close: %v, want core.ErrClosed", err)
	}
}

// TestCoreReplyV1: messages of a sender of an earlier version, whose reply
// subject starts with the longer prefix "_ZB_CODEC.", are still attributed
// and checked: a matching codec is received, and a receiver of another
// codec fails with typed.ErrCodecMismatch.
func TestCoreReplyV1(t *testing.T) {
	ctx, url, nc, subj := testChannel(t, 60*time.Second)
	rx := listenCore(t, nc, subj, codec.Decoder[[]byte](codec.RawCopy{}))
	other := subj + "_other"
	bad := listenCore(t, nc, other, codec.Decoder[struct{ A int }](msgpack.New[struct{ A int }]()))
	pc := connect(t, url)
	const id = "OLDSENDERIDOLDSENDERID"
	if err := pc.PublishRequest(subj, "_ZB_CODEC."+id+".raw", []byte("old")); err != nil {
		t.Fatal(err)
	}
	if err := pc.PublishRequest(other, "_ZB_CODEC."+id+".raw", []byte{0x80}); err != nil {
		t.Fatal(err)
	}
	// Its end of stream ends the channel: the receiver had learned the
	// sender from its message.
	eos := &nats.Msg{Subject: subj, Reply: "_ZB_CODEC." + id + ".raw", Header: nats.Header{"Zb-Eos": []string{id}}}
	if err := pc.PublishMsg(eos); err != nil {
		t.Fatal(err)
	}
	if err := pc.Flush(); err != nil {
		t.Fatal(err)
	}
	if v, err := rx.Recv(ctx); err != nil || string(v) != "old" {
		t.Fatalf("old-style message: %q %v", v, err)
	}
	if _, err := rx.Recv(ctx); !errors.Is(err, io.EOF) {
		t.Fatalf("after the old-style end of stream: %v, want io.EOF", err)
	}
	if _, err := bad.Recv(ctx); !errors.Is(err, typed.ErrCodecMismatch) {
		t.Fatalf("old-style message of another codec: %v, want typed.ErrCodecMismatch", err)
	}
}

// TestRawBatchFramesOwned: the frames of a batch message (as the bridge
// publishes them) decoded with codec.RawCopy share the message's payload,
// so each must end its capacity at its length: appending to one frame
// must not overwrite the next.
func TestRawBatchFramesOwned(t *testing.T) {
	ctx, url, nc, subj := testChannel(t, 60*time.Second)
	rx, err := natsx.Listen(ctx, nc, subj, codec.RawCopy{}, natsx.WithMemoryStorage())
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	// The sender declares the channel's codec; the batch message itself
	// is published as the bridge does: u32 length, bytes, per frame.
	tx, err := natsx.Dial(ctx, connect(t, url), subj, codec.Raw{}, natsx.WithMemoryStorage())
	if err != nil {
		t.Fatal(err)
	}
	frames := [][]byte{[]byte("first"), []byte("second"), []byte("third")}
	var payload []byte
	for _, f := range frames {
		payload = binary.LittleEndian.AppendUint32(payload, uint32(len(f)))
		payload = append(payload, f...)
	}
	m := &nats.Msg{Subject: subj, Data: payload, Header: nats.Header{"Zb-Batch": []string{"3"}}}
	if _, err := jsContext(t, nc).PublishMsg(ctx, m); err != nil {
		t.Fatal(err)
	}
	if err := tx.Close(); err != nil {
		t.Fatal(err)
	}
	var got [][]byte
	for i := range frames {
		v, err := rx.Recv(ctx)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		got = append(got, v)
	}
	for i := range got {
		_ = append(got[i], "XXXXXXXX"...)
	}
	for i, f := range frames {
		if !bytes.Equal(got[i], f) {
			t.Fatalf("frame %d: %q after appends to the frames, want %q", i, got[i], f)
		}
	}
	if _, err := rx.Recv(ctx); !errors.Is(err, io.EOF) {
		t.Fatalf("after the sender's Close: %v, want io.EOF", err)
	}
}
