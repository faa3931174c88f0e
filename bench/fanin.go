package bench

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zerobuffer/zerobuffer-go/core"
	"github.com/zerobuffer/zerobuffer-go/duplex"
)

// FanInConfig configures [RunFanIn].
type FanInConfig struct {
	Runs     int           // repetitions of every case (figures are medians); default 3
	Duration time.Duration // timed window of each throughput case; default 2s
	Senders  int           // senders (and duplex clients) of the many-to-one cases; default 4
	Idle     time.Duration // how long the idle receiver is measured; default 3s
}

// FanInRun is one repetition of the fan-in cases. Rates are messages (or
// calls) per second at the receiver (server).
type FanInRun struct {
	FanIn      float64   `json:"fanin_msgs_per_s"`       // N senders x 64 B into one core.FanIn
	Shares     []float64 `json:"fanin_shares"`           // each sender's share of FanIn, in % of the mean
	Pair       float64   `json:"pair_msgs_per_s"`        // one core.Writer into one core.Reader
	Chan       float64   `json:"chan_msgs_per_s"`        // in-process chan [64]byte fed by N goroutines
	FirstMsg   []float64 `json:"first_msg_ms"`           // a new sender: start of ClaimLane to delivery
	IdleCPU    float64   `json:"idle_cpu_pct"`           // receiver blocked with 8 idle senders, % of a CPU
	MultiCalls float64   `json:"multi_calls_per_s"`      // N duplex clients, aggregate
	OneCall    float64   `json:"one_client_calls_per_s"` // one duplex client on the same server type
	// The same two transfers with batch receivers: core.FanIn.ReadBatch
	// and core.Reader.ReadBatch (the senders still write frame by frame).
	FanInBatch float64 `json:"fanin_batch_msgs_per_s"`
	PairBatch  float64 `json:"pair_batch_msgs_per_s"`
}

// FanInReport holds every run of [RunFanIn].
type FanInReport struct {
	Config FanInConfig `json:"config"`
	Runs   []FanInRun  `json:"runs"`
}

// faninSize is the message size of the fan-in cases.
const faninSize = 64

// RunFanIn measures many-to-one transfers: N sender processes into one
// fan-in receiver against one sender-receiver pair and against an
// in-process channel fed by N goroutines, the share of each sender, the
// first-message latency of a new sender, the CPU of an idle receiver with
// 8 idle senders, and N duplex clients against one.
func RunFanIn(ctx context.Context, cfg FanInConfig) (*FanInReport, error) {
	if cfg.Runs <= 0 {
		cfg.Runs = 3
	}
	if cfg.Duration <= 0 {
		cfg.Duration = 2 * time.Second
	}
	if cfg.Senders <= 0 {
		cfg.Senders = 4
	}
	if cfg.Idle <= 0 {
		cfg.Idle = 3 * time.Second
	}
	rep := &FanInReport{Config: cfg}
	for range cfg.Runs {
		var run FanInRun
		var err error
		if run.Pair, err = pairRate(ctx, cfg.Duration); err != nil {
			return rep, err
		}
		if run.FanIn, run.Shares, err = fanInRate(ctx, cfg.Senders, cfg.Duration); err != nil {
			return rep, err
		}
		if run.PairBatch, err = pairBatchRate(ctx, cfg.Duration); err != nil {
			return rep, err
		}
		if run.FanInBatch, err = fanInBatchRate(ctx, cfg.Senders, cfg.Duration); err != nil {
			return rep, err
		}
		run.Chan = chanFanInRate(cfg.Senders, cfg.Duration)
		if run.FirstMsg, err = firstMessage(ctx, 5); err != nil {
			return rep, err
		}
		if run.IdleCPU, err = idleFanIn(ctx, 8, cfg.Idle); err != nil {
			return rep, err
		}
		if run.OneCall, err = multiCallRate(ctx, 1, cfg.Duration); err != nil {
			return rep, err
		}
		if run.MultiCalls, err = multiCallRate(ctx, cfg.Senders, cfg.Duration); err != nil {
			return rep, err
		}
		rep.Runs = append(rep.Runs, run)
	}
	return rep, nil
}

// faninRoles are the child roles of the fan-in cases (see runRole).
var faninRoles = map[string]func(context.Context, job, func(string) error) (sideResult, error){
	"fanin-send":  faninSendChild,
	"pair-send":   pairSendChild,
	"fanin-first": faninFirstChild,
	"fanin-idle":  faninIdleChild,
	"multi-call":  multiCallChild,
}

func faninCfg() core.BufferConfig { return core.BufferConfig{PayloadSize: ringBytes(faninSize)} }

