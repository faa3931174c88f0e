package natsx_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/zerobuffer/zerobuffer-go/codec"
	"github.com/zerobuffer/zerobuffer-go/codec/msgpack"
	"github.com/zerobuffer/zerobuffer-go/core"
	"github.com/zerobuffer/zerobuffer-go/internal/testproc"
	"github.com/zerobuffer/zerobuffer-go/natsx"
	"github.com/zerobuffer/zerobuffer-go/typed"
)

// event is the message type of the suite.
type event struct {
	Seq  int
	Text string
	Blob []byte
}

// transport opens the two ends of one channel. Both ends satisfy the
// typed interfaces, so every case below runs unchanged on each.
type transport struct {
	name string
	// listen opens the receiving end of channel ch.
	listen func(t *testing.T, ch string, dec codec.Decoder[event]) typed.Consumer[event]
	// dial opens a sending end; it may fail (codec mismatch).
	dial func(t *testing.T, ch string, enc codec.Encoder[event]) (typed.Producer[event], error)
}

func transports(t *testing.T) []transport {
	ctx := context.Background()
	return []transport{
		{
			name: "shm",
			listen: func(t *testing.T, ch string, dec codec.Decoder[event]) typed.Consumer[event] {
				rx, err := typed.Listen(ch, core.BufferConfig{PayloadSize: 2 << 20}, dec)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() {
					rx.Close()
					if left := testproc.Leftovers(ch); len(left) > 0 {
						t.Errorf("left behind: %v", left)
					}
				})
				return rx
			},
			dial: func(t *testing.T, ch string, enc codec.Encoder[event]) (typed.Producer[event], error) {
				tx, err := typed.Dial(ctx, ch, enc)
				if err == nil {
					t.Cleanup(func() { tx.Close() })
				}
				return tx, err
			},
		},
		natsTransport(t, "nats-jetstream", natsx.JetStream),
		natsTransport(t, "nats-core", natsx.Core),
	}
}

func natsTransport(t *testing.T, name string, mode natsx.Mode) transport {
	ctx := context.Background()
	return transport{
		name: name,
		listen: func(t *testing.T, ch string, dec codec.Decoder[event]) typed.Consumer[event] {
			nc := connect(t, server(t).URL())
			rx, err := natsx.Listen(ctx, nc, ch, dec, natsx.WithMode(mode), natsx.WithMemoryStorage())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				rx.Close()
				if err := natsx.Remove(ctx, nc, ch); err != nil {
					t.Error(err)
				}
			})
			return rx
		},
		dial: func(t *testing.T, ch string, enc codec.Encoder[event]) (typed.Producer[event], error) {
			nc := connect(t, server(t).URL())
			tx, err := natsx.Dial(ctx, nc, ch, enc, natsx.WithMode(mode), natsx.WithMemoryStorage())
			if err == nil {
				t.Cleanup(func() { tx.Close() })
			}
			return tx, err
		},
	}
}

// chanName is a name valid both as a buffer name and as a NATS subject.
func chanName(t *testing.T) string {
	return strings.ReplaceAll(testproc.Name(t, "zbn", 30), ".", "_")
}

// liar is an encoder that claims the msgpack codec and writes whatever
// bytes it is given: a peer sending malformed messages.
type liar struct{}

func (liar) Name() string { return msgpack.Name }
func (liar) EncodeFrame(ctx context.Context, w codec.FrameWriter, v event) error {
	p, err := w.Reserve(ctx, len(v.Blob))
	if err != nil {
		return err
	}
	copy(p, v.Blob)
	return w.Commit()
}

// rawEvent is an encoder of another codec ("raw") for the event type.
type rawEvent struct{}

func (rawEvent) Name() string { return codec.RawName }
func (rawEvent) EncodeFrame(ctx context.Context, w codec.FrameWriter, v event) error {
	return codec.Raw{}.EncodeFrame(ctx, w, []byte(v.Text))
}

