package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"strings"

	"github.com/zerobuffer/zerobuffer-go/codec/msgpack"
	"github.com/zerobuffer/zerobuffer-go/core"
	"github.com/zerobuffer/zerobuffer-go/typed"
)

// Job is a unit of work.
type Job struct {
	ID   int
	Text string
}

// Summary is what the worker computes.
type Summary struct {
	Jobs, Words, Longest int
}

const jobCount = 10_000

func makeJob(i int) Job {
	return Job{ID: i, Text: strings.Repeat("lorem ipsum ", 1+i%7)}
}

// worker is the consumer code; it is the same in both versions.
func worker(jobs <-chan Job) Summary {
	var s Summary
	for j := range jobs {
		s.Jobs++
		s.Words += len(strings.Fields(j.Text))
		s.Longest = max(s.Longest, len(j.Text))
	}
	return s
}

// before: producer and worker are goroutines joined by a Go channel.
func before() Summary {
	jobs := make(chan Job, 64)
	go func() {
		for i := range jobCount {
			jobs <- makeJob(i)
		}
		close(jobs)
	}()
	return worker(jobs)
}

// after: the worker's process owns the buffer; the producer is another process.
func after(ctx context.Context, name string) (Summary, error) {
	rx, err := typed.Listen(name, core.BufferConfig{PayloadSize: 64 << 10}, msgpack.New[Job]()) // was: jobs := make(chan Job, 64)
	if err != nil {
		return Summary{}, err
	}
	defer rx.Close()
	producer, err := startProducer(name)
	if err != nil {
		return Summary{}, err
	}
	s := worker(rx.C(ctx)) // unchanged worker
	if err := producer.Wait(); err != nil {
		return s, err
	}
	return s, rx.Err() // new: nil after the producer's Close, else why the stream broke
}

// produce is the "after" producer, in its own process.
func produce(ctx context.Context, name string) error {
	tx, err := typed.Dial(ctx, name, msgpack.New[Job]())
	if err != nil {
		return err
	}
	for i := range jobCount {
		if err := tx.Send(ctx, makeJob(i)); err != nil { // was: jobs <- makeJob(i)
			return err
		}
	}
	return tx.Close() // was: close(jobs)
}

func main() {
	role := flag.String("role", "main", "main or producer")
	name := flag.String("name", fmt.Sprintf("replacechan-%d", os.Getpid()), "buffer name")
	flag.Parse()
	ctx := context.Background()
	if *role == "producer" {
		if err := produce(ctx, *name); err != nil {
			log.Fatal(err)
		}
		return
	}
	fmt.Printf("before (Go channel):  %+v\n", before())
	s, err := after(ctx, *name)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("after (ZeroBuffer):   %+v\n", s)
}

func startProducer(name string) (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "-role", "producer", "-name", name)
	cmd.Stderr = os.Stderr
	dieWithParent(cmd)
	return cmd, cmd.Start()
}
