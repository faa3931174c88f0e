package bench

import (
	"fmt"
)

// targets evaluates the goals set for the Go implementation against r.
// Each zerobuffer figure is the best zerobuffer path at that size (the
// path is named); every path is also in the tables.
func targets(r *Report) []Target {
	var ts []Target
	for _, size := range []int{64, 1 << 10} {
		ts = append(ts, ratioTarget(
			fmt.Sprintf("msgs/s at %s vs Go chan", FormatSize(size)), "≥ 1.5× (stretch 2.5×)",
			r.bestZB(size), r.throughput(TransportChan, size), 1.5, 2.5))
	}
	for _, size := range []int{64 << 10, 1 << 20} {
		ts = append(ts, ratioTarget(
			fmt.Sprintf("GB/s at %s vs Go chan", FormatSize(size)), "≥ 1.0×",
			r.bestZB(size), r.throughput(TransportChan, size), 1.0, 0))
	}
	ts = append(ts, rttTarget(r))
	for _, k := range []string{TransportPipe, TransportUDS} {
		ts = append(ts, ratioTarget("msgs/s at 64 B vs "+k, "≥ 8×",
			r.bestZB(64), r.throughput(k, 64), 8, 0))
	}
	ts = append(ts, idleTarget(r))
	return ts
}

func ratioTarget(name, goal string, zb, ref *Throughput, need, stretch float64) Target {
	t := Target{Name: name, Goal: goal, Result: "n/a", Measured: "not measured"}
	if zb == nil || ref == nil || ref.MsgsPerSec <= 0 {
		return t
	}
	ratio := zb.MsgsPerSec / ref.MsgsPerSec
	t.Measured = fmt.Sprintf("%.2f× (%s)", ratio, zb.Transport)
	t.Result = passFail(ratio >= need)
	if stretch > 0 && ratio >= stretch {
		t.Result = "pass (stretch)"
	}
	return t
}

func rttTarget(r *Report) Target {
	t := Target{Name: "round trip p50 at 64 B, back-to-back", Goal: "≤ 2 µs", Result: "n/a", Measured: "not measured"}
	if l := r.bestZBLatency(64, 0); l != nil {
		t.Measured = fmt.Sprintf("%s (%s)", fmtNs(l.P50), l.Transport)
		t.Result = passFail(l.P50 <= 2000)
	}
	return t
}

func idleTarget(r *Report) Target {
	t := Target{Name: "idle reader CPU (blocked in ReadFrame)", Goal: "≤ 1 %", Result: "n/a", Measured: "not measured"}
	if r.IdleError != "" {
		t.Measured, t.Result = "error", "fail"
	}
	if r.IdleReaderCPU >= 0 {
		t.Measured = fmt.Sprintf("%.2f %%", r.IdleReaderCPU)
		t.Result = passFail(r.IdleReaderCPU <= 1)
	}
	return t
}

func passFail(ok bool) string {
	if ok {
		return "pass"
	}
	return "fail"
}

// fastTargets evaluates the fast-path goals: the per-frame API (the better
// of zb-copy and zb-zerocopy) against the Go channel, the batch API and
// large frames against the spin-ring ceiling, round trips, and the idle
// reader.
func fastTargets(r *Report) []Target {
	perFrame := func(size int) *Throughput {
		var best *Throughput
		for _, z := range []string{TransportZBCopy, TransportZBZeroCopy} {
			if t := r.throughput(z, size); t != nil && (best == nil || t.MsgsPerSec > best.MsgsPerSec) {
				best = t
			}
		}
		return best
	}
	ts := []Target{
		ratioTarget("per-frame API, msgs/s at 64 B vs Go chan", "≥ 2.5×", perFrame(64), r.throughput(TransportChan, 64), 2.5, 0),
		ratioTarget("per-frame API, msgs/s at 1 KiB vs Go chan", "≥ 2×", perFrame(1<<10), r.throughput(TransportChan, 1<<10), 2, 0),
		ratioTarget("batch API, msgs/s at 64 B vs spin-ring ceiling", "≥ 1×", r.throughput(TransportZBBatch, 64), r.throughput("ceiling", 64), 1, 0),
		ratioTarget("GB/s at 64 KiB vs spin-ring ceiling", "≥ 0.9×", r.bestZB(64<<10), r.throughput("ceiling", 64<<10), 0.9, 0),
		ratioTarget("GB/s at 1 MiB vs spin-ring ceiling", "≥ 0.9×", r.bestZB(1<<20), r.throughput("ceiling", 1<<20), 0.9, 0),
	}
	p50 := Target{Name: "round trip p50 at 64 B, back-to-back", Goal: "≤ 0.9 µs", Result: "n/a", Measured: "not measured"}
	p99 := Target{Name: "round trip p99 at 64 B, back-to-back", Goal: "≤ 1.5 µs", Result: "n/a", Measured: "not measured"}
	if l := r.bestZBLatency(64, 0); l != nil {
		p50.Measured, p50.Result = fmt.Sprintf("%s (%s)", fmtNs(l.P50), l.Transport), passFail(l.P50 <= 900)
		p99.Measured, p99.Result = fmt.Sprintf("%s (%s)", fmtNs(l.P99), l.Transport), passFail(l.P99 <= 1500)
	}
	gap := Target{Name: fmt.Sprintf("round trip p50 at 64 B, %v gap, vs pipe", r.Config.Gap), Goal: "≤ 0.7×", Result: "n/a", Measured: "not measured"}
	if r.Config.Gap > 0 {
		l, p := r.bestZBLatency(64, r.Config.Gap), r.latency(TransportPipe, 64, r.Config.Gap)
		if l != nil && p != nil && p.P50 > 0 {
			ratio := l.P50 / p.P50
			gap.Measured, gap.Result = fmt.Sprintf("%.2f× (%s %s, pipe %s)", ratio, l.Transport, fmtNs(l.P50), fmtNs(p.P50)), passFail(ratio <= 0.7)
		}
	}
	idle := idleTarget(r)
	idle.Goal = "≤ 0.3 %"
	if r.IdleReaderCPU >= 0 && r.IdleError == "" {
		idle.Result = passFail(r.IdleReaderCPU <= 0.3)
	}
	return append(ts, p50, p99, gap, idle)
}
