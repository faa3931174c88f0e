package typed_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/zerobuffer/zerobuffer-go/codec"
	"github.com/zerobuffer/zerobuffer-go/codec/flatbuf/sensor"
	"github.com/zerobuffer/zerobuffer-go/codec/msgpack"
	"github.com/zerobuffer/zerobuffer-go/core"
	"github.com/zerobuffer/zerobuffer-go/internal/typedmsg"
	"github.com/zerobuffer/zerobuffer-go/typed"
)

// Cross-process benchmarks. Each sub-benchmark runs the peer in a child
// process (the re-executed test binary):
//
//   - send/CODEC/SIZE: this process sends, the child receives until io.EOF;
//   - recv/CODEC/SIZE: the child sends until this process closes, this
//     process receives (and decodes) each message.
//
// Reported: ns/op and allocs/op of this process per message, msgs/s,
// chan-msgs/s (an in-process Go channel of the same Go type, capacity
// chanCap, one sender and one receiver goroutine, same message count,
// measured in the same run) and x-chan = msgs/s / chan-msgs/s.
// Run: go test -run '^$' -bench . ./typed/

const (
	benchRing = 1 << 20
	chanCap   = 1024
)

var benchSizes = []string{"small", "4k"}

func BenchmarkSend(b *testing.B) {
	for _, size := range benchSizes {
		b.Run("raw/"+size, func(b *testing.B) {
			benchSend(b, "raw", size, codec.Raw{}, rawMsg(size, 1, nil))
		})
		b.Run("msgpack/"+size, func(b *testing.B) {
			if size == "4k" {
				benchSend(b, "msgpack", size, msgpack.New[Big](), bigMsg(1))
				return
			}
			benchSend(b, "msgpack", size, msgpack.New[Small](), smallMsg(1))
		})
		b.Run("flatbuf/"+size, func(b *testing.B) {
			benchSend(b, "flatbuf", size, sensor.NewEncoder(), readingMsg(size, 1, &sensor.ReadingT{}))
		})
	}
}

// BenchmarkTick: the 64-byte msgpack struct of the acceptance figures,
// generated (msgp) and by reflection, each way.
func BenchmarkTick(b *testing.B) {
	tick := typedmsg.MakeTick(1)
	b.Run("send/gen", func(b *testing.B) {
		benchSend(b, "tick-gen", "small", msgpack.New[typedmsg.Tick](), tick)
	})
	b.Run("send/refl", func(b *testing.B) {
		benchSend(b, "tick-refl", "small", msgpack.New[typedmsg.TickReflect](), typedmsg.TickReflect(tick))
	})
	// A/B: the same encoders through a FrameWriter without ReserveMax,
	// i.e. encoding into scratch memory and copying into the ring.
	b.Run("send/gen-scratch", func(b *testing.B) {
		benchSend(b, "tick-gen", "small", scratchEnc[typedmsg.Tick]{msgpack.New[typedmsg.Tick]()}, tick)
	})
	b.Run("send/refl-scratch", func(b *testing.B) {
		benchSend(b, "tick-refl", "small", scratchEnc[typedmsg.TickReflect]{msgpack.New[typedmsg.TickReflect]()}, typedmsg.TickReflect(tick))
	})
	b.Run("recv/gen", func(b *testing.B) {
		rx := listen(b, msgpack.New[typedmsg.Tick]())
		benchRecv(b, "tick-gen", "small", rx, recvDiscard(rx), tick)
	})
	b.Run("recv/refl", func(b *testing.B) {
		rx := listen(b, msgpack.New[typedmsg.TickReflect]())
		benchRecv(b, "tick-refl", "small", rx, recvDiscard(rx), typedmsg.TickReflect(tick))
	})
}

// BenchmarkSendAll: 64-byte raw messages sent with SendAll in batches of
// 256, against a chan []byte; the child receives them with
// ViewReceiver.All (one message per step) or ViewReceiver.RecvBatch.
func BenchmarkSendAll(b *testing.B) {
	b.Run("all", func(b *testing.B) { benchSendAll(b, "raw-batch") })
	b.Run("recvbatch", func(b *testing.B) { benchSendAll(b, "raw-recvbatch") })
}

func benchSendAll(b *testing.B, childCodec string) {
	ctx := context.Background()
	name := bufferName(b)
	p := startPeer(b, child{role: "recv", codec: childCodec, size: "small"}, name)
	if l := p.line(b); l != "ready" {
		b.Fatalf("child says %q", l)
	}
	tx, err := typed.Dial(ctx, name, codec.Raw{})
	if err != nil {
		b.Fatal(err)
	}
	msg := rawMsg("small", 1, nil)
	batch := make([][]byte, 256)
	for i := range batch {
		batch[i] = msg
	}
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	n, start := 0, time.Now()
	for b.Loop() {
		if _, err := tx.SendAll(ctx, batch); err != nil {
			b.Fatal(err)
		}
		n += len(batch)
	}
	elapsed := time.Since(start)
	if err := tx.Close(); err != nil {
		b.Fatal(err)
	}
	if got := p.line(b); got != strconv.Itoa(n) {
		b.Fatalf("child received %s messages, sent %d", got, n)
	}
	p.wait(b)
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(n), "ns/msg")
	reportVsChan(b, n, elapsed, msg)
}

