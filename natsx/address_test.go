package natsx_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/zerobuffer/zerobuffer-go/codec/msgpack"
	"github.com/zerobuffer/zerobuffer-go/core"
	"github.com/zerobuffer/zerobuffer-go/internal/testproc"
	"github.com/zerobuffer/zerobuffer-go/natsx"
	"github.com/zerobuffer/zerobuffer-go/typed"
)

func TestParseAddress(t *testing.T) {
	for _, c := range []struct {
		in   string
		want natsx.Address
	}{
		{"shm://sensors", natsx.Address{Scheme: "shm", Name: "sensors"}},
		{"nats://10.0.0.1:4222/events.a", natsx.Address{Scheme: "nats", Name: "events.a", Server: "nats://10.0.0.1:4222"}},
		{"nats:///events", natsx.Address{Scheme: "nats", Name: "events"}},
	} {
		got, err := natsx.ParseAddress(c.in)
		if err != nil || got != c.want {
			t.Errorf("%q: %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "shm://", "shm://a/b", "nats://h:1/", "nats://h:1/a.*", "nats://h:1/a..b", "http://x/y", "nats://h:1/$JS.API"} {
		if _, err := natsx.ParseAddress(bad); !errors.Is(err, natsx.ErrBadURL) {
			t.Errorf("%q: %v, want ErrBadURL", bad, err)
		}
	}
}

// TestBridgeFromNATS: a NATS sender's messages reach a shared-memory
// receiver through the reverse bridge, in order; the codec declaration
// crosses in the buffer metadata (the typed receiver checks it); the
// sender's Close ends the shared-memory stream.
func TestBridgeFromNATS(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	name := strings.ReplaceAll(testproc.Name(t, "zbr", 20), ".", "_")
	subj := subject(t)
	c := msgpack.New[event]()
	rx, err := typed.Listen(name, core.BufferConfig{PayloadSize: 64 << 10}, c)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		rx.Close()
		if left := testproc.Leftovers(name); len(left) > 0 {
			t.Errorf("left behind: %v", left)
		}
	}()
	nc := connect(t, server(t).URL())
	defer natsx.Remove(context.Background(), nc, subj)
	tx, err := natsx.Dial(ctx, nc, subj, c)
	if err != nil {
		t.Fatal(err)
	}
	n := 3000
	for i := range n {
		if err := tx.Send(ctx, event{Seq: i}); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Close(); err != nil {
		t.Fatal(err)
	}
	bridged := make(chan error, 1)
	go func() { bridged <- natsx.BridgeFromNATS(ctx, connect(t, server(t).URL()), subj, name) }()
	i := 0
	for v, err := range rx.All(ctx) {
		if err != nil {
			t.Fatalf("after %d: %v", i, err)
		}
		if v.Seq != i {
			t.Fatalf("got %d, want %d", v.Seq, i)
		}
		i++
	}
	if i != n {
		t.Fatalf("received %d of %d", i, n)
	}
	if err := <-bridged; err != nil {
		t.Fatalf("bridge: %v", err)
	}
	if _, err := rx.Recv(ctx); err != io.EOF {
		t.Fatalf("after the bridge: %v", err)
	}
}
