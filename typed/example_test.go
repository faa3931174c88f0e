package typed_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/zerobuffer/zerobuffer-go/codec"
	"github.com/zerobuffer/zerobuffer-go/codec/flatbuf/sensor"
	"github.com/zerobuffer/zerobuffer-go/codec/msgpack"
	"github.com/zerobuffer/zerobuffer-go/core"
	"github.com/zerobuffer/zerobuffer-go/typed"
)

// exampleName returns a buffer name unique to this process.
func exampleName(s string) string { return fmt.Sprintf("zb-example-%d-%s", os.Getpid(), s) }

// A msgpack channel: usually the receiver and the sender are two
// processes; here both ends live in one.
func ExampleListen() {
	type Event struct {
		ID   int
		Kind string
	}
	ctx := context.Background()
	name := exampleName("listen")

	rx, err := typed.Listen(name, core.BufferConfig{PayloadSize: 64 << 10}, msgpack.New[Event]())
	if err != nil {
		panic(err)
	}
	defer rx.Close()

	tx, err := typed.Dial(ctx, name, msgpack.New[Event]())
	if err != nil {
		panic(err)
	}
	for i, kind := range []string{"open", "click", "close"} {
		if err := tx.Send(ctx, Event{ID: i, Kind: kind}); err != nil {
			panic(err)
		}
	}
	tx.Close() // the receiver drains, then the loop ends (io.EOF)

	for ev, err := range rx.All(ctx) {
		if err != nil {
			panic(err)
		}
		fmt.Println(ev.ID, ev.Kind)
	}
	// Output:
	// 0 open
	// 1 click
	// 2 close
}

// FlatBuffers readings are read in place: the view is valid inside the
// callback only.
func ExampleListenView() {
	ctx := context.Background()
	name := exampleName("view")

	rx, err := typed.ListenView(name, core.BufferConfig{PayloadSize: 64 << 10}, sensor.NewDecoder())
	if err != nil {
		panic(err)
	}
	defer rx.Close()
	tx, err := typed.Dial(ctx, name, sensor.NewEncoder())
	if err != nil {
		panic(err)
	}
	defer tx.Close()

	r := &sensor.ReadingT{Id: 1, Timestamp: 1000, Values: []float64{20.5, 20.75}, Name: "lab"}
	if err := tx.Send(ctx, r); err != nil {
		panic(err)
	}
	err = rx.RecvFunc(ctx, func(v sensor.Reading) error {
		fmt.Printf("%s #%d: %d values, first %.2f\n", v.Name(), v.Id(), v.ValuesLength(), v.Values(0))
		return nil
	})
	fmt.Println(err)
	// Output:
	// lab #1: 2 values, first 20.50
	// <nil>
}

// SendAll and RecvBatch move many small messages at once: the sender
// publishes the slice with one update of the ring's counters, the receiver
// takes every committed message in one pass.
func ExampleViewReceiver_RecvBatch() {
	ctx := context.Background()
	name := exampleName("recvbatch")

	rx, err := typed.ListenView(name, core.BufferConfig{PayloadSize: 64 << 10}, codec.Raw{})
	if err != nil {
		panic(err)
	}
	defer rx.Close()
	tx, err := typed.Dial(ctx, name, codec.Raw{})
	if err != nil {
		panic(err)
	}
	if _, err := tx.SendAll(ctx, [][]byte{[]byte("a"), []byte("b"), []byte("c")}); err != nil {
		panic(err)
	}
	tx.Close()

	for {
		n, err := rx.RecvBatch(ctx, 0, func(p []byte) error {
			fmt.Printf("%s ", p) // p is valid in the callback only
			return nil
		})
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			panic(err)
		}
		fmt.Printf("(%d in this call)\n", n)
	}
	// Output:
	// a (1 in this call)
	// b c (2 in this call)
}

// C makes a buffer usable in a select statement, like a Go channel.
func ExampleReceiver_C() {
	ctx := context.Background()
	name := exampleName("chan")
	rx, err := typed.Listen(name, core.BufferConfig{PayloadSize: 64 << 10}, msgpack.New[string]())
	if err != nil {
		panic(err)
	}
	defer rx.Close()
	tx, err := typed.Dial(ctx, name, msgpack.New[string]())
	if err != nil {
		panic(err)
	}
	go func() {
		tx.Send(ctx, "hello")
		tx.Send(ctx, "world")
		tx.Close()
	}()

	timeout := time.After(10 * time.Second)
	msgs := rx.C(ctx)
	for {
		select {
		case m, ok := <-msgs:
			if !ok {
				fmt.Println("closed, err:", rx.Err())
				return
			}
			fmt.Println(m)
		case <-timeout:
			fmt.Println("timeout")
			return
		}
	}
	// Output:
	// hello
	// world
	// closed, err: <nil>
}
