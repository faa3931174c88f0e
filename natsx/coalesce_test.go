package natsx_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/zerobuffer/zerobuffer-go/codec"
	"github.com/zerobuffer/zerobuffer-go/codec/msgpack"
	"github.com/zerobuffer/zerobuffer-go/natsx"
)

// spy subscribes a plain NATS subscription to subj, to see the messages a
// sender publishes.
func spy(t *testing.T, nc *nats.Conn, subj string) *nats.Subscription {
	t.Helper()
	sub, err := nc.SubscribeSync(subj)
	if err != nil {
		t.Fatal(err)
	}
	if err := sub.SetPendingLimits(-1, -1); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	return sub
}

// spied returns the messages sub holds once nothing new came for 300ms.
func spied(t *testing.T, sub *nats.Subscription) []*nats.Msg {
	t.Helper()
	var out []*nats.Msg
	for {
		m, err := sub.NextMsg(300 * time.Millisecond)
		if errors.Is(err, nats.ErrTimeout) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
}

// TestCoreCoalesced: values queued while no flusher runs leave as one
// batch message when Flush is called, nothing leaves before, and the
// receiver gets each value, in order, then io.EOF after Close.
func TestCoreCoalesced(t *testing.T) {
	ctx, url, nc, subj := testChannel(t, 60*time.Second)
	rx := listenCore(t, nc, subj, codec.Decoder[event](msgpack.New[event]()))
	sub := spy(t, nc, subj)
	tx, err := natsx.Dial(ctx, connect(t, url), subj, codec.Encoder[event](msgpack.New[event]()), natsx.WithMode(natsx.Core))
	if err != nil {
		t.Fatal(err)
	}
	natsx.StallFlusher(tx)
	const n = 100
	for i := range n {
		if err := tx.Send(ctx, event{Seq: i, Text: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if got := spied(t, sub); len(got) != 1 || got[0].Header.Get("Zb-Hello") == "" {
		t.Fatalf("before Flush: %d messages published, want only the announcement", len(got))
	}
	if err := tx.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	got := spied(t, sub)
	if len(got) != 1 || got[0].Header.Get("Zb-Batch") != strconv.Itoa(n) {
		t.Fatalf("after Flush: %d messages, want one batch of %d", len(got), n)
	}
	if err := tx.Close(); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		v, err := rx.Recv(ctx)
		if err != nil {
			t.Fatalf("value %d: %v", i, err)
		}
		if v.Seq != i || v.Text != fmt.Sprint(i) {
			t.Fatalf("value %d: %+v", i, v)
		}
	}
	if _, err := rx.Recv(ctx); err != io.EOF {
		t.Fatalf("after the last value: %v, want io.EOF", err)
	}
}

// TestCoreCoalescedClose: Close publishes the queued values before the
// end-of-stream message.
func TestCoreCoalescedClose(t *testing.T) {
	ctx, url, nc, subj := testChannel(t, 60*time.Second)
	rx := listenCore(t, nc, subj, codec.Decoder[[]byte](codec.RawCopy{}))
	tx, err := natsx.Dial(ctx, connect(t, url), subj, codec.Raw{}, natsx.WithMode(natsx.Core))
	if err != nil {
		t.Fatal(err)
	}
	natsx.StallFlusher(tx)
	for i := range 10 {
		if err := tx.Send(ctx, []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Close(); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		v, err := rx.Recv(ctx)
		if err != nil || !bytes.Equal(v, []byte{byte(i)}) {
			t.Fatalf("value %d: %v, %v", i, v, err)
		}
	}
	if _, err := rx.Recv(ctx); err != io.EOF {
		t.Fatalf("after the last value: %v, want io.EOF", err)
	}
}

// TestCoreCoalescedOrder: small values (queued) and large ones (published
// by their Send, after the queue) interleave from three goroutines with
// the flusher running; the receiver gets every value of each goroutine
// intact and in that goroutine's order, and fewer messages than values
// travel only if coalescing happened (reported, not asserted: it depends
// on scheduling).
func TestCoreCoalescedOrder(t *testing.T) {
	ctx, url, nc, subj := testChannel(t, 120*time.Second)
	rx, err := natsx.Listen(ctx, nc, subj, codec.Decoder[[]byte](codec.RawCopy{}), natsx.WithMode(natsx.Core), natsx.WithMaxPending(1<<20))
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	sub := spy(t, nc, subj)
	tx, err := natsx.Dial(ctx, connect(t, url), subj, codec.Raw{}, natsx.WithMode(natsx.Core))
	if err != nil {
		t.Fatal(err)
	}
	const senders, per = 3, 2000
	value := func(g, i int) []byte {
		size := 8 + i%200
		if i%97 == 0 {
			size = natsx.CoalesceLimit/2 + i // above the coalescing bound
		}
		v := bytes.Repeat([]byte{byte(g*31 + i)}, size)
		v[0], v[1], v[2] = byte(g), byte(i), byte(i>>8)
		return v
	}
	errc := make(chan error, senders)
	for g := range senders {
		go func() {
			for i := range per {
				if err := tx.Send(ctx, value(g, i)); err != nil {
					errc <- err
					return
				}
			}
			errc <- nil
		}()
	}
	for range senders {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Close(); err != nil {
		t.Fatal(err)
	}
	next := make([]int, senders)
	for k := range senders * per {
		v, err := rx.Recv(ctx)
		if err != nil {
			t.Fatalf("after %d values: %v", k, err)
		}
		g := int(v[0])
		if g >= senders || next[g] >= per || !bytes.Equal(v, value(g, next[g])) {
			t.Fatalf("value %d: sender %d, %d bytes; want its value %d", k, g, len(v), next[g])
		}
		next[g]++
	}
	if _, err := rx.Recv(ctx); err != io.EOF {
		t.Fatalf("after the last value: %v, want io.EOF", err)
	}
	t.Logf("%d values in %d NATS messages", senders*per, len(spied(t, sub)))
}

// TestCoreWithoutCoalescing: each Send is one NATS message.
func TestCoreWithoutCoalescing(t *testing.T) {
	ctx, url, nc, subj := testChannel(t, 60*time.Second)
	sub := spy(t, nc, subj)
	tx, err := natsx.Dial(ctx, connect(t, url), subj, codec.Raw{}, natsx.WithMode(natsx.Core), natsx.WithoutCoalescing())
	if err != nil {
		t.Fatal(err)
	}
	const n = 500
	for i := range n {
		if err := tx.Send(ctx, []byte(strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Close(); err != nil {
		t.Fatal(err)
	}
	got := spied(t, sub)
	if len(got) != n+2 { // announcement, values, end of stream
		t.Fatalf("%d messages for %d sends, want %d", len(got), n, n+2)
	}
	for i, m := range got[1 : n+1] {
		if string(m.Data) != strconv.Itoa(i) || m.Header.Get("Zb-Batch") != "" {
			t.Fatalf("message %d: %q, header %v", i, m.Data, m.Header)
		}
	}
}

// TestCoreCoalescedConnClosed: a value queued on a closed connection is
// not silently lost: Flush (or a later Send, or Close) reports the error.
func TestCoreCoalescedConnClosed(t *testing.T) {
	ctx, url, _, subj := testChannel(t, 60*time.Second)
	pc := connect(t, url)
	tx, err := natsx.Dial(ctx, pc, subj, codec.Raw{}, natsx.WithMode(natsx.Core))
	if err != nil {
		t.Fatal(err)
	}
	natsx.StallFlusher(tx)
	pc.Close()
	if err := tx.Send(ctx, []byte("late")); err != nil {
		t.Fatalf("queueing Send: %v, want nil (the error comes with the publication)", err)
	}
	if err := tx.Flush(ctx); !errors.Is(err, nats.ErrConnectionClosed) {
		t.Fatalf("Flush: %v, want nats.ErrConnectionClosed", err)
	}
}
