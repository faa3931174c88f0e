package duplex

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zerobuffer/zerobuffer-go/internal/testproc"
)

func init() { childRoles["multi-stuck"] = roleMultiStuck }

// roleMultiStuck: name id limit. A client that sends requests (about 16
// per millisecond; at most limit unless 0) and reads none until its input
// says "read"; then it stops
// sending and receives until an error, checking every response, and
// prints "end N DISCONNECTED ERR" (N responses received, DISCONNECTED
// whether ERR matches ErrClientDisconnected). Its response ring is small
// (64 KiB) so that it fills quickly.
func roleMultiStuck(c *testproc.Child, a []string) int {
	name, id, limit := a[0], uint64(atoi(a[1])), uint64(atoi(a[2]))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cl, err := DialRawMulti(ctx, name, WithResponseBuffer(bufCfg(64<<10)))
	if err != nil {
		c.Printf("fail dial: %v", err)
		return 1
	}
	defer cl.Close()
	stop := make(chan struct{})
	sendErr := make(chan error, 1)
	go func() {
		for i := uint64(1); ; i++ {
			if limit > 0 && i > limit {
				<-stop
			}
			select {
			case <-stop:
				sendErr <- nil
				return
			default:
			}
			if err := cl.Send(ctx, multiReq(id, i)); err != nil {
				sendErr <- err
				return
			}
			if i%16 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
	}()
	c.Printf("ready")
	if l, ok := c.Next(); !ok || l != "read" {
		c.Printf("fail: input %q", l)
		return 1
	}
	close(stop)
	if err := <-sendErr; err != nil {
		c.Printf("fail send: %v", err)
		return 1
	}
	for got := uint64(0); ; got++ {
		resp, err := cl.Receive(ctx)
		if err != nil {
			c.Printf("end %d %v %v", got, errors.Is(err, ErrClientDisconnected), err)
			break
		}
		if want := xorFF(multiReq(id, got+1)); !bytes.Equal(resp, want) {
			c.Printf("fail: response %d is %x", got+1, resp[:16])
			return 1
		}
	}
	for {
		if _, ok := c.Next(); !ok {
			return 0
		}
	}
}

// TestMulti_StuckClientDoesNotStallOthers: one client process sends
// requests and never reads its responses; its response ring fills, then
// its response queue. The server disconnects it, and 3 other client
// processes calling flat out complete 10^4 calls each meanwhile; the
// stuck client, once it reads, gets its responses in order and then
// ErrClientDisconnected, and the server reported the disconnection. A
// second stuck client is SIGKILLed after its disconnection.
func TestMulti_StuckClientDoesNotStallOthers(t *testing.T) {
	name := multiChannel(t)
	const stall = time.Second
	reported := reportingServer(t, name, 8, stall)

	stuck := testproc.Start(t, "multi-stuck", name, "99", "0")
	stuck.Expect("ready", time.Minute)
	// A second stuck client sends 1000 requests only: its 64 KiB ring
	// takes about 800 responses, the rest wait in its queue, and it is
	// disconnected by the stall timeout rather than by the queue limit.
	// It is SIGKILLed once disconnected: the server must still stop its
	// queue writer and remove its response buffer (multiChannel reports
	// leftovers).
	killed := testproc.Start(t, "multi-stuck", name, "98", "1000")
	killed.Expect("ready", time.Minute)
	time.Sleep(200 * time.Millisecond) // its 64 KiB ring is full well before the others start
	n := multiCalls(testing.Short() || raceOn)
	start := time.Now()
	procs := make([]*testproc.Proc, 3)
	for i := range procs {
		procs[i] = testproc.Start(t, "multi-client", name, strconv.Itoa(i+1), strconv.Itoa(n), "calls")
	}
	// Generous: unloaded, 3 x 10^4 calls take well under a second; the
	// stuck client costs the others at most one stall timeout.
	const bound = 2 * time.Minute
	for i, p := range procs {
		if l := p.Expect("done", bound); l != "done "+strconv.Itoa(n) {
			t.Fatalf("client %d: %s", i+1, l)
		}
	}
	el := time.Since(start)
	t.Logf("3 clients x %d calls with a stuck client in %v", n, el)

	// The stuck client was disconnected (it has been stuck for longer
	// than the stall timeout by now, also if the others were fast).
	deadline := time.Now().Add(10 * stall)
	for reported.disconnects("more responses waiting") < 1 || reported.disconnects("full for") < 1 {
		if time.Now().After(deadline) {
			t.Fatalf("stuck clients not disconnected (once by the queue limit, once by the stall timeout) within %v; reported %v", 10*stall, reported.all())
		}
		time.Sleep(10 * time.Millisecond)
	}
	killed.Kill()
	stuck.Send("read")
	l := stuck.Expect("end", time.Minute)
	var got int
	var disc bool
	if _, err := fmt.Sscanf(l, "end %d %t", &got, &disc); err != nil || !disc || got == 0 {
		t.Fatalf("stuck client: %q (want its responses, then ErrClientDisconnected)", l)
	}
	t.Logf("stuck client: %s", l)
	for _, p := range append(procs, stuck) {
		p.CloseInput()
		if code, err := p.Wait(30 * time.Second); code != 0 || err != nil {
			t.Fatalf("client exit %d, %v", code, err)
		}
	}
}

// errLog collects what a server reports to its WithOnError hook.
type errLog struct {
	mu   sync.Mutex
	errs []error
}

func (l *errLog) add(err error) {
	l.mu.Lock()
	l.errs = append(l.errs, err)
	l.mu.Unlock()
}

func (l *errLog) all() []error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.errs)
}

