package bench

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/zerobuffer/zerobuffer-go/codec"
	"github.com/zerobuffer/zerobuffer-go/core"
	"github.com/zerobuffer/zerobuffer-go/natsx"
	"github.com/zerobuffer/zerobuffer-go/typed"
)

// TransportNATS selects the NATS rows (see [RunNATS]); it is not one of
// [Transports], whose cases run between child processes.
const TransportNATS = "nats"

// SplitNATS removes [TransportNATS] from a transport list and reports
// whether it was there.
func SplitNATS(list []string) ([]string, bool) {
	i := slices.Index(list, TransportNATS)
	if i < 0 {
		return list, false
	}
	return slices.Delete(slices.Clone(list), i, i+1), true
}

// NATSConfig selects what [RunNATS] measures.
type NATSConfig struct {
	Sizes    []int         // message sizes; default 64 B and 1 KiB
	Duration time.Duration // timed length of each throughput case
	Samples  int           // latency samples; default 300
	URL      string        // NATS server; empty: an embedded one
}

// NATSRow is one message size of the NATS throughput table.
type NATSRow struct {
	Size      int     `json:"size"`
	PlainCore float64 `json:"plain_core_msgs_per_s"` // nats.go Publish / async Subscribe
	OurCore   float64 `json:"natsx_core_msgs_per_s"` // natsx.Sender/Receiver, Core mode
	OurJS     float64 `json:"natsx_jetstream_msgs_per_s"`
}

// NATSReport is the result of [RunNATS].
type NATSReport struct {
	Rows []NATSRow `json:"rows"`
	// BridgeP50 and DirectP50 are one-way latencies at 64 B: shared-memory
	// sender -> BridgeToNATS -> natsx.Receiver, and natsx.Sender (JetStream)
	// -> natsx.Receiver on the same server.
	BridgeP50 time.Duration `json:"bridge_p50_ns"`
	DirectP50 time.Duration `json:"direct_p50_ns"`
}

// RunNATS measures, in this process and against one server: messages/s of
// plain nats.go publish/subscribe, of natsx in core mode and of natsx in
// JetStream mode, moving the same bytes; and the latency the bridge adds.
func RunNATS(ctx context.Context, cfg NATSConfig) (*NATSReport, error) {
	if len(cfg.Sizes) == 0 {
		cfg.Sizes = []int{64, 1 << 10}
	}
	if cfg.Duration <= 0 {
		cfg.Duration = 500 * time.Millisecond
	}
	if cfg.Samples <= 0 {
		cfg.Samples = 300
	}
	url := cfg.URL
	if url == "" {
		srv, err := natsx.StartEmbedded(natsx.EmbeddedConfig{})
		if err != nil {
			return nil, err
		}
		defer srv.Close()
		url = srv.URL()
	}
	conn := func() (*nats.Conn, error) { return nats.Connect(url, nats.MaxReconnects(-1)) }
	pc, err := conn()
	if err != nil {
		return nil, err
	}
	defer pc.Close()
	sc, err := conn()
	if err != nil {
		return nil, err
	}
	defer sc.Close()
	rep := &NATSReport{}
	for _, size := range cfg.Sizes {
		size = max(size, 8)
		row := NATSRow{Size: size}
		if row.PlainCore, err = plainRate(ctx, pc, sc, size, cfg.Duration); err != nil {
			return nil, err
		}
		if row.OurCore, err = natsxRate(ctx, pc, sc, size, cfg.Duration, natsx.Core); err != nil {
			return nil, err
		}
		if row.OurJS, err = natsxRate(ctx, pc, sc, size, cfg.Duration, natsx.JetStream); err != nil {
			return nil, err
		}
		rep.Rows = append(rep.Rows, row)
	}
	if rep.DirectP50, rep.BridgeP50, err = bridgeLatency(ctx, pc, sc, cfg.Samples); err != nil {
		return nil, err
	}
	return rep, nil
}

var natsSeq atomic.Int64

func benchSubject(kind string) string {
	return fmt.Sprintf("zbbench.%s.%d.%d", kind, time.Now().UnixNano(), natsSeq.Add(1))
}

// drain waits until got reaches sent or stops growing for a second; it
// returns the time of the last message seen.
func drain(got *atomic.Int64, last *atomic.Int64, sent int64) time.Time {
	prev, still := int64(-1), 0
	for got.Load() < sent && still < 100 {
		time.Sleep(10 * time.Millisecond)
		if g := got.Load(); g == prev {
			still++
		} else {
			prev, still = g, 0
		}
	}
	return time.Unix(0, last.Load())
}

// plainRate: nats.go Publish in a loop for d, an async Subscribe counting.
func plainRate(ctx context.Context, pc, sc *nats.Conn, size int, d time.Duration) (float64, error) {
	subj := benchSubject("plain")
	var got, last atomic.Int64
	sub, err := sc.Subscribe(subj, func(m *nats.Msg) {
		got.Add(1)
		last.Store(time.Now().UnixNano())
	})
	if err != nil {
		return 0, err
	}
	defer sub.Unsubscribe()
	sub.SetPendingLimits(-1, -1)
	if err := sc.Flush(); err != nil {
		return 0, err
	}
	p := make([]byte, size)
	start := time.Now()
	var sent int64
	for time.Since(start) < d && ctx.Err() == nil {
		for range 64 {
			if err := pc.Publish(subj, p); err != nil {
				return 0, err
			}
		}
		sent += 64
	}
	if err := pc.Flush(); err != nil {
		return 0, err
	}
	end := drain(&got, &last, sent)
	return float64(got.Load()) / end.Sub(start).Seconds(), nil
}

