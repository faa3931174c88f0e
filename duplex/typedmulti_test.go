package duplex

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zerobuffer/zerobuffer-go/codec"
	"github.com/zerobuffer/zerobuffer-go/codec/msgpack"
	"github.com/zerobuffer/zerobuffer-go/internal/testproc"
)

func init() { childRoles["typed-multi-client"] = roleTypedMultiClient }

// typedMultiReq is call i of client id; the response must carry the sum
// and the note back.
func typedMultiReq(id, i int) addReq {
	return addReq{A: int64(id) << 32, B: int64(i), Note: fmt.Sprintf("c%d-%d", id, i)}
}

// roleTypedMultiClient: name id n mode. Mode "calls": 8 goroutines make n
// typed calls in all, each checking its response against its request,
// then prints "done N" and waits for the end of input. Mode "flood": 8
// goroutines call without end; "ready" after the first 100 responses
// (calls are in flight when the test kills it).
func roleTypedMultiClient(c *testproc.Child, a []string) int {
	name, id, n, mode := a[0], atoi(a[1]), atoi(a[2]), a[3]
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cl, err := DialMulti(ctx, name, msgpack.New[addReq](), msgpack.New[addResp](), WithResponseBuffer(bufCfg(smallBuf)))
	if err != nil {
		c.Printf("fail dial: %v", err)
		return 1
	}
	defer cl.Close()
	var next, got atomic.Int64
	var ready sync.Once
	var failed atomic.Pointer[string]
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1))
				if mode == "calls" && i > n {
					return
				}
				req := typedMultiReq(id, i)
				resp, err := cl.Call(ctx, req)
				if err == nil && (resp.Sum != req.A+req.B || resp.Note != req.Note) {
					err = fmt.Errorf("response %+v to request %+v", resp, req)
				}
				if err != nil {
					msg := fmt.Sprintf("call %d: %v", i, err)
					failed.CompareAndSwap(nil, &msg)
					return
				}
				if got.Add(1) == 100 && mode == "flood" {
					ready.Do(func() { c.Printf("ready") })
				}
			}
		}()
	}
	wg.Wait()
	if p := failed.Load(); p != nil {
		c.Printf("fail %s", *p)
		return 1
	}
	c.Printf("done %d", got.Load())
	for {
		if _, ok := c.Next(); !ok {
			return 0
		}
	}
}

func startTypedMulti(t *testing.T, name string, opts ...Option) *Server[addReq, addResp] {
	t.Helper()
	opts = append([]Option{WithRequestBuffer(bufCfg(smallBuf))}, opts...)
	srv, err := NewMultiServer(name, 8, msgpack.New[addReq](), msgpack.New[addResp](), addHandler, opts...)
	if err != nil {
		t.Fatal(err)
	}
	serve(t, srv)
	return srv
}

// TestTypedMulti_FourClientsAndAKill: 4 client processes x 10^4 typed
// calls (8 in flight each) into one NewMultiServer, every response
// checked against its own request in the client; meanwhile a fifth
// client is SIGKILLed with calls in flight, and the four finish
// unaffected.
func TestTypedMulti_FourClientsAndAKill(t *testing.T) {
	name := multiChannel(t)
	startTypedMulti(t, name)
	n := multiCalls(testing.Short() || raceOn)
	start := time.Now()
	procs := make([]*testproc.Proc, 4)
	for i := range procs {
		procs[i] = testproc.Start(t, "typed-multi-client", name, strconv.Itoa(i+1), strconv.Itoa(n), "calls")
	}
	victim := testproc.Start(t, "typed-multi-client", name, "99", "0", "flood")
	victim.Expect("ready", time.Minute)
	time.Sleep(20 * time.Millisecond) // calls in flight
	victim.Kill()
	for i, p := range procs {
		if l := p.Expect("done", 2*time.Minute); l != "done "+strconv.Itoa(n) {
			t.Fatalf("client %d: %s", i+1, l)
		}
	}
	el := time.Since(start)
	for i, p := range procs {
		p.CloseInput()
		if code, err := p.Wait(30 * time.Second); code != 0 || err != nil {
			t.Fatalf("client %d exit %d, %v", i+1, code, err)
		}
	}
	t.Logf("4 clients x %d typed calls (and a killed one) in %v: %.0f calls/s", n, el, float64(4*n)/el.Seconds())
}

// TestTypedMulti_CodecCheck: the codec check is per client. A client
// declaring another request codec gets error responses naming the
// mismatch, and one expecting another response codec gets
// codec.ErrMismatch; a matching client on the same server is served.
func TestTypedMulti_CodecCheck(t *testing.T) {
	name := multiChannel(t)
	var mu sync.Mutex
	var reported []error
	var connected []string
	startTypedMulti(t, name,
		WithOnError(func(err error) { mu.Lock(); reported = append(reported, err); mu.Unlock() }),
		WithOnConnect(func(md []byte) { mu.Lock(); connected = append(connected, string(md)); mu.Unlock() }))
	ctx := ctxT(t, time.Minute)

	good, err := DialMulti(ctx, name, msgpack.New[addReq](), msgpack.New[addResp](),
		WithResponseBuffer(bufCfg(smallBuf)), WithMetadata([]byte("good")))
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close()
	badReq, err := DialMulti(ctx, name, codec.Raw{}, msgpack.New[addResp](), WithResponseBuffer(bufCfg(smallBuf)))
	if err != nil {
		t.Fatal(err)
	}
	defer badReq.Close()
	badResp, err := DialMulti(ctx, name, msgpack.New[addReq](), codec.RawCopy{}, WithResponseBuffer(bufCfg(smallBuf)))
	if err != nil {
		t.Fatal(err)
	}
	defer badResp.Close()

	for i := range 3 {
		if _, err := badReq.Call(ctx, []byte("not msgpack")); !errors.Is(err, ErrHandler) || !strings.Contains(err.Error(), codec.ErrMismatch.Error()) {
			t.Errorf("client with another request codec, call %d: %v, want an error response naming the mismatch", i, err)
		}
		if _, err := badResp.Call(ctx, addReq{A: 1, B: 2}); !errors.Is(err, codec.ErrMismatch) {
			t.Errorf("client with another response codec, call %d: %v, want codec.ErrMismatch", i, err)
		}
		if r, err := good.Call(ctx, addReq{A: 40, B: 2, Note: "x"}); err != nil || r.Sum != 42 || r.Note != "x" {
			t.Errorf("matching client, call %d: %+v, %v", i, r, err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	var mismatches int
	for _, err := range reported {
		if errors.Is(err, codec.ErrMismatch) {
			mismatches++
		}
	}
	if mismatches != 1 {
		t.Errorf("error hook got %d codec mismatches (want 1, when the client connected): %v", mismatches, reported)
	}
	var sawGood bool
	for _, md := range connected {
		sawGood = sawGood || md == "good"
	}
	if !sawGood {
		t.Errorf("WithOnConnect got %q, want the user part \"good\" among them", connected)
	}
}
