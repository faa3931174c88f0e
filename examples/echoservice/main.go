// Command echoservice is a typed request/response service over ZeroBuffer
// shared memory (package duplex): the server answers Echo requests, the
// client calls it. Requests and responses are MessagePack; a handler error
// reaches the client as a *duplex.HandlerError.
//
// Run the server, then one or more clients one after another (a server
// serves one client at a time and keeps serving after a client leaves):
//
//	go run ./examples/echoservice -role server
//	go run ./examples/echoservice -role client hello world
//	go run ./examples/echoservice -role client -n 10000 -size 64   # latency
//
// The server stops gracefully on SIGINT or SIGTERM: it answers every
// request already sent, then removes its buffer.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/zerobuffer/zerobuffer-go/codec/msgpack"
	"github.com/zerobuffer/zerobuffer-go/core"
	"github.com/zerobuffer/zerobuffer-go/duplex"
)

// EchoRequest asks the server to echo Text, upper-cased if Upper is set.
type EchoRequest struct {
	Text  string
	Upper bool
}

// EchoResponse is the server's answer.
type EchoResponse struct {
	Text   string
	Served uint64 // requests the server answered so far, this one included
}

// buffers are 16 MiB rings, larger than the 1 MiB default, so that a
// request or response may carry up to 16 MiB - 16 bytes.
var buffers = core.BufferConfig{MetadataSize: 4096, PayloadSize: 16 << 20}

func main() {
	role := flag.String("role", "", "server or client")
	name := flag.String("name", "echoservice", "channel name (buffers NAME_request and NAME_response)")
	workers := flag.Int("workers", 1, "server: handlers run at once (responses stay in order)")
	n := flag.Int("n", 0, "client: instead of echoing the arguments, make n calls and print the latency")
	size := flag.Int("size", 64, "client with -n: text size in bytes")
	upper := flag.Bool("upper", false, "client: ask for upper case")
	flag.Parse()
	log.SetFlags(0)
	var err error
	switch *role {
	case "server":
		err = serve(*name, *workers)
	case "client":
		err = client(*name, flag.Args(), *upper, *n, *size)
	default:
		err = errors.New("-role must be server or client")
	}
	if err != nil {
		log.Fatal(err)
	}
}

func serve(name string, workers int) error {
	var served atomic.Uint64 // handlers may run concurrently with -workers
	handle := func(_ context.Context, req EchoRequest) (EchoResponse, error) {
		if req.Text == "" {
			return EchoResponse{}, errors.New("nothing to echo")
		}
		text := req.Text
		if req.Upper {
			text = strings.ToUpper(text)
		}
		return EchoResponse{Text: text, Served: served.Add(1)}, nil
	}
	srv, err := duplex.NewServer(name, msgpack.New[EchoRequest](), msgpack.New[EchoResponse](), handle,
		duplex.WithRequestBuffer(buffers),
		duplex.WithWorkers(workers),
		duplex.WithOnConnect(func([]byte) { log.Print("client connected") }),
		duplex.WithOnError(func(err error) { log.Print(err) }))
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(shutdown); err != nil {
			log.Print(err)
		}
	}()
	log.Printf("serving %q; Ctrl-C stops", name)
	if err := srv.Serve(context.Background()); !errors.Is(err, duplex.ErrServerClosed) {
		return err
	}
	log.Print("server closed")
	return nil
}

func client(name string, texts []string, upper bool, n, size int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dialCtx, cancelDial := context.WithTimeout(ctx, 5*time.Second) // Dial waits for the server this long
	defer cancelDial()
	c, err := duplex.Dial(dialCtx, name, msgpack.New[EchoRequest](), msgpack.New[EchoResponse](),
		duplex.WithResponseBuffer(buffers))
	if err != nil {
		return fmt.Errorf("dial (is the server running?): %w", err)
	}
	defer c.Close()
	if n > 0 {
		return measure(ctx, c, n, size)
	}
	if len(texts) == 0 {
		texts = []string{"hello", "", "world"} // the empty text shows a handler error
	}
	for _, text := range texts {
		resp, err := c.Call(ctx, EchoRequest{Text: text, Upper: upper})
		var he *duplex.HandlerError
		switch {
		case errors.As(err, &he):
			fmt.Printf("%q -> server error: %s\n", text, he.Message)
		case err != nil:
			return err
		default:
			fmt.Printf("%q -> %q (request #%d of the server)\n", text, resp.Text, resp.Served)
		}
	}
	return nil
}

// measure makes n calls and prints latency percentiles.
func measure(ctx context.Context, c *duplex.Client[EchoRequest, EchoResponse], n, size int) error {
	req := EchoRequest{Text: strings.Repeat("x", size)}
	lat := make([]time.Duration, n)
	for i := range lat {
		t0 := time.Now()
		if _, err := c.Call(ctx, req); err != nil {
			return err
		}
		lat[i] = time.Since(t0)
	}
	slices.Sort(lat)
	at := func(p float64) time.Duration { return lat[min(n-1, int(float64(n)*p/100))] }
	fmt.Printf("%d calls of %d bytes: p50 %v, p99 %v, p99.9 %v, max %v\n", n, size, at(50), at(99), at(99.9), lat[n-1])
	return nil
}
