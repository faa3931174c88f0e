package bench

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/zerobuffer/zerobuffer-go/core"
)

// benchCase is one step of a run.
type benchCase struct {
	label string
	run   func(ctx context.Context, r *Report)
}

// Run measures what cfg selects and returns the report. Cases that fail
// are recorded in the report (Err fields) and do not stop the run; Run
// returns an error only for an invalid configuration or when ctx is done
// (then with the partial report). The peers are child processes of this
// binary: the program's main must call [ChildMain] when [IsChild] is
// true, or Run fails for every cross-process case.
//
// Do not start two Runs at once in one process: the CPU figures are
// per process.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	rep := &Report{
		Started: time.Now(),
		Machine: Machine{GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, NumCPU: runtime.NumCPU(),
			GoVersion: runtime.Version(), CPUModel: cpuModel()},
		Config: ConfigInfo{Sizes: slices.Clone(cfg.Sizes), Transports: slices.Clone(cfg.Transports),
			Duration: cfg.Duration, Gap: cfg.Gap, IdleCPU: cfg.IdleCPU},
		IdleReaderCPU: -1,
	}
	cases := plan(cfg)
	bar := newProgress(cfg.Progress, len(cases))
	for _, c := range cases {
		if ctx.Err() != nil {
			break
		}
		bar.step(c.label)
		t0 := time.Now()
		c.run(ctx, rep)
		log.Debug("bench case done", "case", c.label, "took", time.Since(t0))
	}
	bar.finish()
	rep.Seconds = time.Since(rep.Started).Seconds()
	rep.Targets = targets(rep)
	rep.FastTargets = fastTargets(rep)
	return rep, ctx.Err()
}

// plan lists the cases of cfg in report order.
func plan(cfg Config) []benchCase {
	var cs []benchCase
	if cfg.Limits {
		cs = append(cs, planLimits(cfg)...)
	}
	if cfg.Throughput {
		for _, size := range cfg.Sizes {
			for _, t := range cfg.Transports {
				cs = append(cs, benchCase{"throughput " + t + " " + FormatSize(size), func(ctx context.Context, r *Report) {
					r.Throughput = append(r.Throughput, runThroughput(ctx, t, size, cfg.Duration))
				}})
			}
		}
	}
	if cfg.Latency {
		cs = append(cs, planLatency(cfg, 0)...)
		if cfg.Gap > 0 {
			cs = append(cs, planLatency(cfg, cfg.Gap)...)
		}
	}
	if cfg.IdleStrategies {
		cs = append(cs, planIdle(cfg)...)
	}
	if cfg.IdleCPU > 0 && slices.ContainsFunc(cfg.Transports, isZB) {
		cs = append(cs, benchCase{"idle reader CPU", func(ctx context.Context, r *Report) {
			res, err := zbIdleReaderCPU(ctx, cfg.IdleCPU)
			if err != nil {
				r.IdleError = err.Error()
				return
			}
			r.IdleReaderCPU = pct(res.CPU, res.CPUWall)
		}})
	}
	return cs
}

func planLimits(cfg Config) []benchCase {
	d := cfg.Duration
	cs := []benchCase{{"limits: memcpy", func(_ context.Context, r *Report) {
		r.limits().Memcpy1MiB = memcpyGBps(1<<20, d/2)
		r.limits().Memcpy64MiB = memcpyGBps(64<<20, d/2)
	}}, {"limits: cache-line round trip", func(ctx context.Context, r *Report) {
		rtt, err := cachelineRTT(ctx, d)
		r.limits().CacheLineRTTNs = float64(rtt.Nanoseconds())
		r.limits().CacheLineError = errString(err)
	}}}
	for _, size := range cfg.Sizes {
		cs = append(cs, benchCase{"limits: spin ring " + FormatSize(size), func(ctx context.Context, r *Report) {
			s, rv, err := ringThroughput(ctx, size, d)
			r.limits().Ceiling = append(r.limits().Ceiling, throughputOf("ceiling", size, s, rv, err))
		}})
	}
	return cs
}

// planLatency lists the ping-pong cases with one gap. zb-batch has none:
// a batch of one frame is the copy path.
func planLatency(cfg Config, gap time.Duration) []benchCase {
	var cs []benchCase
	for _, size := range cfg.Sizes {
		for _, t := range cfg.Transports {
			if t == TransportZBBatch {
				continue
			}
			label := "latency " + t + " " + FormatSize(size) + " back-to-back"
			if gap > 0 {
				label = fmt.Sprintf("latency %s %s, %v gap", t, FormatSize(size), gap)
			}
			cs = append(cs, benchCase{label, func(ctx context.Context, r *Report) {
				r.Latency = append(r.Latency, runLatency(ctx, t, size, cfg.Duration, gap))
			}})
		}
	}
	return cs
}