// sendFlatOut writes 64-byte frames until the reader goes away.
func sendFlatOut(ctx context.Context, w *core.Writer) (sideResult, error) {
	m := make([]byte, faninSize)
	var n uint64
	t0 := time.Now()
	for {
		binary.LittleEndian.PutUint64(m, n)
		if err := w.WriteFrame(ctx, m); err != nil {
			if errors.Is(err, core.ErrReaderDead) || errors.Is(err, core.ErrClosed) {
				return sideResult{Count: n, Elapsed: time.Since(t0)}, nil
			}
			return sideResult{Count: n}, err
		}
		n++
	}
}

func faninSendChild(_ context.Context, j job, ready func(string) error) (sideResult, error) {
	ctx, cancel := childContext(j)
	defer cancel()
	l, err := core.ClaimLane(ctx, j.Name)
	if err != nil {
		return sideResult{}, err
	}
	defer l.Close()
	if err := ready(strconv.Itoa(l.Index())); err != nil {
		return sideResult{}, err
	}
	return sendFlatOut(ctx, l.Writer()) // a lane's writer rings the receiver's doorbell
}

func pairSendChild(_ context.Context, j job, ready func(string) error) (sideResult, error) {
	return withWriter(j, ready, func(ctx context.Context, w *core.Writer) (sideResult, error) {
		return sendFlatOut(ctx, w)
	})
}

// withWriter runs a child's send loop: it connects a core.Writer to the
// job's buffer, reports ready and calls send with the child's context.
func withWriter(j job, ready func(string) error, send func(context.Context, *core.Writer) (sideResult, error)) (sideResult, error) {
	ctx, cancel := childContext(j)
	defer cancel()
	w, err := core.NewWriter(j.Name)
	if err != nil {
		return sideResult{}, err
	}
	defer w.Close()
	if err := ready(""); err != nil {
		return sideResult{}, err
	}
	return send(ctx, w)
}

// faninFirstChild takes the time, claims a lane and sends that time.
func faninFirstChild(_ context.Context, j job, ready func(string) error) (sideResult, error) {
	ctx, cancel := childContext(j)
	defer cancel()
	t0 := time.Now().UnixNano()
	l, err := core.ClaimLane(ctx, j.Name)
	if err != nil {
		return sideResult{}, err
	}
	defer l.Close()
	m := make([]byte, faninSize)
	binary.LittleEndian.PutUint64(m, uint64(t0))
	if err := l.Writer().WriteFrame(ctx, m); err != nil { // rings the receiver's doorbell
		return sideResult{}, err
	}
	return sideResult{Count: 1}, ready("")
}

func faninIdleChild(_ context.Context, j job, ready func(string) error) (sideResult, error) {
	ctx, cancel := childContext(j)
	defer cancel()
	l, err := core.ClaimLane(ctx, j.Name)
	if err != nil {
		return sideResult{}, err
	}
	defer l.Close()
	if err := ready(""); err != nil {
		return sideResult{}, err
	}
	<-ctx.Done() // the end of stdin ends the process
	return sideResult{}, nil
}

func multiCallChild(_ context.Context, j job, ready func(string) error) (sideResult, error) {
	ctx, cancel := childContext(j)
	defer cancel()
	c, err := duplex.DialRawMulti(ctx, j.Name, duplex.WithResponseBuffer(core.BufferConfig{MetadataSize: 1024, PayloadSize: 1 << 20}))
	if err != nil {
		return sideResult{}, err
	}
	defer c.Close()
	if err := ready(""); err != nil {
		return sideResult{}, err
	}
	req := make([]byte, faninSize)
	var n uint64
	t0 := time.Now()
	for time.Since(t0) < j.Duration {
		binary.LittleEndian.PutUint64(req, n)
		resp, err := c.Call(ctx, req)
		if err != nil {
			return sideResult{}, err
		}
		if binary.LittleEndian.Uint64(resp) != n {
			return sideResult{}, fmt.Errorf("bench: call %d answered with %d", n, binary.LittleEndian.Uint64(resp))
		}
		n++
	}
	return sideResult{Count: n, Elapsed: time.Since(t0)}, nil
}

// startAll starts one child per job and waits until each is ready.
func startAll(ctx context.Context, jobs []job) ([]*peer, error) {
	var ps []*peer
	for _, j := range jobs {
		p, err := startPeer(j)
		if err != nil {
			stopAll(ps)
			return nil, err
		}
		ps = append(ps, p)
		if _, err := p.ready(ctx); err != nil {
			stopAll(ps)
			return nil, err
		}
	}
	return ps, nil
}

