package duplex

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/zerobuffer/zerobuffer-go/core"
	"github.com/zerobuffer/zerobuffer-go/internal/testproc"
)

func TestMain(m *testing.M) {
	testproc.Main(childRoles)
	goleak.VerifyTestMain(m)
}

// Buffer sizes of the tests: small, as the issue asks.
const (
	mib      = 1 << 20
	smallBuf = 1 * mib
	bigBuf   = 4 * mib
)

func bufCfg(payload int) core.BufferConfig {
	return core.BufferConfig{MetadataSize: 1024, PayloadSize: payload}
}

// testChannel returns a channel name unique to this test and process. At
// the end of the test it removes every object of both buffers; unless the
// test killed a peer (crashed), leftovers are reported as errors, since a
// clean shutdown must remove everything.
func testChannel(t testing.TB, crashed *bool) string {
	t.Helper()
	name := testproc.Name(t, "zbd", 50)
	t.Cleanup(func() {
		if runtime.GOOS != "linux" {
			return // elsewhere the objects vanish with their last handle
		}
		for _, b := range []string{RequestName(name), ResponseName(name)} {
			for _, p := range testproc.Leftovers(b) {
				if crashed == nil || !*crashed {
					t.Errorf("left behind: %s", p)
				}
				_ = os.Remove(p)
			}
		}
	})
	return name
}

// ctxT returns a context that ends with the test or after d.
func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// payload returns n bytes tagged with id in the first 8 bytes (when they
// fit) and a pattern derived from id after that.
func payload(id uint64, n int) []byte {
	b := make([]byte, n)
	var tag [8]byte
	binary.LittleEndian.PutUint64(tag[:], id)
	copy(b, tag[:])
	for i := 8; i < n; i++ {
		b[i] = byte(id*31 + uint64(i))
	}
	return b
}

func xorFF(b []byte) []byte {
	out := make([]byte, len(b))
	for i, v := range b {
		out[i] = v ^ 0xff
	}
	return out
}

// mustEqual fails when got differs from want, showing a short diff.
func mustEqual(t testing.TB, what string, got, want []byte) {
	t.Helper()
	if bytes.Equal(got, want) {
		return
	}
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	t.Fatalf("%s: got %d bytes, want %d; first difference at byte %d", what, len(got), len(want), i)
}

// rawServer starts an in-process server and serves until the test ends.
func rawServer(t testing.TB, name string, h HandlerFunc, opts ...Option) *RawServer {
	t.Helper()
	opts = append([]Option{WithRequestBuffer(bufCfg(smallBuf))}, opts...)
	s, err := NewRawServer(name, h, opts...)
	if err != nil {
		t.Fatal(err)
	}
	serve(t, s)
	return s
}

// serve runs s.Serve in a goroutine until the test ends; the cleanup
// closes s and checks that Serve returned ErrServerClosed.
func serve(t testing.TB, s interface {
	Serve(context.Context) error
	Close() error
}) {
	t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(context.Background()) }()
	t.Cleanup(func() {
		_ = s.Close()
		if err := <-errc; err != ErrServerClosed {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	})
}

// dial connects a client that is closed when the test ends.
func dial(t testing.TB, name string, opts ...Option) *RawClient {
	t.Helper()
	opts = append([]Option{WithResponseBuffer(bufCfg(smallBuf))}, opts...)
	c, err := DialRaw(ctxT(t, 10*time.Second), name, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// echo is the zero-copy echo handler.
func echo(ctx context.Context, req []byte, resp *ResponseWriter) error {
	b, err := resp.Reserve(ctx, len(req))
	if err != nil {
		return err
	}
	copy(b, req)
	return resp.Commit()
}

// startServerChild starts a server process: mode, request ring size,
// workers. It returns once the server is serving.
func startServerChild(t testing.TB, name, mode string, reqPayload, workers int) *testproc.Proc {
	t.Helper()
	p := testproc.Start(t, "server", name, mode, fmt.Sprint(reqPayload), fmt.Sprint(workers))
	p.Expect("ready", 20*time.Second)
	return p
}

func randSizes(seed uint64, n, maxSize int) []int {
	rng := rand.New(rand.NewPCG(seed, seed))
	out := make([]int, n)
	for i := range out {
		out[i] = 8 + rng.IntN(maxSize-7)
	}
	return out
}
