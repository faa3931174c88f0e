package duplex

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zerobuffer/zerobuffer-go/internal/testproc"
)

func init() { childRoles["multi-client"] = roleMultiClient }

// multiReq is the request of call i of client id: id, i, then a pattern.
func multiReq(id, i uint64) []byte {
	b := make([]byte, 64)
	binary.LittleEndian.PutUint64(b, id)
	binary.LittleEndian.PutUint64(b[8:], i)
	for j := 16; j < len(b); j++ {
		b[j] = byte(id*7 + i + uint64(j))
	}
	return b
}

// multiHandler answers every request with its bytes inverted.
func multiHandler(_ context.Context, req []byte, rw *ResponseWriter) error {
	return rw.Write(context.Background(), xorFF(req))
}

// roleMultiClient: name id calls mode. Mode "calls": calls checked calls,
// 8 in flight, prints "done N" and closes at the end of input. Mode
// "flood": prints "ready", then sends requests without reading responses
// until killed (calls in flight when it dies).
func roleMultiClient(c *testproc.Child, a []string) int {
	name, id, n, mode := a[0], uint64(atoi(a[1])), atoi(a[2]), a[3]
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cl, err := DialRawMulti(ctx, name, WithResponseBuffer(bufCfg(smallBuf)))
	if err != nil {
		c.Printf("fail dial: %v", err)
		return 1
	}
	defer cl.Close()
	if mode == "flood" {
		c.Printf("ready")
		for i := uint64(1); ; i++ {
			if err := cl.Send(ctx, multiReq(id, i)); err != nil {
				c.Printf("fail send: %v", err)
				return 1
			}
		}
	}
	const depth = 8
	sent, got := 0, 0
	for got < n {
		for sent < n && sent-got < depth {
			sent++
			if err := cl.Send(ctx, multiReq(id, uint64(sent))); err != nil {
				c.Printf("fail send %d: %v", sent, err)
				return 1
			}
		}
		resp, err := cl.Receive(ctx)
		if err != nil {
			c.Printf("fail receive %d: %v", got+1, err)
			return 1
		}
		got++
		if want := xorFF(multiReq(id, uint64(got))); !bytes.Equal(resp, want) {
			c.Printf("fail: response %d of client %d is %x", got, id, resp[:16])
			return 1
		}
	}
	c.Printf("done %d", got)
	for {
		if _, ok := c.Next(); !ok {
			return 0
		}
	}
}