func stopAll(ps []*peer) {
	for _, p := range ps {
		p.stop()
	}
}

// countFor reads frames with next for d and returns the rate.
func countFor(d time.Duration, next func() (int, error), perLane []uint64) (float64, error) {
	var n uint64
	t0 := time.Now()
	for {
		k, err := next()
		if err != nil {
			return 0, err
		}
		n++
		if perLane != nil && k >= 0 && k < len(perLane) {
			perLane[k]++
		}
		if n%256 == 0 {
			if el := time.Since(t0); el >= d {
				return float64(n) / el.Seconds(), nil
			}
		}
	}
}

func pairRate(ctx context.Context, d time.Duration) (float64, error) {
	name := zbName("fpair")
	defer removeBuffer(name)
	r, err := core.NewReader(name, faninCfg())
	if err != nil {
		return 0, err
	}
	ps, err := startAll(ctx, []job{{Role: "pair-send", Name: name, Size: faninSize, Duration: d}})
	if err != nil {
		r.Close()
		return 0, err
	}
	rate, err := countFor(d, func() (int, error) {
		f, err := r.ReadFrame(ctx)
		if err != nil {
			return 0, err
		}
		return 0, f.Release()
	}, nil)
	r.Close()
	stopAll(ps)
	return rate, err
}

// pairBatchRate is pairRate with Reader.ReadBatch.
func pairBatchRate(ctx context.Context, d time.Duration) (float64, error) {
	name := zbName("fpairb")
	defer removeBuffer(name)
	r, err := core.NewReader(name, faninCfg())
	if err != nil {
		return 0, err
	}
	defer r.Close()
	ps, err := startAll(ctx, []job{{Role: "pair-send", Name: name, Size: faninSize, Duration: d}})
	if err != nil {
		return 0, err
	}
	defer stopAll(ps)
	return batchCountFor(d, func() (int, error) {
		return r.ReadBatch(ctx, 0, func([]byte, uint64) error { return nil })
	})
}

// startFanIn creates a fan-in buffer (prefix plus a unique suffix) and
// starts senders children of role on it. The caller closes fi, stops (or
// kills) the children and calls remove, in that order.
func startFanIn(ctx context.Context, prefix, role string, senders int, d time.Duration) (fi *core.FanIn, ps []*peer, remove func(), err error) {
	name := zbName(prefix)
	fi, err = core.NewFanIn(name, faninCfg(), core.FanInConfig{MaxLanes: senders + 2})
	if err != nil {
		return nil, nil, nil, err
	}
	remove = func() { removeLanes(name, senders+2) }
	jobs := make([]job, senders)
	for i := range jobs {
		jobs[i] = job{Role: role, Name: name, Size: faninSize, Duration: d}
	}
	if ps, err = startAll(ctx, jobs); err != nil {
		fi.Close()
		remove()
		return nil, nil, nil, err
	}
	return fi, ps, remove, nil
}

// fanInBatchRate is fanInRate with FanIn.ReadBatch.
func fanInBatchRate(ctx context.Context, senders int, d time.Duration) (float64, error) {
	fi, ps, remove, err := startFanIn(ctx, "faninb", "fanin-send", senders, d)
	if err != nil {
		return 0, err
	}
	defer remove()
	defer stopAll(ps)
	defer fi.Close()
	return batchCountFor(d, func() (int, error) {
		n, _, err := fi.ReadBatch(ctx, 0, func([]byte, int, uint64) error { return nil })
		return n, err
	})
}

// batchCountFor calls next, which returns how many messages it took,
// for d and returns the rate.
func batchCountFor(d time.Duration, next func() (int, error)) (float64, error) {
	n, t0 := 0, time.Now()
	for time.Since(t0) < d {
		k, err := next()
		if err != nil {
			return 0, err
		}
		n += k
	}
	return float64(n) / time.Since(t0).Seconds(), nil
}

func fanInRate(ctx context.Context, senders int, d time.Duration) (float64, []float64, error) {
	fi, ps, remove, err := startFanIn(ctx, "fanin", "fanin-send", senders, d)
	if err != nil {
		return 0, nil, err
	}
	defer remove()
	perLane := make([]uint64, senders+2)
	rate, err := countFor(d, func() (int, error) {
		f, k, err := fi.ReadFrame(ctx)
		if err != nil {
			return 0, err
		}
		return k, f.Release()
	}, perLane)
	fi.Close()
	stopAll(ps)
	var total uint64
	var used []uint64
	for _, c := range perLane {
		if c > 0 {
			used = append(used, c)
			total += c
		}
	}
	shares := make([]float64, 0, len(used))
	for _, c := range used {
		shares = append(shares, 100*float64(c)*float64(len(used))/float64(total))
	}
	return rate, shares, err
}

