package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"github.com/zerobuffer/zerobuffer-go/codec/flatbuf/sensor"
	"github.com/zerobuffer/zerobuffer-go/core"
	"github.com/zerobuffer/zerobuffer-go/typed"
)

func main() {
	role := flag.String("role", "consumer", "consumer or producer")
	name := flag.String("name", fmt.Sprintf("sensorstream-%d", os.Getpid()), "buffer name")
	n := flag.Int("n", 200_000, "readings to produce")
	spawn := flag.Bool("spawn", true, "consumer: start the producer as a child process")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch *role {
	case "consumer":
		err = consume(ctx, *name, *n, *spawn)
	case "producer":
		err = produce(ctx, *name, *n)
	default:
		err = fmt.Errorf("unknown role %q", *role)
	}
	if err != nil {
		log.Fatalf("%s: %v", *role, err)
	}
}

// produce sends n readings of four simulated sensors.
func produce(ctx context.Context, name string, n int) error {
	tx, err := typed.Dial(ctx, name, sensor.NewEncoder())
	if err != nil {
		return err
	}
	defer tx.Close() // the consumer drains, then sees io.EOF
	r := &sensor.ReadingT{Values: make([]float64, 0, 3)}
	names := []string{"north", "east", "south", "west"}
	for i := range n {
		t := float64(i) / 1000
		r.Id = uint32(i)
		r.Timestamp = time.Now().UnixNano()
		r.Name = names[i%len(names)]
		r.Values = append(r.Values[:0], 20+math.Sin(t), 50+math.Cos(t), 1013+t/100)
		if err := tx.Send(ctx, r); err != nil { // blocks while the ring is full
			return err
		}
	}
	return nil
}

// consume reads readings in place until the producer closes.
func consume(ctx context.Context, name string, n int, spawn bool) error {
	rx, err := typed.ListenView(name, core.BufferConfig{PayloadSize: 1 << 20}, sensor.NewDecoder())
	if err != nil {
		return err
	}
	defer rx.Close()
	if spawn {
		producer, err := startProducer(name, n)
		if err != nil {
			return err
		}
		defer producer.Wait()
	}

	start := time.Now()
	var count, values int
	var sum, maxLag float64
	var last string
	for r, err := range rx.All(ctx) { // r is valid inside this loop body only
		if err != nil {
			return err // core.ErrWriterDead if the producer was killed
		}
		count++
		for j := range r.ValuesLength() {
			sum += r.Values(j)
			values++
		}
		lag := time.Since(time.Unix(0, r.Timestamp())).Seconds()
		maxLag = max(maxLag, lag)
		if count%50_000 == 0 {
			last = string(r.Name()) // copy: the view's bytes go back to the ring
			fmt.Printf("%7d readings, #%d from %s: %.2f°C\n", count, r.Id(), last, r.Values(0))
		}
	}
	elapsed := time.Since(start)
	fmt.Printf("done: %d readings (%d values, mean %.3f) in %v, %.0f readings/s, max lag %.1fms\n",
		count, values, sum/float64(max(values, 1)), elapsed.Round(time.Millisecond),
		float64(count)/elapsed.Seconds(), maxLag*1000)
	if count != n && spawn {
		return errors.New("lost readings")
	}
	return nil
}

// startProducer re-executes this program as the producer.
func startProducer(name string, n int) (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "-role", "producer", "-name", name, "-n", fmt.Sprint(n))
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	dieWithParent(cmd)
	return cmd, cmd.Start()
}
