//go:build linux

package duplex_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"strings"

	"github.com/zerobuffer/zerobuffer-go/codec/msgpack"
	"github.com/zerobuffer/zerobuffer-go/core"
	"github.com/zerobuffer/zerobuffer-go/duplex"
)

// Buffers for the examples: a 1 MiB ring (the default) with 1 KiB metadata.
var small = core.BufferConfig{MetadataSize: 1024, PayloadSize: 1 << 20}

func exampleName(tag string) string { return fmt.Sprintf("zbd-example-%s-%d", tag, os.Getpid()) }

// A raw server that answers in place: the handler reads the request in
// shared memory and builds the response in the client's ring.
func ExampleNewRawServer() {
	ctx := context.Background()
	name := exampleName("raw")
	srv, err := duplex.NewRawServer(name, func(ctx context.Context, req []byte, resp *duplex.ResponseWriter) error {
		b, err := resp.Reserve(ctx, len(req))
		if err != nil {
			return err
		}
		copy(b, bytes.ToUpper(req)) // one copy, request to response ring
		return resp.Commit()
	}, duplex.WithRequestBuffer(small))
	if err != nil {
		log.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()

	c, err := duplex.DialRaw(ctx, name, duplex.WithResponseBuffer(small))
	if err != nil {
		log.Fatal(err)
	}
	resp, err := c.Call(ctx, []byte("hello"))
	fmt.Println(string(resp), err)

	c.Close()
	srv.Shutdown(ctx)
	fmt.Println(<-done)
	// Output:
	// HELLO <nil>
	// zerobuffer: duplex server closed
}

type Sum struct{ A, B int }

type Total struct{ N int }

// A typed service: MessagePack requests and responses, and a handler error
// that reaches the client as a *duplex.HandlerError.
func ExampleNewServer() {
	ctx := context.Background()
	name := exampleName("typed")
	add := func(_ context.Context, s Sum) (Total, error) {
		if s.A < 0 || s.B < 0 {
			return Total{}, errors.New("negative operand")
		}
		return Total{N: s.A + s.B}, nil
	}
	srv, err := duplex.NewServer(name, msgpack.New[Sum](), msgpack.New[Total](), add, duplex.WithRequestBuffer(small))
	if err != nil {
		log.Fatal(err)
	}
	go srv.Serve(ctx)
	defer srv.Close()

	c, err := duplex.Dial(ctx, name, msgpack.New[Sum](), msgpack.New[Total](), duplex.WithResponseBuffer(small))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	t, err := c.Call(ctx, Sum{A: 40, B: 2})
	fmt.Println(t.N, err)
	_, err = c.Call(ctx, Sum{A: -1})
	var he *duplex.HandlerError
	fmt.Println(errors.As(err, &he), he.Message)
	// Output:
	// 42 <nil>
	// true negative operand
}

// Pipelining: send several requests, then collect the responses in order.
func ExampleRawClient_Send() {
	ctx := context.Background()
	name := exampleName("pipe")
	srv, err := duplex.NewRawServer(name, func(ctx context.Context, req []byte, resp *duplex.ResponseWriter) error {
		return resp.Write(ctx, []byte(strings.Repeat(string(req), 2)))
	}, duplex.WithRequestBuffer(small))
	if err != nil {
		log.Fatal(err)
	}
	go srv.Serve(ctx)
	defer srv.Close()
	c, err := duplex.DialRaw(ctx, name, duplex.WithResponseBuffer(small))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	for _, r := range []string{"a", "b", "c"} {
		if err := c.Send(ctx, []byte(r)); err != nil {
			log.Fatal(err)
		}
	}
	for range 3 {
		resp, _ := c.Receive(ctx)
		fmt.Print(string(resp), " ")
	}
	fmt.Println()
	// Output: aa bb cc
}
