package typed_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"testing"
	"time"

	"github.com/zerobuffer/zerobuffer-go/codec"
	"github.com/zerobuffer/zerobuffer-go/codec/flatbuf/sensor"
	"github.com/zerobuffer/zerobuffer-go/codec/msgpack"
	"github.com/zerobuffer/zerobuffer-go/core"
	"github.com/zerobuffer/zerobuffer-go/typed"
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// smallPair returns an in-process msgpack receiver and sender.
func smallPair(t *testing.T, ring int) (*typed.Receiver[Small], *typed.Sender[Small]) {
	t.Helper()
	name := bufferName(t)
	rx, err := typed.Listen(name, core.BufferConfig{PayloadSize: ring}, msgpack.New[Small]())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rx.Close() })
	tx, err := typed.Dial(testCtx(t), name, msgpack.New[Small]())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tx.Close() })
	return rx, tx
}

// rawViewPair returns an in-process raw view receiver and sender on a
// ring of ring bytes.
func rawViewPair(t *testing.T, ring int) (*typed.ViewReceiver[[]byte], *typed.Sender[[]byte]) {
	t.Helper()
	name := bufferName(t)
	rx, err := typed.ListenView(name, core.BufferConfig{PayloadSize: ring}, codec.Raw{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rx.Close() })
	tx, err := typed.Dial(testCtx(t), name, codec.Raw{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tx.Close() })
	return rx, tx
}

