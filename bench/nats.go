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
	// PlainReply is PlainCore with a reply subject as long as the one
	// natsx core mode puts on each message (its sender id and codec).
	PlainReply float64 `json:"plain_reply_msgs_per_s"`
	OurCore    float64 `json:"natsx_core_msgs_per_s"` // natsx.Sender/Receiver, Core mode
	// OurCoreSingle is OurCore with natsx.WithoutCoalescing: one NATS
	// message per Send.
	OurCoreSingle float64 `json:"natsx_core_single_msgs_per_s"`
	OurJS         float64 `json:"natsx_jetstream_msgs_per_s"`
}

// NATSReport is the result of [RunNATS].
type NATSReport struct {
	Rows []NATSRow `json:"rows"`
	// BridgeP50 and DirectP50 are one-way latencies at 64 B: shared-memory
	// sender -> BridgeToNATS -> natsx.Receiver, and natsx.Sender (JetStream)
	// -> natsx.Receiver on the same server.
	BridgeP50 time.Duration `json:"bridge_p50_ns"`
	DirectP50 time.Duration `json:"direct_p50_ns"`
	// CoreP50 and CoreSingleP50 are one-way latencies at 64 B of natsx
	// core mode, coalescing (the default) and with WithoutCoalescing.
	CoreP50       time.Duration `json:"core_p50_ns"`
	CoreSingleP50 time.Duration `json:"core_single_p50_ns"`
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
		if row.PlainCore, row.PlainReply, row.OurCore, row.OurCoreSingle, err = coreRates(ctx, pc, sc, size, cfg.Duration); err != nil {
			return nil, err
		}
		if row.OurJS, err = jetStreamRate(ctx, pc, sc, size, cfg.Duration); err != nil {
			return nil, err
		}
		rep.Rows = append(rep.Rows, row)
	}
	if rep.DirectP50, rep.BridgeP50, rep.CoreP50, rep.CoreSingleP50, err = latencies(ctx, pc, sc, cfg.Samples); err != nil {
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

// natsSlices is how many slices the core comparison splits each case's
// time into: the cases take turns, in rotating order, so a drift of the
// machine's speed during the run reaches all of them about equally.
const natsSlices = 6

// flow is one sender/receiver pair of a throughput case, set up once and
// timed in slices: send publishes one message, the receiver counts into
// got and stamps the arrival time of the latest message into last.
type flow struct {
	send      func([]byte) error
	flush     func() error
	close     func()
	got, last atomic.Int64
	sent      int64
	msgs      int64         // received in timed slices
	reply     string        // natsx core mode: the reply subject its messages carry
	busy      time.Duration // timed slices, each from its first send to its last arrival
}

// slice publishes for d, then waits for the receiver to catch up; it adds
// the messages received and the time from the first send to the last
// arrival to f's totals.
func (f *flow) slice(ctx context.Context, p []byte, d time.Duration) error {
	base := f.got.Load()
	start := time.Now()
	for time.Since(start) < d && ctx.Err() == nil {
		for range 64 {
			if err := f.send(p); err != nil {
				return err
			}
		}
		f.sent += 64
	}
	if err := f.flush(); err != nil {
		return err
	}
	end := drain(&f.got, &f.last, f.sent)
	f.msgs += f.got.Load() - base
	f.busy += end.Sub(start)
	return ctx.Err()
}

func (f *flow) rate() float64 {
	if f.busy <= 0 {
		return 0
	}
	return float64(f.msgs) / f.busy.Seconds()
}

// coreRates measures plain nats.go, plain nats.go with a reply subject
// as long as natsx's, natsx core mode and natsx core mode without
// coalescing moving size-byte messages, taking turns in slices of
// d/natsSlices each.
func coreRates(ctx context.Context, pc, sc *nats.Conn, size int, d time.Duration) (plain, reply, ours, single float64, err error) {
	b, err := natsxFlow(ctx, pc, sc, natsx.Core)
	if err != nil {
		return 0, 0, 0, 0, err
	}
	defer b.close()
	c, err := natsxFlow(ctx, pc, sc, natsx.Core, natsx.WithoutCoalescing())
	if err != nil {
		return 0, 0, 0, 0, err
	}
	defer c.close()
	a, err := plainFlow(sc, pc, "")
	if err != nil {
		return 0, 0, 0, 0, err
	}
	defer a.close()
	r, err := plainFlow(sc, pc, b.reply)
	if err != nil {
		return 0, 0, 0, 0, err
	}
	defer r.close()
	p := make([]byte, size)
	flows := []*flow{a, r, b, c}
	for k := range natsSlices {
		for j := range flows {
			if err := flows[(j+k)%len(flows)].slice(ctx, p, d/natsSlices); err != nil {
				return 0, 0, 0, 0, err
			}
		}
	}
	return a.rate(), r.rate(), b.rate(), c.rate(), nil
}

// jetStreamRate measures natsx in JetStream mode for d.
func jetStreamRate(ctx context.Context, pc, sc *nats.Conn, size int, d time.Duration) (float64, error) {
	f, err := natsxFlow(ctx, pc, sc, natsx.JetStream)
	if err != nil {
		return 0, err
	}
	defer f.close()
	if err := f.slice(ctx, make([]byte, size), d); err != nil {
		return 0, err
	}
	return f.rate(), nil
}

// plainFlow: nats.go Publish (PublishRequest with reply, if not empty),
// an async Subscribe counting.
func plainFlow(sc, pc *nats.Conn, reply string) (*flow, error) {
	subj := benchSubject("plain")
	f := &flow{}
	sub, err := sc.Subscribe(subj, func(*nats.Msg) {
		f.got.Add(1)
		f.last.Store(time.Now().UnixNano())
	})
	if err != nil {
		return nil, err
	}
	if err := sub.SetPendingLimits(-1, -1); err != nil {
		return nil, err
	}
	if err := sc.Flush(); err != nil {
		_ = sub.Unsubscribe()
		return nil, err
	}
	f.send = func(p []byte) error { return pc.Publish(subj, p) }
	if reply != "" {
		f.send = func(p []byte) error { return pc.PublishRequest(subj, reply, p) }
	}
	f.flush = pc.Flush
	f.close = func() { _ = sub.Unsubscribe() }
	return f, nil
}

// natsxFlow: natsx.Sender.Send, a natsx.Receiver.Recv loop counting, raw
// codec. The receiver decodes with RawCopy, so each value it returns is
// the receiver's own, like the plain subscriber's message data.
func natsxFlow(ctx context.Context, pc, sc *nats.Conn, mode natsx.Mode, extra ...natsx.Option) (*flow, error) {
	subj := benchSubject("natsx")
	opts := append([]natsx.Option{natsx.WithMode(mode), natsx.WithMaxPending(1 << 20)}, extra...)
	rx, err := natsx.Listen(ctx, sc, subj, codec.RawCopy{}, opts...)
	if err != nil {
		return nil, err
	}
	// In core mode, a plain subscription sees the announcement Dial
	// sends, and so the reply subject the sender puts on every message.
	spy, err := sc.SubscribeSync(subj)
	if err != nil {
		return nil, err
	}
	defer spy.Unsubscribe()
	if err := sc.Flush(); err != nil {
		return nil, err
	}
	tx, err := natsx.Dial(ctx, pc, subj, codec.Raw{}, opts...)
	if err != nil {
		rx.Close()
		natsx.Remove(context.Background(), sc, subj)
		return nil, err
	}
	f := &flow{}
	if mode == natsx.Core {
		hello, err := spy.NextMsg(10 * time.Second)
		if err != nil {
			tx.Close()
			rx.Close()
			return nil, fmt.Errorf("bench: the natsx sender's announcement: %w", err)
		}
		f.reply = hello.Reply
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			if _, err := rx.Recv(rctx); err != nil {
				return
			}
			f.got.Add(1)
			f.last.Store(time.Now().UnixNano())
		}
	}()
	f.send = func(p []byte) error { return tx.Send(ctx, p) }
	f.flush = func() error { return tx.Flush(ctx) }
	f.close = func() {
		tx.Close()
		cancel()
		<-done
		rx.Close()
		natsx.Remove(context.Background(), sc, subj)
	}
	return f, nil
}

