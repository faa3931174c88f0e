package bench

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Markdown writes the report as markdown tables: machine limits,
// one-way throughput, round-trip latency (back-to-back and with the idle
// gap), the idle reader's CPU and the targets.
func (r *Report) Markdown(w io.Writer) error {
	var b strings.Builder
	m := r.Machine
	fmt.Fprintf(&b, "# zerobuffer bench\n\n%s/%s, %d CPUs, %s", m.GOOS, m.GOARCH, m.NumCPU, m.GoVersion)
	if m.CPUModel != "" {
		fmt.Fprintf(&b, ", %s", m.CPUModel)
	}
	fmt.Fprintf(&b, ". %v per case; the run took %.0f s.\n", r.Config.Duration, r.Seconds)
	r.limitsTable(&b)
	r.throughputTable(&b)
	r.latencyTable(&b, 0)
	if r.Config.Gap > 0 {
		r.latencyTable(&b, r.Config.Gap)
	}
	r.idleStrategyTable(&b)
	r.idleAndTargets(&b)
	_, err := io.WriteString(w, b.String())
	return err
}

func (r *Report) limitsTable(b *strings.Builder) {
	l := r.Limits
	if l == nil {
		return
	}
	b.WriteString("\n## Machine limits\n\n| limit | value |\n|---|---|\n")
	fmt.Fprintf(b, "| memcpy 1 MiB | %.1f GB/s |\n| memcpy 64 MiB | %.1f GB/s |\n", l.Memcpy1MiB, l.Memcpy64MiB)
	if l.CacheLineError != "" {
		fmt.Fprintf(b, "| cache-line round trip, 2 processes | error: %s |\n", cell(l.CacheLineError))
	} else {
		fmt.Fprintf(b, "| cache-line round trip, 2 processes | %s |\n", fmtNs(l.CacheLineRTTNs))
	}
	for _, c := range l.Ceiling {
		if c.Err != "" {
			fmt.Fprintf(b, "| ceiling (spin ring) %s | error: %s |\n", FormatSize(c.Size), cell(c.Err))
			continue
		}
		fmt.Fprintf(b, "| ceiling (spin ring) %s | %s msgs/s, %.2f GB/s |\n", FormatSize(c.Size), fmtRate(c.MsgsPerSec), c.GBPerSec)
	}
}

func (r *Report) throughputTable(b *strings.Builder) {
	if len(r.Throughput) == 0 {
		return
	}
	b.WriteString("\n## One-way throughput\n\nReceiver verifies every message. Ratios are zerobuffer ÷ reference " +
		"(> 1: zerobuffer is faster); kernel = best of pipe, uds, tcp at that size; ceiling = the spin ring. " +
		"CPU is percent of one core per side; for chan both goroutines share one process.\n\n" +
		"| size | transport | msgs/s | GB/s | CPU send | CPU recv | ÷ chan | ÷ kernel | ÷ ceiling |\n" +
		"|---|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, t := range r.Throughput {
		if t.Err != "" {
			fmt.Fprintf(b, "| %s | %s | error: %s | | | | | | |\n", FormatSize(t.Size), t.Transport, cell(t.Err))
			continue
		}
		send, recv := fmtPct(t.SendCPU), fmtPct(t.RecvCPU)
		if t.InProcess {
			send, recv = fmtPct(t.SendCPU)+" (both)", ""
		}
		var vsChan, vsKernel, vsCeil string
		if isZB(t.Transport) {
			vsChan = ratio(t.MsgsPerSec, r.throughput(TransportChan, t.Size))
			vsKernel = ratio(t.MsgsPerSec, r.bestKernel(t.Size))
			vsCeil = ratio(t.MsgsPerSec, r.throughput("ceiling", t.Size))
		}
		fmt.Fprintf(b, "| %s | %s | %s | %.2f | %s | %s | %s | %s | %s |\n", FormatSize(t.Size), t.Transport,
			fmtRate(t.MsgsPerSec), t.GBPerSec, send, recv, vsChan, vsKernel, vsCeil)
	}
}

func ratio(v float64, ref *Throughput) string {
	if ref == nil || ref.MsgsPerSec <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", v/ref.MsgsPerSec)
}

func latRatio(p50 float64, ref float64) string {
	if ref <= 0 || p50 <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", ref/p50)
}

