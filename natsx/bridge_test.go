package natsx_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zerobuffer/zerobuffer-go/core"
	"github.com/zerobuffer/zerobuffer-go/internal/testproc"
	"github.com/zerobuffer/zerobuffer-go/natsx"
)

// TestBridgeServerRestart: a shared-memory writer process sends 10^5
// frames through the bridge to a NATS consumer process; the embedded
// server is restarted (same port, same store) in the middle. The consumer
// checks every message arrives exactly once and in order.
func TestBridgeServerRestart(t *testing.T) {
	n := 100000
	if testing.Short() {
		n = 20000
	}
	e := startRestartable(t)

	name := strings.ReplaceAll(testproc.Name(t, "zbn", 20), ".", "_")
	subj := "bridge." + name
	nc := connect(t, e.URL())
	ctx, cancel := context.WithCancel(context.Background())
	bridged := make(chan error, 1)
	go func() { bridged <- natsx.BridgeToNATS(ctx, name, core.BufferConfig{PayloadSize: 64 << 10}, nc, subj) }()
	defer func() {
		cancel()
		if err := <-bridged; !errors.Is(err, context.Canceled) {
			t.Errorf("bridge: %v", err)
		}
		if left := testproc.Leftovers(name); len(left) > 0 {
			t.Errorf("left behind: %v", left)
		}
	}()

	consumer := testproc.Start(t, "natsconsumer", e.URL(), subj, strconv.Itoa(n))
	writer := testproc.Start(t, "shmwriter", name, strconv.Itoa(n))

	// Restart when the consumer has a third of the stream. The ring (64
	// KiB, about 2700 frames) holds far less than the rest, so the writer
	// is still sending through the bridge when the server goes away.
	mid := "progress " + strconv.Itoa(max(n/3/10000, 1)*10000)
	for l := ""; l != mid; {
		l = consumer.Expect("progress", 120*time.Second)
	}
	t.Logf("restarting the server at %q", mid)
	e.stop()
	time.Sleep(200 * time.Millisecond)
	e.start()
	if l := writer.Expect("sent", 180*time.Second); l != "sent "+strconv.Itoa(n) {
		t.Fatalf("writer: %q", l)
	}
	for {
		l, err := consumer.Line(180 * time.Second)
		if err != nil {
			t.Fatalf("consumer: %v", err)
		}
		if strings.HasPrefix(l, "progress") {
			continue
		}
		if l != "done "+strconv.Itoa(n) {
			t.Fatalf("consumer: %q", l)
		}
		break
	}
	if code, err := consumer.Wait(30 * time.Second); code != 0 || err != nil {
		t.Fatalf("consumer exit %d: %v", code, err)
	}
}