func TestSender_CloseDrainsThenEOF(t *testing.T) {
	ctx := testCtx(t)
	rx, tx := smallPair(t, 4096)
	for i := range 3 {
		if err := tx.Send(ctx, smallMsg(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Close(); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		v, err := rx.Recv(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := checkSmall(i, v); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := rx.Recv(ctx); err != io.EOF {
		t.Fatalf("got %v, want io.EOF itself", err)
	}
	if err := tx.Send(ctx, smallMsg(9)); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("Send after Close: %v, want os.ErrClosed", err)
	}
}

func TestSend_BackPressure(t *testing.T) {
	ctx := testCtx(t)
	rx, tx := smallPair(t, 1024)
	sent := 0
	for ; ; sent++ { // fill the ring
		short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		err := tx.Send(short, smallMsg(sent))
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if sent == 0 {
		t.Fatal("nothing fitted the ring")
	}
	done := make(chan error, 1)
	go func() { done <- tx.Send(ctx, smallMsg(sent)) }()
	select {
	case err := <-done:
		t.Fatalf("Send on a full ring returned %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	for i := range sent + 1 { // receiving frees space: the blocked Send completes
		v, err := rx.Recv(ctx)
		if err != nil || checkSmall(i, v) != nil {
			t.Fatalf("message %d: %+v, %v", i, v, err)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestErrors_PassThrough(t *testing.T) {
	ctx := testCtx(t)
	rx, tx := smallPair(t, 4096)
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := rx.Recv(canceled); !errors.Is(err, context.Canceled) {
		t.Errorf("Recv(canceled) = %v", err)
	}
	if err := rx.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := rx.Recv(ctx); !errors.Is(err, os.ErrClosed) || !errors.Is(err, core.ErrClosed) {
		t.Errorf("Recv after Close = %v", err)
	}
	if err := tx.Send(ctx, smallMsg(0)); !errors.Is(err, core.ErrReaderDead) {
		t.Errorf("Send to a closed receiver = %v, want ErrReaderDead", err)
	}
}

func TestSend_EncodeErrorSendsNothing(t *testing.T) {
	ctx := testCtx(t)
	name := bufferName(t)
	rx, err := typed.Listen(name, core.BufferConfig{PayloadSize: 4096}, msgpack.New[any]())
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	tx, err := typed.Dial(ctx, name, msgpack.New[any]())
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Send(ctx, make(chan int)); !errors.Is(err, codec.ErrEncode) {
		t.Fatalf("Send(chan) = %v, want ErrEncode", err)
	}
	if err := tx.Send(ctx, "ok"); err != nil {
		t.Fatal(err)
	}
	tx.Close()
	if v, err := rx.Recv(ctx); err != nil || v != "ok" {
		t.Fatalf("Recv = %v, %v", v, err)
	}
}

func TestFrameTooLarge(t *testing.T) {
	ctx := testCtx(t)
	_, tx := rawViewPair(t, 1024)
	if err := tx.Send(ctx, make([]byte, 4096)); !errors.Is(err, core.ErrFrameTooLarge) {
		t.Fatalf("got %v, want ErrFrameTooLarge", err)
	}
}

func TestReceiver_C(t *testing.T) {
	ctx := testCtx(t)
	rx, tx := smallPair(t, 4096)
	go func() {
		for i := range 100 {
			if tx.Send(ctx, smallMsg(i)) != nil {
				return
			}
		}
		tx.Close()
	}()
	n := 0
	ch := rx.C(ctx)
	if rx.C(context.Background()) != ch {
		t.Fatal("second C call returned another channel")
	}
	for done := false; !done; {
		select {
		case v, ok := <-ch:
			if !ok {
				done = true
				break
			}
			if err := checkSmall(n, v); err != nil {
				t.Fatal(err)
			}
			n++
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		}
	}
	if n != 100 || rx.Err() != nil {
		t.Fatalf("received %d, Err() = %v; want 100, nil", n, rx.Err())
	}
}

func TestReceiver_CStopsOnCancelAndClose(t *testing.T) {
	rx, _ := smallPair(t, 4096)
	ctx, cancel := context.WithCancel(testCtx(t))
	ch := rx.C(ctx)
	cancel()
	if _, ok := <-ch; ok {
		t.Fatal("value on an idle channel")
	}
	if err := rx.Err(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Err() = %v, want context.Canceled", err)
	}

	rx2, tx2 := smallPair(t, 4096)
	ch2 := rx2.C(testCtx(t))
	if err := tx2.Send(testCtx(t), smallMsg(0)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond) // the pump holds message 0, nobody receives
	if err := rx2.Close(); err != nil {
		t.Fatal(err)
	}
	for range ch2 { // closed by Close (message 0 may or may not arrive)
	}
	if err := rx2.Err(); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("Err() after Close = %v, want os.ErrClosed", err)
	}
}

func TestReceiver_AllDecodeErrorContinues(t *testing.T) {
	ctx := testCtx(t)
	name := bufferName(t)
	rx, err := typed.Listen(name, core.BufferConfig{PayloadSize: 4096}, msgpack.New[Small]())
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	w, err := core.NewWriter(name) // a raw writer that claims to speak msgpack
	if err != nil {
		t.Fatal(err)
	}
	md, _ := codec.AppendMetadata(nil, msgpack.Name, nil)
	good, _ := codec.Marshal[Small](msgpack.New[Small](), smallMsg(1))
	if err := errors.Join(w.SetMetadata(md), w.WriteFrame(ctx, []byte{0xc1}), w.WriteFrame(ctx, good), w.Close()); err != nil {
		t.Fatal(err)
	}
	var got []error
	n := 0
	for v, err := range rx.All(ctx) {
		got = append(got, err)
		if err == nil {
			n++
			if checkSmall(1, v) != nil {
				t.Fatalf("got %+v", v)
			}
		}
	}
	if len(got) != 2 || !errors.Is(got[0], codec.ErrInvalid) || n != 1 {
		t.Fatalf("errors %v, %d good messages; want [ErrInvalid, nil], 1", got, n)
	}
}

func TestSender_WithMetadata(t *testing.T) {
	ctx := testCtx(t)
	name := bufferName(t)
	rx, err := typed.Listen(name, core.BufferConfig{MetadataSize: 256, PayloadSize: 4096}, msgpack.New[Small]())
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	tx, err := typed.Dial(ctx, name, msgpack.New[Small](), typed.WithMetadata([]byte("app=test")))
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	md, err := rx.Reader().Metadata()
	if err != nil {
		t.Fatal(err)
	}
	name, user, err := codec.ParseMetadata(md)
	fp, rest := codec.ParseType(user)
	if name != msgpack.Name || fp != msgpack.New[Small]().Fingerprint() || !bytes.Equal(rest, []byte("app=test")) || err != nil {
		t.Fatalf("metadata %q: %q %q %q %v", md, name, fp, rest, err)
	}
}

func TestConstructors_Nil(t *testing.T) {
	if _, err := typed.NewSender[int](nil, nil); err == nil {
		t.Error("NewSender(nil) succeeded")
	}
	if _, err := typed.NewReceiver[Small](nil, msgpack.New[Small]()); err == nil {
		t.Error("NewReceiver(nil reader) succeeded")
	}
	if _, err := typed.Listen[Small](bufferName(t), core.BufferConfig{PayloadSize: 64}, nil); err == nil {
		t.Error("Listen(nil decoder) succeeded")
	}
	if _, err := typed.ListenView[[]byte](bufferName(t), core.BufferConfig{PayloadSize: 64}, nil); err == nil {
		t.Error("ListenView(nil decoder) succeeded")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, err := typed.Dial(ctx, bufferName(t), codec.Raw{}); !errors.Is(err, context.DeadlineExceeded) ||
		!errors.Is(err, os.ErrNotExist) {
		t.Errorf("Dial(no buffer) = %v, want deadline and not-exist", err)
	}
}

// Compile-time checks: owning decoders fit Receiver, borrowing ones only
// ViewReceiver (see TestReceiver_RejectsViewDecoder for the negative case).
var (
	_                                   = typed.NewReceiver[Small]
	_                                   = typed.NewReceiver[[]byte]
	_                                   = typed.NewViewReceiver[sensor.Reading]
	_ codec.Decoder[[]byte]             = codec.RawCopy{}
	_ codec.ViewDecoder[sensor.Reading] = sensor.NewDecoder()
)

// codecRaw is codec.Raw under another type, so that a Sender does not
// recognise it and encodes through Reserve and Commit as for any codec.
type codecRaw struct{ codec.Raw }

// TestSend_RawSameAsCodecPath: a Sender of the raw codec writes []byte
// values with WriteFrame instead of through the codec; it must behave as
// the codec path does: the same frames, and errors of the same kind for
// an empty value, a value larger than the ring and a send after Close.
func TestSend_RawSameAsCodecPath(t *testing.T) {
	for _, enc := range []codec.Encoder[[]byte]{codec.Raw{}, codec.RawCopy{}, codecRaw{}} {
		ctx := testCtx(t)
		name := bufferName(t)
		rx, err := typed.ListenView(name, core.BufferConfig{PayloadSize: 1024}, codec.Raw{})
		if err != nil {
			t.Fatal(err)
		}
		tx, err := typed.Dial(ctx, name, enc)
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.Send(ctx, nil); !errors.Is(err, core.ErrInvalidFrameSize) {
			t.Errorf("%T: empty value: %v, want core.ErrInvalidFrameSize", enc, err)
		}
		if err := tx.Send(ctx, make([]byte, 4096)); !errors.Is(err, core.ErrFrameTooLarge) {
			t.Errorf("%T: 4 KiB value: %v, want core.ErrFrameTooLarge", enc, err)
		}
		// Enough frames to wrap the 1 KiB ring several times.
		for i := range 100 {
			if err := tx.Send(ctx, bytes.Repeat([]byte{byte(i)}, 1+i%50)); err != nil {
				t.Fatalf("%T: frame %d: %v", enc, i, err)
			}
			err := rx.RecvFunc(ctx, func(p []byte) error {
				if !bytes.Equal(p, bytes.Repeat([]byte{byte(i)}, 1+i%50)) {
					return fmt.Errorf("frame %d: got %d bytes %x", i, len(p), p[:1])
				}
				return nil
			})
			if err != nil {
				t.Fatalf("%T: %v", enc, err)
			}
		}
		if err := tx.Close(); err != nil {
			t.Fatal(err)
		}
		if err := tx.Send(ctx, []byte("late")); !errors.Is(err, core.ErrClosed) {
			t.Errorf("%T: Send after Close: %v, want core.ErrClosed", enc, err)
		}
		if err := rx.RecvFunc(ctx, func([]byte) error { return nil }); !errors.Is(err, io.EOF) {
			t.Errorf("%T: after Close: %v, want io.EOF", enc, err)
		}
		rx.Close()
	}
}

// A Recv that waits while another goroutine's Recv waits for the sender
// still ends with its own ctx, and the first one gets the next message.
func TestReceiver_ConcurrentRecvHonoursCtx(t *testing.T) {
	rx, tx := smallPair(t, 4096)
	ctx := testCtx(t)
	if err := tx.Send(ctx, smallMsg(0)); err != nil {
		t.Fatal(err)
	}
	if v, err := rx.Recv(ctx); err != nil || v != smallMsg(0) {
		t.Fatalf("Recv = %+v, %v", v, err) // passes the first-message check
	}
	first := make(chan error, 1)
	go func() {
		v, err := rx.Recv(ctx)
		if err == nil && v != smallMsg(1) {
			err = fmt.Errorf("got %+v, want message 1", v)
		}
		first <- err
	}()
	time.Sleep(20 * time.Millisecond) // let it wait for the sender first (the test holds either way)
	start := time.Now()
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := rx.Recv(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second Recv: %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("second Recv returned %v after its 50ms deadline", d)
	}
	if err := tx.Send(ctx, smallMsg(1)); err != nil {
		t.Fatal(err)
	}
	if err := <-first; err != nil {
		t.Fatalf("first Recv: %v", err)
	}
}