// chanFanInRate feeds a channel from senders goroutines for d.
func chanFanInRate(senders int, d time.Duration) float64 {
	ch := make(chan [faninSize]byte, 1024)
	var stop atomic.Bool
	var wg sync.WaitGroup
	for g := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var m [faninSize]byte
			m[0] = byte(g)
			for i := uint64(0); !stop.Load(); i++ {
				binary.LittleEndian.PutUint64(m[8:], i)
				ch <- m
			}
		}()
	}
	var sum uint64
	rate, _ := countFor(d, func() (int, error) {
		m := <-ch
		sum += uint64(m[8])
		return 0, nil
	}, nil)
	stop.Store(true)
	go func() { wg.Wait(); close(ch) }()
	for range ch {
	}
	_ = sum
	return rate
}

// firstMessage starts n senders one after the other into a sleeping
// receiver and returns each one's start-to-delivery time in ms.
func firstMessage(ctx context.Context, n int) ([]float64, error) {
	name := zbName("ffirst")
	fi, err := core.NewFanIn(name, faninCfg(), core.FanInConfig{MaxLanes: 4})
	if err != nil {
		return nil, err
	}
	defer removeLanes(name, 4)
	defer fi.Close()
	var out []float64
	for range n {
		p, err := startPeer(job{Role: "fanin-first", Name: name, Size: faninSize, Duration: time.Second})
		if err != nil {
			return out, err
		}
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		f, _, err := fi.ReadFrame(rctx)
		cancel()
		now := time.Now().UnixNano()
		if err != nil {
			p.kill()
			return out, err
		}
		t0 := int64(binary.LittleEndian.Uint64(f.Data()))
		_ = f.Release()
		out = append(out, float64(now-t0)/1e6)
		if _, err := p.ready(ctx); err != nil {
			p.kill()
			return out, err
		}
		p.stop()
		time.Sleep(50 * time.Millisecond) // the receiver goes back to sleep
	}
	return out, nil
}

// idleFanIn measures this process's CPU while its receiver waits for d
// with senders connected, idle children.
func idleFanIn(ctx context.Context, senders int, d time.Duration) (float64, error) {
	fi, ps, remove, err := startFanIn(ctx, "fidle", "fanin-idle", senders, d)
	if err != nil {
		return 0, err
	}
	defer remove()
	time.Sleep(100 * time.Millisecond) // the spare keeper settles
	idle, cancel := context.WithTimeout(ctx, d)
	c0, t0 := cpuTime(), time.Now()
	_, _, err = fi.ReadFrame(idle)
	cpu, wall := cpuTime()-c0, time.Since(t0)
	cancel()
	fi.Close()
	for _, p := range ps {
		p.kill()
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		return 0, fmt.Errorf("bench: idle fan-in receiver: %v", err)
	}
	return pct(cpu, wall), nil
}

// multiCallRate runs clients duplex client processes calling one
// RawMultiServer (echo) for d; it returns the aggregate calls/s.
func multiCallRate(ctx context.Context, clients int, d time.Duration) (float64, error) {
	name := zbName("fmulti")
	srv, err := duplex.NewRawMultiServer(name, clients+2, func(ctx context.Context, req []byte, rw *duplex.ResponseWriter) error {
		return rw.Write(ctx, req)
	}, duplex.WithRequestBuffer(core.BufferConfig{MetadataSize: 1024, PayloadSize: 1 << 20}))
	if err != nil {
		return 0, err
	}
	defer removeLanes(duplex.RequestName(name), clients+2)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx) }()
	jobs := make([]job, clients)
	for i := range jobs {
		jobs[i] = job{Role: "multi-call", Name: name, Size: faninSize, Duration: d}
	}
	ps, err := startAll(ctx, jobs)
	if err != nil {
		srv.Close()
		<-served
		return 0, err
	}
	var rate float64
	var errs []error
	for _, p := range ps {
		res, err := p.result(ctx, d+30*time.Second)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		rate += float64(res.Count) / res.Elapsed.Seconds()
	}
	stopAll(ps)
	srv.Close()
	<-served
	return rate, errors.Join(errs...)
}

// removeLanes removes what a fan-in buffer may have left after a failure.
func removeLanes(name string, lanes int) {
	for k := range lanes {
		removeBuffer(core.LaneName(name, k))
	}
	removeBuffer(name + ".fanin")
}