// latencies returns the p50 one-way latency of 64-byte messages sent one
// at a time: direct (natsx JetStream), through the bridge, and natsx core
// mode with and without coalescing.
func latencies(ctx context.Context, pc, sc *nats.Conn, samples int) (direct, bridged, coreP50, single time.Duration, err error) {
	base := time.Now()
	stamp := func(p []byte) { binary.LittleEndian.PutUint64(p, uint64(time.Since(base))) }
	since := func(p []byte) time.Duration { return time.Since(base) - time.Duration(binary.LittleEndian.Uint64(p)) }
	measure := func(send func([]byte) error, rx *natsx.Receiver[[]byte]) (time.Duration, error) {
		lat := make([]time.Duration, 0, samples)
		p := make([]byte, 64)
		sent := make(chan error, 1)
		for range samples {
			stamp(p)
			// The receive does not wait for the send to return: a
			// JetStream Send returns after the server's acknowledgement,
			// which may come after the delivery to the receiver.
			go func() { sent <- send(p) }()
			v, err := rx.Recv(ctx)
			if err != nil {
				return 0, err
			}
			lat = append(lat, since(v))
			if err := <-sent; err != nil {
				return 0, err
			}
			// A pause, so that each sample starts with both paths idle:
			// the bridge publishes synchronously and may still wait for
			// the server's acknowledgement of the previous message.
			time.Sleep(time.Millisecond)
		}
		slices.Sort(lat)
		return lat[len(lat)/2], nil
	}

	subj := benchSubject("direct")
	rx, err := natsx.Listen(ctx, sc, subj, codec.RawCopy{})
	if err != nil {
		return 0, 0, 0, 0, err
	}
	defer natsx.Remove(context.Background(), sc, subj)
	defer rx.Close()
	tx, err := natsx.Dial(ctx, pc, subj, codec.Raw{})
	if err != nil {
		return 0, 0, 0, 0, err
	}
	defer tx.Close()
	if direct, err = measure(func(p []byte) error { return tx.Send(ctx, p) }, rx); err != nil {
		return 0, 0, 0, 0, err
	}

	bsubj := benchSubject("bridge")
	name := strings.ReplaceAll(bsubj, ".", "-")
	brx, err := natsx.Listen(ctx, sc, bsubj, codec.RawCopy{})
	if err != nil {
		return 0, 0, 0, 0, err
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
		return 0, 0, 0, 0, err
	}
	defer stx.Close()
	if bridged, err = measure(func(p []byte) error { return stx.Send(ctx, p) }, brx); err != nil {
		return 0, 0, 0, 0, err
	}
	if coreP50, err = coreLatency(ctx, pc, sc, measure); err != nil {
		return 0, 0, 0, 0, err
	}
	if single, err = coreLatency(ctx, pc, sc, measure, natsx.WithoutCoalescing()); err != nil {
		return 0, 0, 0, 0, err
	}
	return direct, bridged, coreP50, single, nil
}

