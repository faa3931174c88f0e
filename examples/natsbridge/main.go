// Command natsbridge forwards a shared-memory stream to NATS: a producer
// process writes sensor readings into a ZeroBuffer (it could as well be a
// C++, C# or Python ZeroBuffer writer), natsx.BridgeToNATS publishes them
// to a JetStream channel, and a NATS consumer (here in this process; on
// another host in practice) receives them in order.
//
//	go run ./examples/natsbridge                  # embedded server on 127.0.0.1
//	go run ./examples/natsbridge -url nats://host:4222
//
// The CLI does the same: zerobuffer bridge shm://NAME nats://host:4222/SUBJECT.
package main

import (
	"context"
	"errors"
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

// Reading is one sensor sample.
type Reading struct {
	Seq    uint64
	Sensor string
	Value  float64
}

func main() {
	role := flag.String("role", "main", "main (bridge and consumer) or producer")
	url := flag.String("url", "", "NATS server URL (default: an embedded server on 127.0.0.1)")
	name := flag.String("name", fmt.Sprintf("natsbridge-%d", os.Getpid()), "buffer name and subject")
	n := flag.Int("n", 20_000, "readings to send")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var err error
	if *role == "producer" {
		err = produce(ctx, *name, *n)
	} else {
		err = bridgeAndConsume(ctx, *url, *name, *n)
	}
	if err != nil {
		log.Fatalf("%s: %v", *role, err)
	}
}

// produce is an ordinary shared-memory sender; it knows nothing of NATS.
func produce(ctx context.Context, name string, n int) error {
	tx, err := typed.Dial(ctx, name, msgpack.New[Reading]())
	if err != nil {
		return err
	}
	for i := range n {
		if err := tx.Send(ctx, Reading{Seq: uint64(i), Sensor: "t1", Value: 20 + float64(i%10)/10}); err != nil {
			return err
		}
	}
	return tx.Close()
}

func bridgeAndConsume(ctx context.Context, url, name string, n int) error {
	if url == "" {
		srv, err := natsx.StartEmbedded(natsx.EmbeddedConfig{})
		if err != nil {
			return err
		}
		defer srv.Close()
		url = srv.URL()
		fmt.Println("embedded NATS server at", url)
	}
	nc, err := nats.Connect(url, nats.MaxReconnects(-1))
	if err != nil {
		return err
	}
	defer nc.Close()
	subject := "sensors." + name

	// The consumer: on another host in practice.
	rx, err := natsx.Listen(ctx, nc, subject, msgpack.New[Reading]())
	if err != nil {
		return err
	}
	defer natsx.Remove(context.Background(), nc, subject)
	defer rx.Close()

	// The bridge creates the buffer (it is its reader) and forwards it.
	bctx, stopBridge := context.WithCancel(ctx)
	bridged := make(chan error, 1)
	go func() {
		bridged <- natsx.BridgeToNATS(bctx, name, core.BufferConfig{PayloadSize: 256 << 10}, nc, subject)
	}()
	defer func() {
		stopBridge()
		if err := <-bridged; !errors.Is(err, context.Canceled) {
			log.Printf("bridge: %v", err)
		}
	}()

	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(exe, "-role", "producer", "-name", name, "-n", fmt.Sprint(n))
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	defer cmd.Wait()

	var count int
	var sum float64
	for r, err := range rx.All(ctx) { // ends with the producer's Close, forwarded by the bridge
		if err != nil {
			cmd.Process.Kill()
			return err
		}
		if r.Seq != uint64(count) {
			cmd.Process.Kill()
			return fmt.Errorf("reading %d arrived as number %d", r.Seq, count)
		}
		count++
		sum += r.Value
	}
	fmt.Printf("done: %d readings in order over NATS, mean %.3f\n", count, sum/float64(max(count, 1)))
	return nil
}
