// Command example serves the metrics of a zerobuffer channel on /metrics:
// a typed receiver and a sender exchange a message every 10ms, and
//
//	curl -s localhost:9090/metrics | grep zerobuffer_
//
// shows their frames, bytes, ring use and peer liveness.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/zerobuffer/zerobuffer-go/codec/msgpack"
	"github.com/zerobuffer/zerobuffer-go/core"
	"github.com/zerobuffer/zerobuffer-go/metrics"
	"github.com/zerobuffer/zerobuffer-go/typed"
)

// Tick is the message of the demo channel.
type Tick struct {
	N    int
	Sent time.Time
}

func main() {
	addr := flag.String("addr", "localhost:9090", "listen address of the /metrics endpoint")
	name := flag.String("name", fmt.Sprintf("metrics-demo-%d", os.Getpid()), "buffer name")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("serving http://%s/metrics", ln.Addr())
	if err := serve(ctx, ln, *name, 10*time.Millisecond); err != nil {
		log.Fatal(err)
	}
}

// serve runs the demo channel and the /metrics endpoint on ln until ctx
// ends, sending one message per interval.
func serve(ctx context.Context, ln net.Listener, name string, interval time.Duration) error {
	rx, err := typed.Listen(name, core.BufferConfig{}, msgpack.New[Tick]())
	if err != nil {
		return err
	}
	defer rx.Close()
	tx, err := typed.Dial(ctx, name, msgpack.New[Tick]())
	if err != nil {
		return err
	}
	defer tx.Close()

	c := metrics.NewCollector()
	reg := prometheus.NewRegistry()
	if err := reg.Register(c); err != nil {
		return err
	}
	if err := c.Add(name, metrics.SideReader, rx); err != nil {
		return err
	}
	if err := c.Add(name, metrics.SideWriter, tx); err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()

	go func() {
		for range rx.C(ctx) { // consume; the metrics show the rest
		}
	}()
	t := time.NewTicker(interval)
	defer t.Stop()
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			return nil
		case now := <-t.C:
			if err := tx.Send(ctx, Tick{N: n, Sent: now}); err != nil && ctx.Err() == nil {
				return err
			}
		}
	}
}
