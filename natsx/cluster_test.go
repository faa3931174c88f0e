package natsx_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zerobuffer/zerobuffer-go/codec/msgpack"
	"github.com/zerobuffer/zerobuffer-go/natsx"
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

// TestClusterServerLoss: a three-server JetStream cluster (replicas 3, all
// in-process on loopback); one server is shut down mid-stream. Every
// message whose Send returned nil (the cluster acknowledged it) arrives,
// once, in order.
func TestClusterServerLoss(t *testing.T) {
	n := 600
	if testing.Short() {
		n = 150
	}
	start := time.Now()
	cports := freePorts(t, 3)
	var servers []*natsx.Embedded
	var urls []string
	for i := range 3 {
		var routes []string
		for j, p := range cports {
			if j != i {
				routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", p))
			}
		}
		e, err := natsx.StartEmbedded(natsx.EmbeddedConfig{
			ServerName: fmt.Sprintf("zb%d", i), ClusterName: "zbtest", ClusterPort: cports[i], Routes: routes,
			ReadyTimeout: 30 * time.Second,
		})
		if err != nil {
			t.Fatal(err)
		}
		servers = append(servers, e)
		urls = append(urls, e.URL())
	}
	closed := make([]bool, 3)
	defer func() {
		for i, e := range servers {
			if !closed[i] {
				e.Close()
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
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
		tx, err = natsx.Dial(actx, txc, subj, c, natsx.WithReplicas(3), natsx.WithMemoryStorage())
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
	rx, err := natsx.Listen(ctx, rxc, subj, c, natsx.WithReplicas(3), natsx.WithMemoryStorage())
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()

	var wg sync.WaitGroup
	acked := 0
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range n {
			if i == n/3 {
				// Shut down the server the receiver is connected to, or
				// else the first one: either way a replica and some
				// clients lose their server mid-stream.
				k := 0
				for j, u := range urls {
					if u == rxc.ConnectedUrl() {
						k = j
					}
				}
				servers[k].Close()
				closed[k] = true
				t.Logf("shut down server %d after %d messages, at %v", k, i, time.Since(start))
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
	t.Logf("done at %v", time.Since(start))
	if got != acked || acked != n {
		t.Fatalf("received %d, acknowledged %d, sent %d", got, acked, n)
	}
}
