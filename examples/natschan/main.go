// Command natschan runs a producer and a consumer in two processes over
// NATS with the code that runs them over shared memory: produce and
// consume below see only typed.Producer and typed.Consumer.
//
//	go run ./examples/natschan                      # NATS, embedded server on 127.0.0.1
//	go run ./examples/natschan -url nats://host:4222
//	go run ./examples/natschan -transport shm       # the same code over shared memory
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"os/signal"

	"github.com/nats-io/nats.go"

	"github.com/zerobuffer/zerobuffer-go/codec/msgpack"
	"github.com/zerobuffer/zerobuffer-go/core"
	"github.com/zerobuffer/zerobuffer-go/natsx"
	"github.com/zerobuffer/zerobuffer-go/typed"
)

// Order is the message type; both processes compile the same definition.
type Order struct {
	ID    uint64
	Item  string
	Qty   int
	Price float64
}

// produce sends n orders and closes: the consumer then sees the end.
func produce(ctx context.Context, tx typed.Producer[Order], n int) error {
	items := []string{"apple", "pear", "plum"}
	for i := range n {
		o := Order{ID: uint64(i), Item: items[i%len(items)], Qty: 1 + i%5, Price: 0.25 * float64(1+i%8)}
		if err := tx.Send(ctx, o); err != nil {
			return err
		}
	}
	return tx.Close()
}

// consume receives until the producer closes, checking the order.
func consume(ctx context.Context, rx typed.Consumer[Order]) error {
	var count int
	var revenue float64
	for o, err := range rx.All(ctx) {
		if err != nil {
			return err
		}
		if o.ID != uint64(count) {
			return fmt.Errorf("order %d arrived as number %d", o.ID, count)
		}
		count++
		revenue += float64(o.Qty) * o.Price
	}
	fmt.Printf("done: %d orders in order, revenue %.2f\n", count, revenue)
	return nil
}

func main() {
	role := flag.String("role", "consumer", "consumer (starts the producer) or producer")
	transport := flag.String("transport", "nats", "nats or shm")
	url := flag.String("url", "", "NATS server URL (default: an embedded server on 127.0.0.1)")
	name := flag.String("name", fmt.Sprintf("natschan-%d", os.Getpid()), "channel (subject or buffer name)")
	n := flag.Int("n", 20_000, "orders to send")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *role, *transport, *url, *name, *n); err != nil {
		log.Fatalf("%s: %v", *role, err)
	}
}

func run(ctx context.Context, role, transport, url, name string, n int) error {
	codec := msgpack.New[Order]()
	if transport == "shm" {
		if role == "producer" {
			tx, err := typed.Dial(ctx, name, codec)
			if err != nil {
				return err
			}
			return produce(ctx, tx, n)
		}
		rx, err := typed.Listen(name, core.BufferConfig{PayloadSize: 256 << 10}, codec)
		if err != nil {
			return err
		}
		defer rx.Close()
		return withProducer(ctx, rx, name, transport, "", n)
	}

	if url == "" && role == "consumer" {
		srv, err := natsx.StartEmbedded(natsx.EmbeddedConfig{})
		if err != nil {
			return err
		}
		defer srv.Close()
		url = srv.URL()
		fmt.Println("embedded NATS server at", url)
	}
	nc, err := nats.Connect(url)
	if err != nil {
		return err
	}
	defer nc.Close()
	if role == "producer" {
		tx, err := natsx.Dial(ctx, nc, name, codec)
		if err != nil {
			return err
		}
		return produce(ctx, tx, n)
	}
	rx, err := natsx.Listen(ctx, nc, name, codec)
	if err != nil {
		return err
	}
	defer natsx.Remove(context.Background(), nc, name)
	defer rx.Close()
	return withProducer(ctx, rx, name, transport, url, n)
}

// withProducer starts this program as the producer and consumes.
func withProducer(ctx context.Context, rx typed.Consumer[Order], name, transport, url string, n int) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(exe, "-role", "producer", "-transport", transport, "-url", url, "-name", name, "-n", fmt.Sprint(n))
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	err = consume(ctx, rx)
	if err != nil {
		cmd.Process.Kill()
	}
	if werr := cmd.Wait(); err == nil && werr != nil {
		err = fmt.Errorf("producer: %w", werr)
	}
	return err
}