func (r *Report) limits() *Limits {
	if r.Limits == nil {
		r.Limits = &Limits{}
	}
	return r.Limits
}

func runThroughput(ctx context.Context, t string, size int, d time.Duration) Throughput {
	var s, rv sideResult
	var err error
	switch {
	case t == TransportChan:
		s, rv, err = chanThroughput(ctx, size, d)
	case isKernel(t):
		s, rv, err = streamThroughput(ctx, t, size, d)
	default:
		s, rv, err = zbThroughput(ctx, t, size, d)
	}
	res := throughputOf(t, size, s, rv, err)
	res.InProcess = t == TransportChan
	return res
}

// throughputOf turns the two sides' figures into a table row.
func throughputOf(t string, size int, s, rv sideResult, err error) Throughput {
	res := Throughput{Transport: t, Size: size, Err: errString(err)}
	if err == nil && rv.Received != s.Count {
		res.Err = fmt.Sprintf("receiver verified %d of %d messages", rv.Received, s.Count)
	}
	if res.Err != "" || rv.Elapsed <= 0 {
		if res.Err == "" {
			res.Err = "no messages timed"
		}
		return res
	}
	res.Messages = rv.Received
	res.MsgsPerSec = float64(rv.Count) / rv.Elapsed.Seconds()
	res.GBPerSec = res.MsgsPerSec * float64(size) / 1e9
	res.SendCPU, res.RecvCPU = pct(s.CPU, s.CPUWall), pct(rv.CPU, rv.CPUWall)
	return res
}

func runLatency(ctx context.Context, t string, size int, d, gap time.Duration) Latency {
	var h *Histogram
	var client, server sideResult
	var err error
	switch {
	case t == TransportChan:
		h, client, err = chanRTT(ctx, size, d, gap)
	case isKernel(t):
		h, client, server, err = streamRTT(ctx, t, size, d, gap)
	default:
		h, client, server, err = zbRTT(ctx, t, size, d, gap)
	}
	return latencyOf(t, size, gap, h, client, server, err)
}

// latencyOf summarises the round trips of one case.
func latencyOf(t string, size int, gap time.Duration, h *Histogram, client, server sideResult, err error) Latency {
	l := Latency{Transport: t, Size: size, Gap: gap, Err: errString(err), InProcess: t == TransportChan}
	if h == nil || h.Count() == 0 {
		if l.Err == "" {
			l.Err = "no round trips recorded"
		}
		return l
	}
	l.Samples = h.Count()
	l.P50, l.P99, l.P999 = float64(h.Quantile(0.5)), float64(h.Quantile(0.99)), float64(h.Quantile(0.999))
	l.Max = float64(h.Max())
	l.ClientCPU, l.ServerCPU = pct(client.CPU, client.CPUWall), pct(server.CPU, server.CPUWall)
	l.CDF = h.CDF()
	return l
}

func pct(cpu, wall time.Duration) float64 {
	if wall <= 0 {
		return 0
	}
	return 100 * cpu.Seconds() / wall.Seconds()
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// cpuModel returns the first "model name" of /proc/cpuinfo, if any.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// planIdle lists the idle-strategy round trips: 64 B back to back through
// zb-copy, once per strategy, busy-spin again with each process pinned to
// its own CPU, and the in-process channel of the same run.
func planIdle(cfg Config) []benchCase {
	const size = 64
	type mode struct {
		idle   core.IdleStrategy
		pinned bool
	}
	modes := []mode{{core.IdleSpinThenSleep, false}, {core.IdleBusySpin, false}, {core.IdleLowCPU, false}}
	if runtime.NumCPU() >= 2 {
		modes = append(modes, mode{core.IdleBusySpin, true})
	}
	var cs []benchCase
	for _, m := range modes {
		label := "idle strategy " + m.idle.String()
		if m.pinned {
			label += " pinned"
		}
		cs = append(cs, benchCase{label, func(ctx context.Context, r *Report) {
			l := runIdleLatency(ctx, m.idle, m.pinned, size, cfg.Duration)
			r.IdleLatency = append(r.IdleLatency, l)
		}})
	}
	cs = append(cs, benchCase{"idle strategy: chan", func(ctx context.Context, r *Report) {
		l := runLatency(ctx, TransportChan, size, cfg.Duration, 0)
		r.IdleLatency = append(r.IdleLatency, l)
	}})
	return cs
}

func runIdleLatency(ctx context.Context, idle core.IdleStrategy, pinned bool, size int, d time.Duration) Latency {
	h, client, server, err := zbRTTIdle(ctx, TransportZBCopy, size, d, 0, idle, pinned)
	l := latencyOf(TransportZBCopy, size, 0, h, client, server, err)
	l.Idle, l.Pinned = idle.String(), pinned
	return l
}