// multiChannel is testChannel for a multi-client channel: it also checks
// the request lanes, the fan-in control block and the clients' response
// buffers, also those of clients the test killed (the server removes them).
func multiChannel(t *testing.T) string {
	t.Helper()
	name := testproc.Name(t, "zbm", 30)
	t.Cleanup(func() {
		deadline := time.Now().Add(2 * time.Second)
		for {
			var left []string
			for _, pat := range []string{"/dev/shm/*" + name + "*", "/tmp/zerobuffer/*" + name + "*", "/tmp/zerobuffer/writer/*" + name + "*"} {
				m, _ := filepath.Glob(pat)
				left = append(left, m...)
			}
			owned := left // the server removes dead clients' response buffers too
			if len(owned) == 0 || time.Now().After(deadline) {
				for _, p := range owned {
					t.Errorf("left behind: %s", p)
				}
				for _, p := range left {
					_ = os.Remove(p)
				}
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
	return name
}

func startMultiServer(t *testing.T, name string) *RawMultiServer {
	t.Helper()
	srv, err := NewRawMultiServer(name, 8, multiHandler, WithRequestBuffer(bufCfg(smallBuf)))
	if err != nil {
		t.Fatal(err)
	}
	serve(t, srv)
	return srv
}

func multiCalls(short bool) int {
	if short {
		return 2000
	}
	return 10_000
}

// TestMulti_FourClients: 4 client processes x 10^4 calls at once, every
// response matched to its own request (checked in the clients).
func TestMulti_FourClients(t *testing.T) {
	name := multiChannel(t)
	startMultiServer(t, name)
	n := multiCalls(testing.Short() || raceOn)
	procs := make([]*testproc.Proc, 4)
	for i := range procs {
		procs[i] = testproc.Start(t, "multi-client", name, strconv.Itoa(i+1), strconv.Itoa(n), "calls")
	}
	start := time.Now()
	for i, p := range procs {
		if l := p.Expect("done", 2*time.Minute); l != "done "+strconv.Itoa(n) {
			t.Fatalf("client %d: %s", i+1, l)
		}
	}
	el := time.Since(start)
	for _, p := range procs {
		p.CloseInput()
		if code, err := p.Wait(30 * time.Second); code != 0 || err != nil {
			t.Fatalf("client exit %d, %v", code, err)
		}
	}
	t.Logf("4 clients x %d calls in %v: %.0f calls/s", n, el, float64(4*n)/el.Seconds())
}

// TestMulti_KillClientInFlight: a client is SIGKILLed with requests in
// flight; the other clients and a new one dialing right after it get
// only their own responses (each client checks every response's tag).
func TestMulti_KillClientInFlight(t *testing.T) {
	name := multiChannel(t)
	srv := startMultiServer(t, name)
	n := multiCalls(true)
	var procs []*testproc.Proc
	for i := range 2 {
		procs = append(procs, testproc.Start(t, "multi-client", name, strconv.Itoa(i+1), strconv.Itoa(n), "calls"))
	}
	for round := range 3 {
		victim := testproc.Start(t, "multi-client", name, strconv.Itoa(100+round), "0", "flood")
		victim.Expect("ready", time.Minute)
		time.Sleep(20 * time.Millisecond) // requests and responses in flight
		victim.Kill()
		// A new client at once: it may get the victim's lane once the
		// server has read the victim's requests.
		procs = append(procs, testproc.Start(t, "multi-client", name, strconv.Itoa(10+round), "500", "calls"))
	}
	for i, p := range procs {
		if l := p.Expect("done", 2*time.Minute); !strings.HasPrefix(l, "done ") {
			t.Fatalf("client %d: %s", i, l)
		}
		p.CloseInput()
		if code, err := p.Wait(30 * time.Second); code != 0 || err != nil {
			t.Fatalf("client %d exit %d, %v", i, code, err)
		}
	}
	var deaths, resets uint64
	for _, l := range srv.Lanes() {
		deaths += l.Deaths
		resets += l.Resets
	}
	t.Logf("lanes %d, writer deaths seen %d, lane resets %d", len(srv.Lanes()), deaths, resets)
}

// TestMulti_PlainClientOnLane0: a client of the single-client protocol
// (DialRaw: NAME_request/NAME_response, as the C++ DuplexClient) is served
// on lane 0 while a multi client is served on its own lane.
func TestMulti_PlainClientOnLane0(t *testing.T) {
	name := multiChannel(t)
	startMultiServer(t, name)
	ctx := ctxT(t, time.Minute)
	plain, err := DialRaw(ctx, name, WithResponseBuffer(bufCfg(smallBuf)))
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	multi, err := DialRawMulti(ctx, name, WithResponseBuffer(bufCfg(smallBuf)))
	if err != nil {
		t.Fatal(err)
	}
	defer multi.Close()
	if multi.lane.Index() == 0 {
		t.Fatal("multi client on lane 0")
	}
	for i := uint64(1); i <= 200; i++ {
		for id, cl := range []*RawClient{plain, multi} {
			req := multiReq(uint64(id), i)
			resp, err := cl.Call(ctx, req)
			if err != nil {
				t.Fatalf("client %d call %d: %v", id, i, err)
			}
			if !bytes.Equal(resp, xorFF(req)) {
				t.Fatalf("client %d call %d: wrong response", id, i)
			}
		}
	}
}