// natsxRate: natsx.Sender.Send in a loop for d, a natsx.Receiver.Recv loop
// counting, raw codec (the receiver copies each message, as RawCopy does).
func natsxRate(ctx context.Context, pc, sc *nats.Conn, size int, d time.Duration, mode natsx.Mode) (float64, error) {
	subj := benchSubject("natsx")
	opts := []natsx.Option{natsx.WithMode(mode), natsx.WithMaxPending(1 << 20)}
	rx, err := natsx.Listen(ctx, sc, subj, codec.RawCopy{}, opts...)
	if err != nil {
		return 0, err
	}
	defer natsx.Remove(context.Background(), sc, subj)
	defer rx.Close()
	tx, err := natsx.Dial(ctx, pc, subj, codec.Raw{}, opts...)
	if err != nil {
		return 0, err
	}
	if err := sc.Flush(); err != nil {
		return 0, err
	}
	var got, last atomic.Int64
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		for {
			if _, err := rx.Recv(rctx); err != nil {
				return
			}
			got.Add(1)
			last.Store(time.Now().UnixNano())
		}
	}()
	p := make([]byte, size)
	start := time.Now()
	var sent int64
	for time.Since(start) < d && ctx.Err() == nil {
		for range 64 {
			if err := tx.Send(ctx, p); err != nil {
				return 0, err
			}
		}
		sent += 64
	}
	if err := pc.Flush(); err != nil {
		return 0, err
	}
	end := drain(&got, &last, sent)
	tx.Close()
	return float64(got.Load()) / end.Sub(start).Seconds(), nil
}

// bridgeLatency returns the p50 one-way latency of 64-byte messages sent
// one at a time, direct (natsx JetStream) and through the bridge.
func bridgeLatency(ctx context.Context, pc, sc *nats.Conn, samples int) (direct, bridged time.Duration, err error) {
	base := time.Now()
	stamp := func(p []byte) { binary.LittleEndian.PutUint64(p, uint64(time.Since(base))) }
	since := func(p []byte) time.Duration { return time.Since(base) - time.Duration(binary.LittleEndian.Uint64(p)) }
	measure := func(send func([]byte) error, rx *natsx.Receiver[[]byte]) (time.Duration, error) {
		lat := make([]time.Duration, 0, samples)
		p := make([]byte, 64)
		for range samples {
			stamp(p)
			if err := send(p); err != nil {
				return 0, err
			}
			v, err := rx.Recv(ctx)
			if err != nil {
				return 0, err
			}
			lat = append(lat, since(v))
		}
		slices.Sort(lat)
		return lat[len(lat)/2], nil
	}

	subj := benchSubject("direct")
	rx, err := natsx.Listen(ctx, sc, subj, codec.RawCopy{})
	if err != nil {
		return 0, 0, err
	}
	defer natsx.Remove(context.Background(), sc, subj)
	defer rx.Close()
	tx, err := natsx.Dial(ctx, pc, subj, codec.Raw{})
	if err != nil {
		return 0, 0, err
	}
	defer tx.Close()
	if direct, err = measure(func(p []byte) error { return tx.Send(ctx, p) }, rx); err != nil {
		return 0, 0, err
	}

	bsubj := benchSubject("bridge")
	name := strings.ReplaceAll(bsubj, ".", "-")
	brx, err := natsx.Listen(ctx, sc, bsubj, codec.RawCopy{})
	if err != nil {
		return 0, 0, err
	}
	defer natsx.Remove(context.Background(), sc, bsubj)
	defer brx.Close()
	bctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- natsx.BridgeToNATS(bctx, name, core.BufferConfig{PayloadSize: 1 << 20}, pc, bsubj) }()
	defer func() {
		stop()
		<-done
	}()
	stx, err := typed.Dial(ctx, name, codec.Raw{})
	if err != nil {
		return 0, 0, err
	}
	defer stx.Close()
	if bridged, err = measure(func(p []byte) error { return stx.Send(ctx, p) }, brx); err != nil {
		return 0, 0, err
	}
	return direct, bridged, nil
}

// Markdown writes the NATS tables.
func (r *NATSReport) Markdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString("## NATS (embedded server, same run)\n\n")
	b.WriteString("| size | plain nats.go msgs/s | natsx core msgs/s | natsx core / plain | natsx JetStream msgs/s |\n")
	b.WriteString("|---:|---:|---:|---:|---:|\n")
	for _, row := range r.Rows {
		ratio := 0.0
		if row.PlainCore > 0 {
			ratio = row.OurCore / row.PlainCore
		}
		pass := "PASS"
		if ratio < 0.8 {
			pass = "FAIL"
		}
		fmt.Fprintf(&b, "| %s | %.0f | %.0f | %.2fx (target >= 0.8x: %s) | %.0f |\n",
			sizeLabel(row.Size), row.PlainCore, row.OurCore, ratio, pass, row.OurJS)
	}
	fmt.Fprintf(&b, "\nBridge, 64 B one-way p50: %v through shm -> bridge -> JetStream -> receiver, %v direct JetStream: the bridge adds %v.\n",
		r.BridgeP50.Round(time.Microsecond), r.DirectP50.Round(time.Microsecond), (r.BridgeP50 - r.DirectP50).Round(time.Microsecond))
	_, err := io.WriteString(w, b.String())
	return err
}

func sizeLabel(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}