// coreLatency is the p50 one-way latency of a natsx core-mode channel with
// opts, measured by measure.
func coreLatency(ctx context.Context, pc, sc *nats.Conn, measure func(func([]byte) error, *natsx.Receiver[[]byte]) (time.Duration, error), opts ...natsx.Option) (time.Duration, error) {
	subj := benchSubject("core")
	opts = append([]natsx.Option{natsx.WithMode(natsx.Core)}, opts...)
	rx, err := natsx.Listen(ctx, sc, subj, codec.RawCopy{}, opts...)
	if err != nil {
		return 0, err
	}
	defer rx.Close()
	tx, err := natsx.Dial(ctx, pc, subj, codec.Raw{}, opts...)
	if err != nil {
		return 0, err
	}
	defer tx.Close()
	return measure(func(p []byte) error { return tx.Send(ctx, p) }, rx)
}

// Markdown writes the NATS tables.
func (r *NATSReport) Markdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString("## NATS (embedded server, same run)\n\n")
	b.WriteString("| size | plain nats.go msgs/s | natsx core msgs/s | natsx core / plain | natsx core, one message per Send | / plain | plain + reply msgs/s | one message per Send / (plain + reply) | natsx JetStream msgs/s |\n")
	b.WriteString("|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	div := func(a, b float64) float64 {
		if b <= 0 {
			return 0
		}
		return a / b
	}
	for _, row := range r.Rows {
		ratio := div(row.OurCore, row.PlainCore)
		pass := "PASS"
		if ratio < 0.8 {
			pass = "FAIL"
		}
		fmt.Fprintf(&b, "| %s | %.0f | %.0f | %.2fx (target >= 0.8x: %s) | %.0f | %.2fx | %.0f | %.2fx | %.0f |\n",
			sizeLabel(row.Size), row.PlainCore, row.OurCore, ratio, pass, row.OurCoreSingle, div(row.OurCoreSingle, row.PlainCore),
			row.PlainReply, div(row.OurCoreSingle, row.PlainReply), row.OurJS)
	}
	fmt.Fprintf(&b, "\nBridge, 64 B one-way p50: %v through shm -> bridge -> JetStream -> receiver, %v direct JetStream: the bridge adds %v.\n",
		r.BridgeP50.Round(time.Microsecond), r.DirectP50.Round(time.Microsecond), (r.BridgeP50 - r.DirectP50).Round(time.Microsecond))
	fmt.Fprintf(&b, "natsx core, 64 B one-way p50: %v coalescing, %v with one message per Send.\n",
		r.CoreP50.Round(time.Microsecond), r.CoreSingleP50.Round(time.Microsecond))
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