// Markdown renders every run and the medians against the targets of the
// fan-in work.
func (r *FanInReport) Markdown(w io.Writer) error {
	var b strings.Builder
	n := r.Config.Senders
	fmt.Fprintf(&b, "## Fan-in: %d senders x %d B into one receiver (%d runs, %v windows)\n\n", n, faninSize, len(r.Runs), r.Config.Duration)
	fmt.Fprintf(&b, "| run | fan-in msgs/s | pair msgs/s | chan(%d) msgs/s | fan-in/pair | fan-in/chan | shares %% of mean | first msg ms | idle CPU (8 senders) | %d-client calls/s | 1-client calls/s | ratio |\n", n, n)
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for i, x := range r.Runs {
		fmt.Fprintf(&b, "| %d | %s | %s | %s | %.2fx | %.2fx | %s | %s | %.3f %% | %.0f | %.0f | %.2fx |\n", i+1,
			fmtRate(x.FanIn), fmtRate(x.Pair), fmtRate(x.Chan), x.FanIn/x.Pair, x.FanIn/x.Chan,
			fmtList(x.Shares, "%.0f"), fmtList(x.FirstMsg, "%.2f"), x.IdleCPU, x.MultiCalls, x.OneCall, x.MultiCalls/x.OneCall)
	}
	fmt.Fprintf(&b, "\nThe same with batch receivers (core.FanIn.ReadBatch, core.Reader.ReadBatch; senders write frame by frame):\n\n")
	fmt.Fprintf(&b, "| run | fan-in msgs/s | pair msgs/s | fan-in/pair | fan-in/chan(%d) |\n|---|---|---|---|---|\n", n)
	for i, x := range r.Runs {
		fmt.Fprintf(&b, "| %d | %s | %s | %.2fx | %.2fx |\n", i+1, fmtRate(x.FanInBatch), fmtRate(x.PairBatch),
			x.FanInBatch/x.PairBatch, x.FanInBatch/x.Chan)
	}
	med := func(f func(FanInRun) float64) float64 {
		var v []float64
		for _, x := range r.Runs {
			v = append(v, f(x))
		}
		slices.Sort(v)
		if len(v) == 0 {
			return 0
		}
		return v[len(v)/2]
	}
	worstShare := med(func(x FanInRun) float64 {
		d := 0.0
		for _, s := range x.Shares {
			d = max(d, abs(s-100))
		}
		return d
	})
	worstFirst := med(func(x FanInRun) float64 { return slices.Max(append([]float64{0}, x.FirstMsg...)) })
	b.WriteString("\n| target (medians) | measured | met |\n|---|---|---|\n")
	row := func(name, got string, ok bool) {
		fmt.Fprintf(&b, "| %s | %s | %v |\n", name, got, ok)
	}
	fp := med(func(x FanInRun) float64 { return x.FanIn / x.Pair })
	fc := med(func(x FanInRun) float64 { return x.FanIn / x.Chan })
	mc := med(func(x FanInRun) float64 { return x.MultiCalls / x.OneCall })
	ic := med(func(x FanInRun) float64 { return x.IdleCPU })
	fbp := med(func(x FanInRun) float64 { return x.FanInBatch / x.PairBatch })
	fbc := med(func(x FanInRun) float64 { return x.FanInBatch / x.Chan })
	row("fan-in >= 1.0x one pair", fmt.Sprintf("%.2fx", fp), fp >= 1.0)
	row(fmt.Sprintf("fan-in >= 2x chan fed by %d goroutines", n), fmt.Sprintf("%.2fx", fc), fc >= 2)
	row("the same, batch receivers: fan-in >= 1.0x one pair", fmt.Sprintf("%.2fx", fbp), fbp >= 1.0)
	row(fmt.Sprintf("the same, batch receivers: fan-in >= 2x chan fed by %d goroutines", n), fmt.Sprintf("%.2fx", fbc), fbc >= 2)
	row("each sender within +/-25 % of the mean", fmt.Sprintf("worst %.0f %%", worstShare), worstShare <= 25)
	row("new sender's first message <= 5 ms", fmt.Sprintf("worst %.2f ms", worstFirst), worstFirst <= 5)
	row("idle receiver, 8 idle senders <= 0.3 % CPU", fmt.Sprintf("%.3f %%", ic), ic <= 0.3)
	row(fmt.Sprintf("%d duplex clients >= 2x one client", n), fmt.Sprintf("%.2fx", mc), mc >= 2)
	_, err := io.WriteString(w, b.String())
	return err
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func fmtList(v []float64, f string) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprintf(f, x)
	}
	return strings.Join(s, " ")
}
