package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"time"

	"github.com/zerobuffer/zerobuffer-go/codec/msgpack"
	"github.com/zerobuffer/zerobuffer-go/core"
	"github.com/zerobuffer/zerobuffer-go/typed"
)

func main() {
	role := flag.String("role", "receiver", "receiver (starts the sender) or sender")
	name := flag.String("name", fmt.Sprintf("msgpackchan-%d", os.Getpid()), "buffer name")
	n := flag.Int("n", 100_000, "orders to send")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var err error
	if *role == "sender" {
		err = send(ctx, *name, *n)
	} else {
		err = receive(ctx, *name, *n)
	}
	if err != nil {
		log.Fatalf("%s: %v", *role, err)
	}
}

func send(ctx context.Context, name string, n int) error {
	orders, err := typed.Dial(ctx, name, msgpack.New[Order]())
	if err != nil {
		return err
	}
	defer orders.Close()
	items := []string{"apple", "pear", "plum"}
	for i := range n {
		o := Order{ID: uint64(i), Item: items[i%len(items)], Qty: 1 + i%5, Price: 0.25 * float64(1+i%8)}
		if err := orders.Send(ctx, o); err != nil {
			return err
		}
	}
	return nil
}

func receive(ctx context.Context, name string, n int) error {
	rx, err := typed.Listen(name, core.BufferConfig{PayloadSize: 256 << 10}, msgpack.New[Order](),
		typed.WithChanBuffer(64))
	if err != nil {
		return err
	}
	defer rx.Close()
	sender, err := startSender(name, n)
	if err != nil {
		return err
	}
	defer sender.Wait()

	orders := rx.C(ctx) // a <-chan Order fed from the other process
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var count int
	var revenue float64
	for {
		select {
		case o, ok := <-orders:
			if !ok {
				if err := rx.Err(); err != nil { // nil after the sender's Close
					return err
				}
				fmt.Printf("done: %d orders, revenue %.2f\n", count, revenue)
				return nil
			}
			count++
			revenue += float64(o.Qty) * o.Price
		case <-tick.C:
			fmt.Printf("… %d orders so far\n", count)
		}
	}
}

func startSender(name string, n int) (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "-role", "sender", "-name", name, "-n", fmt.Sprint(n))
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	dieWithParent(cmd)
	return cmd, cmd.Start()
}
