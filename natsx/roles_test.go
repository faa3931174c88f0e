package natsx_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/zerobuffer/zerobuffer-go/codec"
	"github.com/zerobuffer/zerobuffer-go/internal/testproc"
	"github.com/zerobuffer/zerobuffer-go/natsx"
	"github.com/zerobuffer/zerobuffer-go/typed"
)

var roles = map[string]testproc.Role{
	"shmwriter":    shmWriterRole,
	"natsconsumer": natsConsumerRole,
	"natslistener": natsListenerRole,
	"natssender":   natsSenderRole,
	"natsserver":   natsServerRole,
}

// shmWriterRole args: buffer name, count. It sends count 8-byte frames
// holding 0..count-1 (big-endian) with the raw codec, then closes.
func shmWriterRole(c *testproc.Child, args []string) int {
	n, _ := strconv.Atoi(args[1])
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	tx, err := typed.Dial(ctx, args[0], codec.Raw{})
	if err != nil {
		c.Printf("error dial: %v", err)
		return 1
	}
	var b [8]byte
	for i := range n {
		binary.BigEndian.PutUint64(b[:], uint64(i))
		if err := tx.Send(ctx, b[:]); err != nil {
			c.Printf("error send %d: %v", i, err)
			return 1
		}
	}
	if err := tx.Close(); err != nil {
		c.Printf("error close: %v", err)
		return 1
	}
	c.Printf("sent %d", n)
	return 0
}

// natsConsumerRole args: url, subject, count. It receives until io.EOF and
// checks that message i holds i: exactly once, in order. It prints
// "progress K" every 10000 messages and "done N" at the end.
func natsConsumerRole(c *testproc.Child, args []string) int {
	want, _ := strconv.Atoi(args[2])
	ctx, nc, done, ok := childConnect(c, args[0], 5*time.Minute, nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if !ok {
		return 1
	}
	defer done()
	rx, err := natsx.Listen(ctx, nc, args[1], codec.RawCopy{})
	if err != nil {
		c.Printf("error listen: %v", err)
		return 1
	}
	defer rx.Close()
	i := 0
	for v, err := range rx.All(ctx) {
		if err != nil {
			c.Printf("error after %d: %v", i, err)
			return 1
		}
		if len(v) != 8 || binary.BigEndian.Uint64(v) != uint64(i) {
			c.Printf("error: message %d holds %x", i, v)
			return 1
		}
		i++
		if i%10000 == 0 {
			c.Printf("progress %d", i)
		}
	}
	if i != want {
		c.Printf("error: %d messages, want %d", i, want)
		return 1
	}
	c.Printf("done %s", fmt.Sprint(i))
	return 0
}
