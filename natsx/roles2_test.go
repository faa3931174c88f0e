package natsx_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/zerobuffer/zerobuffer-go/codec/msgpack"
	"github.com/zerobuffer/zerobuffer-go/internal/testproc"
	"github.com/zerobuffer/zerobuffer-go/natsx"
)

// natsListenerRole args: url, subject, lease (a time.Duration), ack wait,
// and optionally "competing" (WithCompetingReceivers).
// It listens on the JetStream channel and prints "listening", or
// "refused" if the channel has another receiver (ErrReceiverExists), or
// "error ...". Then it obeys its input: "recv N" receives N messages and
// prints "got S1,S2,..." (their Seq fields); "close" closes the receiver
// and exits.
func natsListenerRole(c *testproc.Child, args []string) int {
	lease, _ := time.ParseDuration(args[2])
	ackWait, _ := time.ParseDuration(args[3])
	ctx, nc, done, ok := childConnect(c, args[0], 2*time.Minute)
	if !ok {
		return 1
	}
	defer done()
	opts := []natsx.Option{natsx.WithReceiverLease(lease), natsx.WithAckWait(ackWait)}
	if len(args) > 4 && args[4] == "competing" {
		opts = append(opts, natsx.WithCompetingReceivers())
	}
	rx, err := natsx.Listen(ctx, nc, args[1], msgpack.New[event](), opts...)
	if errors.Is(err, natsx.ErrReceiverExists) {
		c.Printf("refused: %v", err)
		return 0
	}
	if err != nil {
		c.Printf("error listen: %v", err)
		return 1
	}
	c.Printf("listening")
	for {
		line, ok := c.Next()
		if !ok || line == "close" {
			if err := rx.Close(); err != nil {
				c.Printf("error close: %v", err)
				return 1
			}
			c.Printf("closed")
			return 0
		}
		n, _ := strconv.Atoi(strings.TrimPrefix(line, "recv "))
		var got []string
		for range n {
			v, err := rx.Recv(ctx)
			if err != nil {
				c.Printf("error recv after %d: %v", len(got), err)
				return 1
			}
			got = append(got, strconv.Itoa(v.Seq))
		}
		c.Printf("got %s", strings.Join(got, ","))
	}
}

// natsSenderRole args: url, subject, base, first, second. It dials the
// JetStream channel and prints "ready"; at "go" it sends first messages
// (Seq base, base+1, ...) and prints "half"; at "more" it sends second
// more; then it closes and prints "closed". With second 0 it closes
// right after the first part, without waiting for "more".
func natsSenderRole(c *testproc.Child, args []string) int {
	base, _ := strconv.Atoi(args[2])
	first, _ := strconv.Atoi(args[3])
	second, _ := strconv.Atoi(args[4])
	ctx, nc, done, ok := childConnect(c, args[0], 2*time.Minute)
	if !ok {
		return 1
	}
	defer done()
	tx, err := natsx.Dial(ctx, nc, args[1], msgpack.New[event]())
	if err != nil {
		c.Printf("error dial: %v", err)
		return 1
	}
	c.Printf("ready")
	send := func(from, n int) bool {
		for i := from; i < from+n; i++ {
			if err := tx.Send(ctx, event{Seq: base + i}); err != nil {
				c.Printf("error send %d: %v", i, err)
				return false
			}
		}
		return true
	}
	if l, _ := c.Next(); l != "go" {
		c.Printf("error: command %q", l)
		return 1
	}
	if !send(0, first) {
		return 1
	}
	c.Printf("half")
	if second > 0 {
		if l, _ := c.Next(); l != "more" {
			c.Printf("error: command %q", l)
			return 1
		}
		if !send(first, second) {
			return 1
		}
	}
	if err := tx.Close(); err != nil {
		c.Printf("error close: %v", err)
		return 1
	}
	c.Printf("closed")
	return 0
}

// natsServerRole args: server name, client port, cluster port, routes
// (comma-separated nats-route:// URLs), store dir. It runs an embedded
// JetStream server of a cluster, prints "ready URL", and runs until its
// input ends (or it is killed).
func natsServerRole(c *testproc.Child, args []string) int {
	port, _ := strconv.Atoi(args[1])
	cport, _ := strconv.Atoi(args[2])
	e, err := natsx.StartEmbedded(natsx.EmbeddedConfig{
		ServerName: args[0], Port: port, ClusterName: "zbtest", ClusterPort: cport,
		Routes: strings.Split(args[3], ","), StoreDir: args[4], ReadyTimeout: 30 * time.Second,
	})
	if err != nil {
		c.Printf("error start: %v", err)
		return 1
	}
	c.Printf("ready %s", e.URL())
	for {
		if _, ok := c.Next(); !ok {
			break
		}
	}
	if err := e.Close(); err != nil {
		fmt.Println("error close:", err)
		return 1
	}
	return 0
}

// childConnect connects a child role to the server at url and gives it a
// context that ends after d; done closes both. On a failed connection it
// prints "error connect: ..." and ok is false.
func childConnect(c *testproc.Child, url string, d time.Duration, opts ...nats.Option) (ctx context.Context, nc *nats.Conn, done func(), ok bool) {
	nc, err := nats.Connect(url, append([]nats.Option{nats.Timeout(connectTimeout)}, opts...)...)
	if err != nil {
		c.Printf("error connect: %v", err)
		return nil, nil, nil, false
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	return ctx, nc, func() { cancel(); nc.Close() }, true
}
