package duplex

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/zerobuffer/zerobuffer-go/internal/testproc"
)

// The benchmarks run the server in a child process (roleBench), which
// serves the same echo on the duplex channel and on a Unix domain socket,
// so both transports cross the same process boundary under the same load.

// BenchmarkRoundTrip measures request/response latency across two
// processes, one call at a time, for the duplex channel and for a Unix
// domain socket. The two alternate in batches of 2000 calls, so both see
// the same machine state while each runs warm (interleaving single calls
// would let the peers' spinning lapse between calls). ns/op is the mean
// over both transports; the percentiles and their ratio are per transport.
func BenchmarkRoundTrip(b *testing.B) {
	const batch = 2000
	for _, size := range []int{64, 4096} {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			env := startBench(b)
			req := payload(1, size)
			ctx := context.Background()
			check := func(resp []byte) error {
				if len(resp) != size {
					return fmt.Errorf("response of %d bytes, want %d", len(resp), size)
				}
				return nil
			}
			for range batch { // warm up both paths
				_ = env.zb.CallFunc(ctx, req, check)
				env.uds.call(b, req)
			}
			zb := make([]time.Duration, 0, 1<<16)
			uds := make([]time.Duration, 0, 1<<16)
			b.ReportAllocs()
			b.SetBytes(int64(2 * size))
			i := 0
			for b.Loop() {
				t0 := time.Now()
				if (i/batch)%2 == 0 {
					if err := env.zb.CallFunc(ctx, req, check); err != nil {
						b.Fatal(err)
					}
					zb = append(zb, time.Since(t0))
				} else {
					env.uds.call(b, req)
					uds = append(uds, time.Since(t0))
				}
				i++
			}
			reportPercentiles(b, "zb", zb)
			reportPercentiles(b, "uds", uds)
			if p := percentile(zb, 50); p > 0 {
				b.ReportMetric(float64(percentile(uds, 50))/float64(p), "uds/zb-p50")
			}
			env.stop(b)
		})
	}
}

// BenchmarkPipelined measures throughput with up to 128 requests in
// flight from one goroutine, 64-byte requests, for both transports.
func BenchmarkPipelined(b *testing.B) {
	const window, size = 128, 64
	req := payload(2, size)
	b.Run("zb", func(b *testing.B) {
		env := startBench(b)
		ctx := context.Background()
		inflight := 0
		b.ReportAllocs()
		for b.Loop() {
			if inflight == window {
				if _, err := env.zb.Receive(ctx); err != nil {
					b.Fatal(err)
				}
				inflight--
			}
			if err := env.zb.Send(ctx, req); err != nil {
				b.Fatal(err)
			}
			inflight++
		}
		for ; inflight > 0; inflight-- {
			if _, err := env.zb.Receive(ctx); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
		env.stop(b)
	})
	b.Run("uds", func(b *testing.B) {
		env := startBench(b)
		inflight := 0
		b.ReportAllocs()
		for b.Loop() {
			if inflight == window {
				env.uds.recv(b, size)
				inflight--
			}
			env.uds.send(b, req)
			inflight++
		}
		if err := env.uds.w.Flush(); err != nil {
			b.Fatal(err)
		}
		for ; inflight > 0; inflight-- {
			env.uds.recv(b, size)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
		env.stop(b)
	})
}

type benchEnv struct {
	p   *testproc.Proc
	zb  *RawClient
	uds *udsClient
}

func startBench(b *testing.B) *benchEnv {
	b.Helper()
	name := testChannel(b, nil)
	sock := filepath.Join(b.TempDir(), "echo.sock")
	p := testproc.Start(b, "bench", name, sock)
	p.Expect("ready", 20*time.Second)
	return &benchEnv{p: p, zb: dial(b, name, WithResponseBuffer(bufCfg(bigBuf))), uds: dialUDS(b, sock)}
}

func (e *benchEnv) stop(b *testing.B) {
	e.uds.conn.Close()
	e.zb.Close()
	stopChild(b, e.p)
}

func reportPercentiles(b *testing.B, prefix string, d []time.Duration) {
	slices.Sort(d)
	for _, p := range []float64{50, 99, 99.9} {
		b.ReportMetric(float64(percentile(d, p)), fmt.Sprintf("%s-p%g-ns", prefix, p))
	}
}

// percentile expects sorted d.
func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	return d[min(len(d)-1, int(float64(len(d))*p/100))]
}

// serveUDS echoes frames of a 4-byte little-endian length and a payload.
// It flushes its answers when no further request is buffered, so
// pipelined requests are answered in batches.
func serveUDS(ln net.Listener) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer conn.Close()
			r := bufio.NewReaderSize(conn, 64<<10)
			w := bufio.NewWriterSize(conn, 64<<10)
			var hdr [4]byte
			var buf []byte
			for {
				if _, err := io.ReadFull(r, hdr[:]); err != nil {
					return
				}
				n := int(binary.LittleEndian.Uint32(hdr[:]))
				buf = slices.Grow(buf[:0], n)[:n]
				if _, err := io.ReadFull(r, buf); err != nil {
					return
				}
				_, _ = w.Write(hdr[:])
				_, _ = w.Write(buf)
				if r.Buffered() == 0 {
					if err := w.Flush(); err != nil {
						return
					}
				}
			}
		}()
	}
}

// udsClient is the UDS side of the benchmark, framed like serveUDS.
type udsClient struct {
	conn net.Conn
	r    *bufio.Reader
	w    *bufio.Writer
	out  []byte
	in   []byte
}

func dialUDS(b *testing.B, path string) *udsClient {
	b.Helper()
	conn, err := net.Dial("unix", path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close() })
	return &udsClient{conn: conn, r: bufio.NewReaderSize(conn, 64<<10), w: bufio.NewWriterSize(conn, 64<<10)}
}

// call sends req and reads its echo.
func (u *udsClient) call(b *testing.B, req []byte) {
	u.send(b, req)
	if err := u.w.Flush(); err != nil {
		b.Fatal(err)
	}
	u.recv(b, len(req))
}

// send queues one request; it reaches the socket when the buffer fills
// or at the next Flush (call, or recv).
func (u *udsClient) send(b *testing.B, req []byte) {
	u.out = binary.LittleEndian.AppendUint32(u.out[:0], uint32(len(req)))
	u.out = append(u.out, req...)
	if _, err := u.w.Write(u.out); err != nil {
		b.Fatal(err)
	}
}

// recv reads one response of n bytes, flushing queued requests first.
func (u *udsClient) recv(b *testing.B, n int) {
	if u.w.Buffered() > 0 {
		if err := u.w.Flush(); err != nil {
			b.Fatal(err)
		}
	}
	if cap(u.in) < 4+n {
		u.in = make([]byte, 4+n)
	}
	if _, err := io.ReadFull(u.r, u.in[:4+n]); err != nil {
		b.Fatal(err)
	}
}
