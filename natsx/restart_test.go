package natsx_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/zerobuffer/zerobuffer-go/codec"
	"github.com/zerobuffer/zerobuffer-go/natsx"
)

// TestDialListenDuringRestart: Dial and Listen in JetStream mode made
// while the server is down wait for it (they used to fail at once with a
// timeout or "no responders"), and the channel works once it is back.
func TestDialListenDuringRestart(t *testing.T) {
	e := startRestartable(t)
	nc := connect(t, e.URL())
	subj := subject(t)

	e.stop()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	type dialed struct {
		tx  *natsx.Sender[[]byte]
		err error
	}
	type listened struct {
		rx  *natsx.Receiver[[]byte]
		err error
	}
	dc, lc := make(chan dialed, 1), make(chan listened, 1)
	go func() {
		tx, err := natsx.Dial(ctx, nc, subj, codec.Raw{})
		dc <- dialed{tx, err}
	}()
	go func() {
		rx, err := natsx.Listen(ctx, nc, subj, codec.RawCopy{})
		lc <- listened{rx, err}
	}()
	// Long enough for several attempts of each call against no server.
	time.Sleep(3 * time.Second)
	select {
	case d := <-dc:
		t.Fatalf("Dial returned while the server was down: %v", d.err)
	case l := <-lc:
		t.Fatalf("Listen returned while the server was down: %v", l.err)
	default:
	}
	e.start()
	d, l := <-dc, <-lc
	if d.err != nil || l.err != nil {
		t.Fatalf("after the restart: Dial: %v, Listen: %v", d.err, l.err)
	}
	if err := d.tx.Send(ctx, []byte("after")); err != nil {
		t.Fatal(err)
	}
	if v, err := l.rx.Recv(ctx); err != nil || string(v) != "after" {
		t.Fatalf("Recv: %q, %v", v, err)
	}
	if err := errors.Join(d.tx.Close(), l.rx.Close(), natsx.Remove(ctx, nc, subj)); err != nil {
		t.Error(err)
	}
}
