package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/zerobuffer/zerobuffer-go/bench"
	"github.com/zerobuffer/zerobuffer-go/core"
	"github.com/zerobuffer/zerobuffer-go/natsx"
)

func runBridge(e *env, args []string) error {
	f := newFlags("bridge", "[flags] SRC DST", `
Forward a shared-memory buffer to a NATS JetStream channel, or back:

  zerobuffer bridge shm://NAME nats://host:4222/SUBJECT
      create buffer NAME (the bridge is its reader) and publish every frame
      to SUBJECT, in order; a local ZeroBuffer writer (Go, C++, C#, Python)
      writes to NAME unchanged
  zerobuffer bridge nats://host:4222/SUBJECT shm://NAME
      write every message of SUBJECT as a frame into buffer NAME, which a
      local reader created

The buffer metadata crosses once (it is stored in the stream). The bridge
reconnects after a NATS server restart and resumes where the server's
acknowledgements stopped, and waits for a new local peer when one leaves.
"nats:///SUBJECT" (no host) starts an in-process server on 127.0.0.1 and
prints its URL. Stops on SIGINT/SIGTERM.`)
	size := f.Int("size", 1<<20, "payload size of the buffer created for shm:// sources, in bytes")
	metaSize := f.Int("metadata-size", 4096, "metadata size of that buffer, in bytes")
	replicas := f.Int("replicas", 1, "replicas of the channel's stream when the bridge creates it")
	pos, err := parse(e, f, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usagef("bridge takes SRC and DST, got %d arguments", len(pos))
	}
	src, err := natsx.ParseAddress(pos[0])
	if err != nil {
		return &usageError{err.Error()}
	}
	dst, err := natsx.ParseAddress(pos[1])
	if err != nil {
		return &usageError{err.Error()}
	}
	if src.Scheme == dst.Scheme {
		return usagef("bridge connects shm:// to nats:// (either way), got %s:// to %s://", src.Scheme, dst.Scheme)
	}
	natsAddr := src
	if dst.Scheme == "nats" {
		natsAddr = dst
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	url := natsAddr.Server
	if url == "" {
		srv, err := natsx.StartEmbedded(natsx.EmbeddedConfig{})
		if err != nil {
			return err
		}
		defer srv.Close()
		url = srv.URL()
		fmt.Fprintf(e.stderr, "zerobuffer bridge: embedded NATS server at %s\n", url)
	}
	nc, err := nats.Connect(url, nats.Name("zerobuffer-bridge"), nats.MaxReconnects(-1),
		nats.ReconnectWait(250*time.Millisecond), nats.RetryOnFailedConnect(true))
	if err != nil {
		return fmt.Errorf("connect %s: %w", url, err)
	}
	defer nc.Close()
	opts := []natsx.Option{natsx.WithReplicas(*replicas)}
	if src.Scheme == "shm" {
		err = natsx.BridgeToNATS(ctx, src.Name, core.BufferConfig{PayloadSize: *size, MetadataSize: *metaSize}, nc, dst.Name, opts...)
	} else {
		err = natsx.BridgeFromNATS(ctx, nc, src.Name, dst.Name, opts...)
	}
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return nil // stopped by a signal
	}
	return err
}

// runNATSBench prints the NATS rows of `zerobuffer bench --transports
// nats`: sizes below 512 KiB (the server's max_payload is 1 MiB).
func runNATSBench(e *env, sizes []int, d time.Duration) error {
	var use []int
	for _, s := range sizes {
		if s < 512<<10 {
			use = append(use, s)
		}
	}
	if len(use) == 0 {
		use = []int{64, 1 << 10}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := bench.RunNATS(ctx, bench.NATSConfig{Sizes: use, Duration: d})
	if err != nil {
		return err
	}
	return rep.Markdown(e.stdout)
}
