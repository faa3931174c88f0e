//go:build linux

package main

import (
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zerobuffer/zerobuffer-go/bench"
)

func TestBench_JSONAndPlot(t *testing.T) {
	plot := filepath.Join(t.TempDir(), "cdf.png")
	r := zb(t, "", "bench", "--sizes", "64", "--duration", "30ms", "--gap", "100us", "--idle", "50ms",
		"--json", "--plot", plot)
	if r.code != exitOK {
		t.Fatalf("bench: exit %d, stderr %q", r.code, r.stderr)
	}
	var rep bench.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("bench --json: %v\n%s", err, r.stdout)
	}
	if len(rep.Throughput) != len(bench.Transports) || rep.Limits == nil || len(rep.Limits.Ceiling) != 1 ||
		len(rep.Targets) == 0 || rep.IdleReaderCPU < 0 {
		t.Errorf("report incomplete: %+v", rep)
	}
	for _, tp := range rep.Throughput {
		if tp.Err != "" {
			t.Errorf("%s: %s", tp.Transport, tp.Err)
		}
	}
	f, err := os.Open(plot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := png.Decode(f); err != nil {
		t.Errorf("--plot did not write a PNG: %v", err)
	}
	if strings.Contains(r.stderr, "\r") {
		t.Errorf("progress bar drawn although stderr is not a terminal: %q", r.stderr)
	}
}

func TestBench_Markdown(t *testing.T) {
	r := zb(t, "", "bench", "--sizes", "1K", "--transports", "zb-copy,chan,pipe", "--duration", "30ms",
		"--no-latency", "--no-limits", "--idle", "0")
	if r.code != exitOK {
		t.Fatalf("bench: exit %d, stderr %q", r.code, r.stderr)
	}
	for _, want := range []string{"## One-way throughput", "| 1 KiB | zb-copy |", "| 1 KiB | chan |", "| 1 KiB | pipe |", "## Targets"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("markdown lacks %q:\n%s", want, r.stdout)
		}
	}
}
