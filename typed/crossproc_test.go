package typed_test

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/zerobuffer/zerobuffer-go/codec"
	"github.com/zerobuffer/zerobuffer-go/codec/flatbuf/sensor"
	"github.com/zerobuffer/zerobuffer-go/codec/msgpack"
	"github.com/zerobuffer/zerobuffer-go/core"
	"github.com/zerobuffer/zerobuffer-go/typed"
)

const (
	crossCount = 100_000
	testRing   = 64 << 10 // small enough that the sender blocks on back-pressure
)

// recvOneFunc receives message i and checks its content; it returns the
// receive error unchanged.
type recvOneFunc func(ctx context.Context, i int) error

var errContent = errors.New("content mismatch")

// crossProcess runs a child sender of crossCount messages of codecName.
// With end "close" the receiver must then get io.EOF; with "hang" the child
// is SIGKILLed after its last message and the receiver must get
// core.ErrWriterDead.
func crossProcess(t *testing.T, name, codecName, end string, recvOne recvOneFunc) {
	// Generous: with the race detector, five other streams in parallel and
	// a loaded 2-core machine, 100 000 messages took more than 50 s.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	p := startPeer(t, child{role: "send", codec: codecName, size: "var", end: end, count: crossCount}, name)
	for i := range crossCount {
		if err := recvOne(ctx, i); err != nil {
			t.Fatalf("message %d: %v\nchild stderr:\n%s", i, err, p.stderr)
		}
	}
	want := io.EOF
	if end == "hang" {
		if l := p.line(t); l != "sent" {
			t.Fatalf("child says %q", l)
		}
		p.kill(t)
		want = core.ErrWriterDead
	}
	if err := recvOne(ctx, crossCount); !errors.Is(err, want) {
		t.Fatalf("after the last message: got %v, want %v", err, want)
	}
	if end == "close" {
		p.wait(t)
	}
}

func TestCrossProcess_Raw(t *testing.T) {
	t.Parallel()
	for _, end := range []string{"close", "hang"} {
		t.Run(end, func(t *testing.T) {
			t.Parallel()
			name := bufferName(t)
			rx, err := typed.ListenView(name, core.BufferConfig{PayloadSize: testRing}, codec.Raw{})
			if err != nil {
				t.Fatal(err)
			}
			defer rx.Close()
			// Each call runs a fresh All loop for one message and breaks,
			// which also checks that break releases the frame and loses
			// nothing, 100 000 times.
			next := 0
			crossProcess(t, name, "raw", end, func(ctx context.Context, i int) error {
				for v, err := range rx.All(ctx) {
					if err != nil {
						return err
					}
					if err := checkRaw(next, v); err != nil {
						return errors.Join(errContent, err)
					}
					next++
					return nil
				}
				return io.EOF // All ends without an error on io.EOF
			})
		})
	}
}

func TestCrossProcess_Msgpack(t *testing.T) {
	t.Parallel()
	for _, end := range []string{"close", "hang"} {
		t.Run(end, func(t *testing.T) {
			t.Parallel()
			name := bufferName(t)
			rx, err := typed.Listen(name, core.BufferConfig{PayloadSize: testRing}, msgpack.New[Small]())
			if err != nil {
				t.Fatal(err)
			}
			defer rx.Close()
			crossProcess(t, name, "msgpack", end, func(ctx context.Context, i int) error {
				v, err := rx.Recv(ctx)
				if err != nil {
					return err
				}
				return checkSmall(i, v)
			})
		})
	}
}

func TestCrossProcess_Flatbuf(t *testing.T) {
	t.Parallel()
	for _, end := range []string{"close", "hang"} {
		t.Run(end, func(t *testing.T) {
			t.Parallel()
			name := bufferName(t)
			rx, err := typed.ListenView(name, core.BufferConfig{PayloadSize: testRing}, sensor.NewDecoder())
			if err != nil {
				t.Fatal(err)
			}
			defer rx.Close()
			crossProcess(t, name, "flatbuf", end, func(ctx context.Context, i int) error {
				return rx.RecvFunc(ctx, func(r sensor.Reading) error { return checkReading(i, &r) })
			})
		})
	}
}

// TestCrossProcess_ChanKilledMidStream kills the sender while it is blocked
// on a full ring: the channel delivers a gapless prefix, closes, and Err
// reports core.ErrWriterDead.
func TestCrossProcess_ChanKilledMidStream(t *testing.T) {
	name := bufferName(t)
	rx, err := typed.Listen(name, core.BufferConfig{PayloadSize: 4096}, msgpack.New[Small]())
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p := startPeer(t, child{role: "send", codec: "msgpack", size: "var", end: "close", count: crossCount}, name)
	ch := rx.C(ctx)
	n := 0
	for v := range ch {
		if err := checkSmall(n, v); err != nil {
			t.Fatal(err)
		}
		n++
		if n == 1000 {
			p.kill(t)
		}
	}
	if n < 1000 || n >= crossCount {
		t.Fatalf("received %d messages", n)
	}
	if err := rx.Err(); !errors.Is(err, core.ErrWriterDead) {
		t.Fatalf("Err() = %v, want ErrWriterDead", err)
	}
	t.Logf("received %d messages before the writer died", n)
}
