package typed_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"

	"github.com/zerobuffer/zerobuffer-go/codec"
	"github.com/zerobuffer/zerobuffer-go/codec/flatbuf/sensor"
	"github.com/zerobuffer/zerobuffer-go/codec/msgpack"
	"github.com/zerobuffer/zerobuffer-go/core"
	"github.com/zerobuffer/zerobuffer-go/typed"
)

// Small is the small struct of the tests and benchmarks (62 bytes as
// msgpack).
type Small struct {
	Seq  uint64
	TS   int64
	Name string
	X, Y float64
}

// Big carries a 4 KiB payload.
type Big struct {
	Seq  uint64
	Data []byte
}

const bigSize = 4096

func smallMsg(i int) Small {
	return Small{Seq: uint64(i), TS: int64(i) * 7, Name: "sensor-" + strconv.Itoa(i%1000), X: float64(i) / 2, Y: -float64(i)}
}

func checkSmall(i int, v Small) error {
	if want := smallMsg(i); v != want {
		return fmt.Errorf("message %d: got %+v, want %+v", i, v, want)
	}
	return nil
}

func bigMsg(i int) Big {
	b := Big{Seq: uint64(i), Data: make([]byte, bigSize)}
	fill(b.Data, i)
	return b
}

// pattern[k] == byte(k); message i carries byte(i+j) at offset j.
var pattern = func() []byte {
	p := make([]byte, 256+bigSize)
	for k := range p {
		p[k] = byte(k)
	}
	return p
}()

func fill(p []byte, i int) { copy(p, pattern[i%256:]) }

func checkFill(i int, p []byte) error {
	if !bytes.Equal(p, pattern[i%256:i%256+len(p)]) {
		return fmt.Errorf("message %d: payload differs from the pattern", i)
	}
	return nil
}

// rawMsg is an 8-byte index followed by a pattern; its length varies with
// i for size "var" and is 64 bytes or 4 KiB otherwise.
func rawMsg(size string, i int, buf []byte) []byte {
	n := 8 + i%120
	switch size {
	case "small":
		n = 64
	case "4k":
		n = bigSize
	}
	buf = append(buf[:0], make([]byte, n)...)
	binary.LittleEndian.PutUint64(buf, uint64(i))
	fill(buf[8:], i)
	return buf
}

func checkRaw(i int, p []byte) error {
	if len(p) != 8+i%120 || binary.LittleEndian.Uint64(p) != uint64(i) {
		return fmt.Errorf("message %d: bad header or length %d", i, len(p))
	}
	return checkFill(i, p[8:])
}

// readingMsg fills r with message i: i%5 values for "var", 4 values for
// "small" and 512 values (4 KiB) for "4k".
func readingMsg(size string, i int, r *sensor.ReadingT) *sensor.ReadingT {
	n := i % 5
	switch size {
	case "small":
		n = 4
	case "4k":
		n = bigSize / 8
	}
	r.Id, r.Timestamp, r.Name = uint32(i), int64(i)*1000, "s"+strconv.Itoa(i%100)
	r.Values = r.Values[:0]
	for j := range n {
		r.Values = append(r.Values, float64(i+j)+0.5)
	}
	return r
}

func checkReading(i int, r *sensor.Reading) error {
	if r.Id() != uint32(i) || r.Timestamp() != int64(i)*1000 || string(r.Name()) != "s"+strconv.Itoa(i%100) {
		return fmt.Errorf("message %d: got id %d ts %d name %q", i, r.Id(), r.Timestamp(), r.Name())
	}
	if r.ValuesLength() != i%5 {
		return fmt.Errorf("message %d: %d values", i, r.ValuesLength())
	}
	for j := range r.ValuesLength() {
		if r.Values(j) != float64(i+j)+0.5 || math.IsNaN(r.Values(j)) {
			return fmt.Errorf("message %d: value %d is %v", i, j, r.Values(j))
		}
	}
	return nil
}

// childSend is the "send" role: dial, send c.count messages (or until the
// reader is gone), then close or hang until killed.
func childSend(c child, name string) error {
	ctx := context.Background()
	fixed := c.size != "var" // benchmarks send one precomputed message
	switch c.codec {
	case "raw":
		var buf []byte
		return sendLoop(ctx, c, name, codec.Raw{}, generator(fixed, func(i int) []byte { buf = rawMsg(c.size, i, buf); return buf }))
	case "msgpack":
		if c.size == "4k" {
			return sendLoop(ctx, c, name, msgpack.New[Big](), generator(true, bigMsg))
		}
		return sendLoop(ctx, c, name, msgpack.New[Small](), generator(fixed, smallMsg))
	case "flatbuf":
		var r sensor.ReadingT
		return sendLoop(ctx, c, name, sensor.NewEncoder(), generator(fixed, func(i int) *sensor.ReadingT { return readingMsg(c.size, i, &r) }))
	}
	return fmt.Errorf("unknown codec %q", c.codec)
}

// generator returns gen, or with fixed a function returning gen(1) always.
func generator[T any](fixed bool, gen func(int) T) func(int) T {
	if !fixed {
		return gen
	}
	v := gen(1)
	return func(int) T { return v }
}

func sendLoop[T any](ctx context.Context, c child, name string, enc codec.Encoder[T], gen func(int) T) error {
	s, err := typed.Dial(ctx, name, enc)
	if err != nil {
		return err
	}
	for i := 0; c.count < 0 || i < c.count; i++ {
		if err := s.Send(ctx, gen(i)); err != nil {
			if c.count < 0 && errors.Is(err, core.ErrReaderDead) {
				return s.Close() // benchmark over: the reader left
			}
			return fmt.Errorf("send %d: %w", i, err)
		}
	}
	fmt.Println("sent")
	if c.end == "hang" {
		_, _ = io.Copy(io.Discard, os.Stdin) // until the parent kills us
	}
	return s.Close()
}

// childRecv is the "recv" role (benchmarks of Send): create the buffer,
// receive until io.EOF and print the number of messages.
func childRecv(c child, name string) error {
	ctx := context.Background()
	cfg := core.BufferConfig{PayloadSize: benchRing}
	var n int
	var err error
	switch c.codec {
	case "raw":
		n, err = drainView(ctx, name, cfg, codec.Raw{})
	case "msgpack":
		if c.size == "4k" {
			n, err = drain(ctx, name, cfg, msgpack.New[Big]())
		} else {
			n, err = drain(ctx, name, cfg, msgpack.New[Small]())
		}
	case "flatbuf":
		n, err = drainView(ctx, name, cfg, sensor.NewDecoder())
	default:
		err = fmt.Errorf("unknown codec %q", c.codec)
	}
	fmt.Println(n)
	return err
}

func drain[T any](ctx context.Context, name string, cfg core.BufferConfig, dec codec.Decoder[T]) (int, error) {
	rx, err := typed.Listen(name, cfg, dec)
	if err != nil {
		return 0, err
	}
	defer rx.Close()
	fmt.Println("ready")
	n := 0
	for _, err := range rx.All(ctx) {
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

func drainView[T any](ctx context.Context, name string, cfg core.BufferConfig, dec codec.ViewDecoder[T]) (int, error) {
	rx, err := typed.ListenView(name, cfg, dec)
	if err != nil {
		return 0, err
	}
	defer rx.Close()
	fmt.Println("ready")
	n := 0
	for _, err := range rx.All(ctx) {
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
