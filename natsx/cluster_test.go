package natsx_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zerobuffer/zerobuffer-go/codec/msgpack"
	"github.com/zerobuffer/zerobuffer-go/internal/testproc"
	"github.com/zerobuffer/zerobuffer-go/natsx"
	"github.com/zerobuffer/zerobuffer-go/typed"
)

// freePorts returns n distinct free loopback ports.
func freePorts(t *testing.T, n int) []int {
	var ls []net.Listener
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

// TestClusterServerKilled: a three-server JetStream cluster (replicas 3,
// file storage), each server a child process; the server the receiver is
// connected to is SIGKILLed mid-stream. Every message whose Send returned
// nil (the cluster acknowledged it) arrives, once, in order, and the
// channel's declared metadata survives.
func TestClusterServerKilled(t *testing.T) {
	n := 600
	if testing.Short() {
		n = 150
	}
	start := time.Now()
	ports := freePorts(t, 6)
	cports := ports[3:]
	var procs []*testproc.Proc
	var urls []string
	for i := range 3 {
		var routes []string
		for j, p := range cports {
			if j != i {
				routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", p))
			}
		}
		store := t.TempDir() // before Start: removed after the child is killed
		p := testproc.Start(t, "natsserver", fmt.Sprintf("zb%d", i), strconv.Itoa(ports[i]),
			strconv.Itoa(cports[i]), strings.Join(routes, ","), store)
		procs = append(procs, p)
	}
	for _, p := range procs {
		urls = append(urls, strings.TrimPrefix(p.Expect("ready", 40*time.Second), "ready "))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	all := strings.Join(urls, ",")
	subj := subject(t)
	c := msgpack.New[event]()

	// The cluster elects its meta leader after start: retry until the
	// stream can be created.
	txc := connect(t, all)
	var tx *natsx.Sender[event]
	for {
		var err error
		actx, acancel := context.WithTimeout(ctx, 2*time.Second)
		tx, err = natsx.Dial(actx, txc, subj, c, natsx.WithReplicas(3))
		acancel()
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("cluster not ready: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("cluster ready after %v", time.Since(start))
	rxc := connect(t, all)
	rx, err := natsx.Listen(ctx, rxc, subj, c, natsx.WithReplicas(3))
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()

	var wg sync.WaitGroup
	acked := 0
	killed := -1
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range n {
			if i == n/3 {
				k := 0
				for j, u := range urls {
					if u == rxc.ConnectedUrl() {
						k = j
					}
				}
				procs[k].Kill()
				killed = k
				t.Logf("SIGKILLed server %d (the receiver's) after %d messages, at %v", k, i, time.Since(start))
			}
			if err := tx.Send(ctx, event{Seq: i}); err != nil {
				t.Errorf("send %d: %v", i, err)
				return
			}
			acked++
		}
		if err := tx.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	}()
	got := 0
	for v, err := range rx.All(ctx) {
		if err != nil {
			t.Fatalf("after %d: %v", got, err)
		}
		if v.Seq != got {
			t.Fatalf("message %d, want %d", v.Seq, got)
		}
		got++
	}
	wg.Wait()
	t.Logf("done at %v; receiver now on %s", time.Since(start), rxc.ConnectedUrl())
	if killed < 0 {
		t.Fatal("no server was killed")
	}
	if got != acked || acked != n {
		t.Fatalf("received %d, acknowledged %d, sent %d", got, acked, n)
	}
	// The declared metadata survived the kill (its bucket is replicated
	// like the stream): another codec is still refused, the same accepted.
	// Dial is called right after the kill, while groups that lost their
	// leader may still be electing one: its metadata requests retry
	// unanswered attempts within its ctx.
	mctx, mcancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer mcancel()
	mc := connect(t, all)
	if _, err := natsx.Dial(mctx, mc, subj, rawEvent{}, natsx.WithReplicas(3)); !errors.Is(err, typed.ErrCodecMismatch) {
		t.Fatalf("other codec after the kill: %v, want ErrCodecMismatch", err)
	}
	tx2, err := natsx.Dial(mctx, mc, subj, c, natsx.WithReplicas(3))
	if err != nil {
		t.Fatalf("same codec after the kill: %v", err)
	}
	tx2.Close()
	t.Logf("metadata checked after the kill at %v", time.Since(start))
}