func BenchmarkRecv(b *testing.B) {
	for _, size := range benchSizes {
		b.Run("raw/"+size, func(b *testing.B) {
			rx := listenView(b, codec.Raw{})
			var sink byte
			benchRecv(b, "raw", size, rx, func(ctx context.Context) error {
				return rx.RecvFunc(ctx, func(p []byte) error { sink += p[len(p)-1]; return nil })
			}, rawMsg(size, 1, nil))
		})
		b.Run("msgpack/"+size, func(b *testing.B) {
			if size == "4k" {
				rx := listen(b, msgpack.New[Big]())
				benchRecv(b, "msgpack", size, rx, recvDiscard(rx), bigMsg(1))
				return
			}
			rx := listen(b, msgpack.New[Small]())
			benchRecv(b, "msgpack", size, rx, recvDiscard(rx), smallMsg(1))
		})
		b.Run("flatbuf/"+size, func(b *testing.B) {
			rx := listenView(b, sensor.NewDecoder())
			var sink uint32
			benchRecv(b, "flatbuf", size, rx, func(ctx context.Context) error {
				return rx.RecvFunc(ctx, func(r sensor.Reading) error { sink += r.Id(); return nil })
			}, *readingMsg(size, 1, &sensor.ReadingT{}))
		})
	}
}

func listen[T any](b *testing.B, dec codec.Decoder[T]) *typed.Receiver[T] {
	rx, err := typed.Listen(bufferName(b), core.BufferConfig{PayloadSize: benchRing}, dec)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { rx.Close() })
	return rx
}

func listenView[T any](b *testing.B, dec codec.ViewDecoder[T]) *typed.ViewReceiver[T] {
	rx, err := typed.ListenView(bufferName(b), core.BufferConfig{PayloadSize: benchRing}, dec)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { rx.Close() })
	return rx
}

// closer is what benchRecv needs of a Receiver or ViewReceiver.
type closer interface {
	Close() error
	Reader() *core.Reader
}

func recvDiscard[T any](rx *typed.Receiver[T]) func(context.Context) error {
	return func(ctx context.Context) error {
		_, err := rx.Recv(ctx)
		return err
	}
}

func benchSend[T any](b *testing.B, codecName, size string, enc codec.Encoder[T], v T) {
	ctx := context.Background()
	name := bufferName(b)
	p := startPeer(b, child{role: "recv", codec: codecName, size: size}, name)
	if l := p.line(b); l != "ready" {
		b.Fatalf("child says %q", l)
	}
	tx, err := typed.Dial(ctx, name, enc)
	if err != nil {
		b.Fatal(err)
	}
	setBytes(b, enc, v)
	b.ReportAllocs()
	n, start := 0, time.Now()
	for b.Loop() {
		if err := tx.Send(ctx, v); err != nil {
			b.Fatal(err)
		}
		n++
	}
	elapsed := time.Since(start)
	if err := tx.Close(); err != nil {
		b.Fatal(err)
	}
	if got := p.line(b); got != strconv.Itoa(n) {
		b.Fatalf("child received %s messages, sent %d", got, n)
	}
	p.wait(b)
	reportVsChan(b, n, elapsed, v)
}

func benchRecv[T any](b *testing.B, codecName, size string, rx closer, recv func(context.Context) error, v T) {
	ctx := context.Background()
	p := startPeer(b, child{role: "send", codec: codecName, size: size, count: -1}, rx.Reader().Name())
	b.ReportAllocs()
	if err := recv(ctx); err != nil { // the child is up and streaming
		b.Fatal(err)
	}
	n, start := 0, time.Now()
	for b.Loop() {
		if err := recv(ctx); err != nil {
			b.Fatal(err)
		}
		n++
	}
	elapsed := time.Since(start)
	if err := rx.Close(); err != nil { // the child's next Send gets ErrReaderDead
		b.Fatal(err)
	}
	p.wait(b)
	reportVsChan(b, n, elapsed, v)
}

func setBytes[T any](b *testing.B, enc codec.Encoder[T], v T) {
	frame, err := codec.Marshal(enc, v)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(frame)))
}

// reportVsChan reports the message rate of n messages in elapsed, the rate
// of n messages of the same type through a buffered Go channel between two
// goroutines, and their ratio.
func reportVsChan[T any](b *testing.B, n int, elapsed time.Duration, v T) {
	rate := float64(n) / elapsed.Seconds()
	chanRate := float64(n) / chanRun(n, v).Seconds()
	b.ReportMetric(rate, "msgs/s")
	b.ReportMetric(chanRate, "chan-msgs/s")
	b.ReportMetric(rate/chanRate, "x-chan")
}

func chanRun[T any](n int, v T) time.Duration {
	ch := make(chan T, chanCap)
	start := time.Now()
	go func() {
		for range n {
			ch <- v
		}
		close(ch)
	}()
	var sink T
	for x := range ch {
		sink = x
	}
	_ = sink
	return time.Since(start)
}

// scratchEnc hides codec.MaxFrameWriter from its encoder, which then takes
// the scratch-and-copy path.
type scratchEnc[T any] struct{ codec.Encoder[T] }

func (e scratchEnc[T]) EncodeFrame(ctx context.Context, w codec.FrameWriter, v T) error {
	return e.Encoder.EncodeFrame(ctx, plainWriter{w}, v)
}

type plainWriter struct{ codec.FrameWriter }