func TestSuite(t *testing.T) {
	for _, tr := range transports(t) {
		t.Run(tr.name, func(t *testing.T) {
			t.Run("order", func(t *testing.T) { suiteOrder(t, tr) })
			t.Run("close", func(t *testing.T) { suiteClose(t, tr) })
			t.Run("mismatch", func(t *testing.T) { suiteMismatch(t, tr) })
			t.Run("large", func(t *testing.T) { suiteLarge(t, tr) })
			t.Run("malformed", func(t *testing.T) { suiteMalformed(t, tr) })
		})
	}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// suiteOrder: messages arrive once each, in order, then io.EOF.
func suiteOrder(t *testing.T, tr transport) {
	ctx := testCtx(t)
	ch := chanName(t)
	c := msgpack.New[event]()
	rx := tr.listen(t, ch, c)
	tx, err := tr.dial(t, ch, c)
	if err != nil {
		t.Fatal(err)
	}
	n := 2000
	if testing.Short() {
		n = 300
	}
	go func() {
		for i := range n {
			if err := tx.Send(ctx, event{Seq: i, Text: "m"}); err != nil {
				t.Errorf("send %d: %v", i, err)
				return
			}
		}
		if err := tx.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	}()
	i := 0
	for v, err := range rx.All(ctx) {
		if err != nil {
			t.Fatalf("after %d: %v", i, err)
		}
		if v.Seq != i {
			t.Fatalf("got message %d, want %d", v.Seq, i)
		}
		i++
	}
	if i != n {
		t.Fatalf("received %d of %d", i, n)
	}
	if _, err := rx.Recv(ctx); err != io.EOF {
		t.Fatalf("Recv after the end: %v, want io.EOF", err)
	}
}

// suiteClose: a closed sender refuses to send; a receive blocked with no
// message ends with its ctx; a closed receiver returns core.ErrClosed.
func suiteClose(t *testing.T, tr transport) {
	ctx := testCtx(t)
	ch := chanName(t)
	c := msgpack.New[event]()
	rx := tr.listen(t, ch, c)
	tx, err := tr.dial(t, ch, c)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Send(ctx, event{Seq: 1}); err != nil {
		t.Fatal(err)
	}
	if v, err := rx.Recv(ctx); err != nil || v.Seq != 1 {
		t.Fatalf("Recv: %v %v", v, err)
	}
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	_, err = rx.Recv(short)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Recv with nothing sent: %v, want DeadlineExceeded", err)
	}
	if err := tx.Close(); err != nil {
		t.Fatal(err)
	}
	if err := tx.Send(ctx, event{}); !errors.Is(err, core.ErrClosed) {
		t.Fatalf("Send after Close: %v, want core.ErrClosed", err)
	}
	if _, err := rx.Recv(ctx); err != io.EOF {
		t.Fatalf("Recv after the sender's Close: %v, want io.EOF", err)
	}
	if err := rx.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := rx.Recv(ctx); !errors.Is(err, core.ErrClosed) {
		t.Fatalf("Recv after Close: %v, want core.ErrClosed", err)
	}
}

// suiteMismatch: a receiver refuses a sender of another codec, stickily;
// a second sender of another codec is refused once the first declared.
func suiteMismatch(t *testing.T, tr transport) {
	ctx := testCtx(t)
	ch := chanName(t)
	rx := tr.listen(t, ch, msgpack.New[event]())
	tx, err := tr.dial(t, ch, rawEvent{})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := tx.Send(ctx, event{Text: "not msgpack"}); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		_, err := rx.Recv(ctx)
		var me *codec.MismatchError
		if !errors.Is(err, typed.ErrCodecMismatch) || !errors.As(err, &me) || me.Got != codec.RawName {
			t.Fatalf("Recv: %v, want a mismatch naming %q", err, codec.RawName)
		}
	}
	if tr.name == "nats-core" {
		return // no stored declaration: each message carries its codec
	}
	if err := tx.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.dial(t, ch, msgpack.New[event]()); !errors.Is(err, typed.ErrCodecMismatch) {
		t.Fatalf("second sender with another codec: %v, want a mismatch", err)
	}
}

// suiteLarge: a 512 KiB message arrives intact; one above the transport's
// limit fails with core.ErrFrameTooLarge and sends nothing.
func suiteLarge(t *testing.T, tr transport) {
	ctx := testCtx(t)
	ch := chanName(t)
	c := msgpack.New[event]()
	rx := tr.listen(t, ch, c)
	tx, err := tr.dial(t, ch, c)
	if err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 512<<10/16)
	if err := tx.Send(ctx, event{Seq: 1, Blob: big}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Send(ctx, event{Seq: 2, Blob: make([]byte, 4<<20)}); !errors.Is(err, core.ErrFrameTooLarge) {
		t.Fatalf("4 MiB message: %v, want core.ErrFrameTooLarge", err)
	}
	if err := tx.Send(ctx, event{Seq: 3}); err != nil {
		t.Fatal(err)
	}
	v, err := rx.Recv(ctx)
	if err != nil || v.Seq != 1 || !bytes.Equal(v.Blob, big) {
		t.Fatalf("large message: seq %d, %d bytes, %v", v.Seq, len(v.Blob), err)
	}
	if v, err := rx.Recv(ctx); err != nil || v.Seq != 3 {
		t.Fatalf("after the refused message: %v %v, want seq 3", v, err)
	}
}

// suiteMalformed: malformed bytes under the right codec name give a decode
// error matching codec.ErrInvalid, that message only; the stream goes on.
func suiteMalformed(t *testing.T, tr transport) {
	ctx := testCtx(t)
	ch := chanName(t)
	c := msgpack.New[event]()
	rx := tr.listen(t, ch, c)
	tx, err := tr.dial(t, ch, liar{})
	if err != nil {
		t.Fatal(err)
	}
	good, err := codec.Marshal[event](c, event{Seq: 7})
	if err != nil {
		t.Fatal(err)
	}
	bad := [][]byte{
		{0xc1},                           // reserved byte
		{0xdd, 0xff, 0xff, 0xff, 0xff},   // array32 of 4G elements in 5 bytes
		{0x93, 0x01},                     // truncated
		bytes.Repeat([]byte{0x91}, 5000), // nesting deeper than MaxDepth
	}
	for _, b := range bad {
		if err := tx.Send(ctx, event{Blob: b}); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Send(ctx, event{Blob: good}); err != nil {
		t.Fatal(err)
	}
	for i := range bad {
		if _, err := rx.Recv(ctx); !errors.Is(err, codec.ErrInvalid) {
			t.Fatalf("malformed message %d: %v, want codec.ErrInvalid", i, err)
		}
	}
	if v, err := rx.Recv(ctx); err != nil || v.Seq != 7 {
		t.Fatalf("after the malformed messages: %v %v", v, err)
	}
}
