package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/zerobuffer/zerobuffer-go/bench"
)

func runBench(e *env, args []string) error {
	def := bench.DefaultConfig()
	f := newFlags("bench", "[flags]", `
Measure zerobuffer against an in-process Go channel, os.Pipe, a Unix
domain socket and TCP over 127.0.0.1, side by side in one run, with the
machine's own limits (memcpy, cache-line round trip between two processes,
a busy-polling shared-memory ring as the ceiling). The peers are child
processes of this binary. Prints markdown tables with ratios and the
pass/fail targets; a progress bar goes to stderr when it is a terminal.
The default run takes about a minute on a 2-core machine.`)
	sizes := f.String("sizes", "64,1K,64K,1M", "comma-separated message sizes (suffixes K, M)")
	transports := f.String("transports", strings.Join(bench.Transports, ","), "comma-separated transports")
	f.DurationVar(&def.Duration, "duration", def.Duration, "timed length of each case")
	f.DurationVar(&def.Gap, "gap", def.Gap, "idle gap before each request of the second latency run (0: skip it)")
	f.DurationVar(&def.IdleCPU, "idle", def.IdleCPU, "how long the idle reader blocks for its CPU figure (0: skip)")
	noLimits := f.Bool("no-limits", false, "skip the memcpy, cache-line and ceiling measurements")
	noTP := f.Bool("no-throughput", false, "skip the one-way throughput cases")
	noLat := f.Bool("no-latency", false, "skip the round-trip cases")
	asJSON := f.Bool("json", false, "print the report as JSON instead of markdown")
	plotFile := f.String("plot", "", "write latency CDFs to this PNG `file`")
	quiet := f.Bool("quiet", false, "no progress bar")
	fanin := f.Bool("fanin", false, "run only the fan-in cases: 4 senders into one receiver, duplex clients (3 runs)")
	typedOnly := f.Bool("typed", false, "run only the typed cases: raw, msgpack and FlatBuffers values vs a chan of the same type (--runs runs)")
	runs := f.Int("runs", 3, "repetitions of each typed case (with --typed)")
	pos, err := parse(e, f, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("bench takes no arguments, got %q", pos)
	}
	cfg := def
	cfg.Limits, cfg.Throughput, cfg.Latency = !*noLimits, !*noTP, !*noLat
	if cfg.Sizes, err = parseSizes(*sizes); err != nil {
		return err
	}
	cfg.Transports = splitList(*transports)
	var withNATS bool
	if cfg.Transports, withNATS = bench.SplitNATS(cfg.Transports); withNATS {
		if err := runNATSBench(e, cfg.Sizes, cfg.Duration); err != nil || len(cfg.Transports) == 0 {
			return err
		}
	}
	if *plotFile != "" && !cfg.Latency {
		return usagef("--plot draws the latency cases: drop --no-latency")
	}
	if err := cfg.Validate(); err != nil {
		return &usageError{err.Error()}
	}
	if e.stderrTTY && !*quiet {
		cfg.Progress = e.stderr
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *fanin && *typedOnly {
		return usagef("--fanin and --typed each select their own cases: give one")
	}
	if *fanin {
		return runFanInBench(ctx, e, def.Duration, *asJSON)
	}
	if *typedOnly {
		return runTypedBench(ctx, e, bench.TypedConfig{Runs: *runs, Duration: def.Duration, Sizes: cfg.Sizes}, *asJSON)
	}
	rep, err := bench.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(rep)
	} else {
		err = rep.Markdown(e.stdout)
	}
	if err == nil && *plotFile != "" {
		err = writePlot(rep, *plotFile)
	}
	return err
}

func writePlot(rep *bench.Report, path string) error {
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := rep.WritePlot(out); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

func parseSizes(s string) ([]int, error) {
	var out []int
	for _, p := range splitList(s) {
		n, err := bench.ParseSize(p)
		if err != nil {
			return nil, &usageError{err.Error()}
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, usagef("--sizes is empty")
	}
	return out, nil
}

func runFanInBench(ctx context.Context, e *env, d time.Duration, asJSON bool) error {
	rep, err := bench.RunFanIn(ctx, bench.FanInConfig{Duration: d})
	if err != nil {
		return err
	}
	return printReport(e, rep, asJSON)
}

// printReport writes rep as indented JSON or as its markdown tables.
func printReport(e *env, rep interface{ Markdown(io.Writer) error }, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return rep.Markdown(e.stdout)
}

func runTypedBench(ctx context.Context, e *env, cfg bench.TypedConfig, asJSON bool) error {
	if cfg.Runs <= 0 {
		return usagef("--runs must be positive, got %d", cfg.Runs)
	}
	rep, err := bench.RunTyped(ctx, cfg)
	if err != nil {
		return err
	}
	return printReport(e, rep, asJSON)
}