func (r *Report) latencyTable(b *strings.Builder, gap time.Duration) {
	title := "back-to-back"
	if gap > 0 {
		title = fmt.Sprintf("%v idle gap before each request", gap)
	}
	var rows []Latency
	for _, l := range r.Latency {
		if l.Gap == gap {
			rows = append(rows, l)
		}
	}
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(b, "\n## Round-trip latency, %s\n\nRatios are reference p50 ÷ zerobuffer p50 "+
		"(> 1: zerobuffer is faster); limit = the cache-line round trip.\n\n"+
		"| size | transport | samples | p50 | p99 | p99.9 | max | CPU client | CPU server | ÷ chan | ÷ kernel | ÷ limit |\n"+
		"|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n", title)
	for _, l := range rows {
		if l.Err != "" {
			fmt.Fprintf(b, "| %s | %s | error: %s | | | | | | | | | |\n", FormatSize(l.Size), l.Transport, cell(l.Err))
			continue
		}
		client, server := fmtPct(l.ClientCPU), fmtPct(l.ServerCPU)
		if l.InProcess {
			client, server = client+" (both)", ""
		}
		var vsChan, vsKernel, vsLimit string
		if isZB(l.Transport) {
			vsChan, vsKernel, vsLimit = "–", "–", "–"
			if c := r.latency(TransportChan, l.Size, gap); c != nil {
				vsChan = latRatio(l.P50, c.P50)
			}
			if k := r.bestKernelLatency(l.Size, gap); k != nil {
				vsKernel = latRatio(l.P50, k.P50)
			}
			if r.Limits != nil && r.Limits.CacheLineError == "" {
				vsLimit = latRatio(l.P50, r.Limits.CacheLineRTTNs)
			}
		}
		fmt.Fprintf(b, "| %s | %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", FormatSize(l.Size), l.Transport,
			l.Samples, fmtNs(l.P50), fmtNs(l.P99), fmtNs(l.P999), fmtNs(l.Max), client, server, vsChan, vsKernel, vsLimit)
	}
}

func (r *Report) idleAndTargets(b *strings.Builder) {
	switch {
	case r.IdleError != "":
		fmt.Fprintf(b, "\n## Idle reader\n\nerror: %s\n", r.IdleError)
	case r.IdleReaderCPU >= 0:
		fmt.Fprintf(b, "\n## Idle reader\n\nA reader blocked in ReadFrame for %v with a silent writer connected used %.2f %% of one core.\n",
			r.Config.IdleCPU, r.IdleReaderCPU)
	}
	targetTable(b, "Targets", "zerobuffer figures use the best zerobuffer path at that size (named).", r.Targets)
	targetTable(b, "Fast-path targets", "The per-frame API is the better of zb-copy and zb-zerocopy; the batch API is zb-batch; "+
		"the ceiling is the spin ring of this run.", r.FastTargets)
}

// targetTable renders one table of targets under a heading (nothing when
// ts is empty).
func targetTable(b *strings.Builder, title, intro string, ts []Target) {
	if len(ts) == 0 {
		return
	}
	fmt.Fprintf(b, "\n## %s\n\n%s\n\n| target | goal | measured | result |\n|---|---|---|---|\n", title, intro)
	for _, t := range ts {
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n", t.Name, t.Goal, t.Measured, t.Result)
	}
}

// cell makes text safe inside a table cell.
func cell(s string) string {
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\n", " "), "|", "/")
	if len(s) > 160 {
		s = s[:157] + "..."
	}
	return s
}

func fmtPct(p float64) string { return fmt.Sprintf("%.0f %%", p) }

// fmtRate renders a rate with k/M suffixes.
func fmtRate(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2f M", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1f k", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}

// fmtNs renders nanoseconds as ns, µs or ms.
func fmtNs(ns float64) string {
	switch {
	case ns >= 1e6:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.2f µs", ns/1e3)
	}
	return fmt.Sprintf("%.0f ns", ns)
}

// idleStrategyTable renders the round trip per idle strategy, with the
// in-process channel and the cache-line round trip of the same run.
func (r *Report) idleStrategyTable(b *strings.Builder) {
	if len(r.IdleLatency) == 0 {
		return
	}
	b.WriteString("\n## Round trip per idle strategy, 64 B back to back\n\n" +
		"zb-copy with both sides in the strategy (core.WithIdleStrategy); pinned: this process on CPU 0, " +
		"the echo process on CPU 1. The cache-line round trip is the busy-polling ceiling.\n\n" +
		"| strategy | pinned | samples | p50 | p99 | p99.9 | max | CPU client | CPU server |\n" +
		"|---|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, l := range r.IdleLatency {
		name, pinned := l.Idle, "no"
		if l.Pinned {
			pinned = "yes"
		}
		if l.InProcess {
			name = "in-process chan"
		}
		if l.Err != "" {
			fmt.Fprintf(b, "| %s | %s | error: %s | | | | | | |\n", name, pinned, cell(l.Err))
			continue
		}
		client, server := fmtPct(l.ClientCPU), fmtPct(l.ServerCPU)
		if l.InProcess {
			client, server = client+" (both)", ""
		}
		fmt.Fprintf(b, "| %s | %s | %d | %s | %s | %s | %s | %s | %s |\n", name, pinned, l.Samples,
			fmtNs(l.P50), fmtNs(l.P99), fmtNs(l.P999), fmtNs(l.Max), client, server)
	}
	if r.Limits != nil && r.Limits.CacheLineError == "" {
		fmt.Fprintf(b, "| cache-line round trip (ceiling) | no | | %s | | | | | |\n", fmtNs(r.Limits.CacheLineRTTNs))
	}
}
