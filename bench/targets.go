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
