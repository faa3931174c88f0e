package natsx_test

import (
	"context"
	"fmt"
	"log"

	"github.com/nats-io/nats.go"

	"github.com/zerobuffer/zerobuffer-go/codec/msgpack"
	"github.com/zerobuffer/zerobuffer-go/natsx"
)

type Reading struct {
	Sensor string
	Value  float64
}

// A typed channel over NATS: the same codec and the same receive loop as
// over shared memory, here with an embedded server on 127.0.0.1.
func Example() {
	srv, err := natsx.StartEmbedded(natsx.EmbeddedConfig{})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	nc, err := nats.Connect(srv.URL())
	if err != nil {
		log.Fatal(err)
	}
	defer nc.Close()
	ctx := context.Background()

	rx, err := natsx.Listen(ctx, nc, "readings", msgpack.New[Reading]())
	if err != nil {
		log.Fatal(err)
	}
	defer rx.Close()
	tx, err := natsx.Dial(ctx, nc, "readings", msgpack.New[Reading]())
	if err != nil {
		log.Fatal(err)
	}
	for i := range 3 {
		if err := tx.Send(ctx, Reading{Sensor: "t1", Value: 20 + float64(i)}); err != nil {
			log.Fatal(err)
		}
	}
	tx.Close()
	for r, err := range rx.All(ctx) { // ends after the sender's Close
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(r.Sensor, r.Value)
	}
	// Output:
	// t1 20
	// t1 21
	// t1 22
}

// A typed service over NATS request-reply, with the handler signature of
// duplex.NewServer.
func ExampleNewServer() {
	srv, err := natsx.StartEmbedded(natsx.EmbeddedConfig{})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	nc, err := nats.Connect(srv.URL())
	if err != nil {
		log.Fatal(err)
	}
	defer nc.Close()

	s, err := natsx.NewServer(nc, "square", msgpack.New[int](), msgpack.New[int](),
		func(ctx context.Context, n int) (int, error) { return n * n, nil })
	if err != nil {
		log.Fatal(err)
	}
	go s.Serve(context.Background())
	defer s.Shutdown(context.Background())

	c, err := natsx.DialClient(nc, "square", msgpack.New[int](), msgpack.New[int]())
	if err != nil {
		log.Fatal(err)
	}
	sq, err := c.Call(context.Background(), 12)
	fmt.Println(sq, err)
	// Output: 144 <nil>
}