// disconnects counts the reported ErrClientDisconnected errors whose text
// contains reason.
func (l *errLog) disconnects(reason string) int {
	n := 0
	for _, err := range l.all() {
		if errors.Is(err, ErrClientDisconnected) && strings.Contains(err.Error(), reason) {
			n++
		}
	}
	return n
}

// reportingServer serves a raw multi server with the given stall timeout
// until the test ends and returns the log of the errors it reports.
func reportingServer(t *testing.T, name string, maxClients int, stall time.Duration) *errLog {
	t.Helper()
	var log errLog
	srv, err := NewRawMultiServer(name, maxClients, multiHandler, WithRequestBuffer(bufCfg(smallBuf)),
		WithStallTimeout(stall), WithOnError(log.add))
	if err != nil {
		t.Fatal(err)
	}
	serve(t, srv)
	return &log
}

func TestMulti_StallTimeoutOption(t *testing.T) {
	name := multiChannel(t)
	if _, err := NewRawMultiServer(name, 2, multiHandler, WithStallTimeout(-time.Second)); err == nil {
		t.Fatal("negative stall timeout accepted")
	}
	srv, err := NewRawMultiServer(name, 2, multiHandler, WithRequestBuffer(bufCfg(smallBuf)))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if srv.o.stallTimeout != DefaultStallTimeout {
		t.Errorf("stall timeout %v, want the default %v", srv.o.stallTimeout, DefaultStallTimeout)
	}
}

// TestMulti_SlowClientQueued: a client pipelines more requests than its
// response ring holds and reads them late, three times over: the
// responses that found the ring full wait in its queue and arrive in
// request order, and the client is not disconnected (its ring never
// stays full for the stall timeout, and the queue stays below a ring's
// worth).
func TestMulti_SlowClientQueued(t *testing.T) {
	name := multiChannel(t)
	reported := reportingServer(t, name, 4, 5*time.Second)
	ctx := ctxT(t, time.Minute)
	cl, err := DialRawMulti(ctx, name, WithResponseBuffer(bufCfg(64<<10))) // about 800 responses
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	i := uint64(0)
	for round := range 3 {
		first := i + 1
		for range 1200 {
			i++
			if err := cl.Send(ctx, multiReq(7, i)); err != nil {
				t.Fatalf("round %d send %d: %v", round, i, err)
			}
		}
		time.Sleep(100 * time.Millisecond) // the ring is full, the rest queued
		for j := first; j <= i; j++ {
			resp, err := cl.Receive(ctx)
			if err != nil {
				t.Fatalf("round %d receive %d: %v", round, j, err)
			}
			if !bytes.Equal(resp, xorFF(multiReq(7, j))) {
				t.Fatalf("round %d: response %d out of order", round, j)
			}
		}
		// Between the rounds, plain calls: the queue has handed the ring
		// back to direct writes.
		for range 50 {
			i++
			req := multiReq(7, i)
			resp, err := cl.Call(ctx, req)
			if err != nil || !bytes.Equal(resp, xorFF(req)) {
				t.Fatalf("round %d call %d: %v", round, i, err)
			}
		}
	}
	if errs := reported.all(); len(errs) > 0 {
		t.Errorf("server reported %v", errs)
	}
}
