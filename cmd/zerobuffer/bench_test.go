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

// TestBench_Typed runs every typed case once per run at 64 B: every
// codec's row must be there with messages received at both the typed
// receiver and the channel (and the core path for raw and FlatBuffers).
// Each receiver verifies every value against its sequence number and a
// mismatch fails the command, so a zero exit code means that every value
// counted decoded correctly.
func TestBench_Typed(t *testing.T) {
	r := zb(t, "", "bench", "--typed", "--sizes", "64", "--duration", "30ms", "--runs", "2", "--json")
	if r.code != exitOK {
		t.Fatalf("bench --typed: exit %d, stderr %q", r.code, r.stderr)
	}
	var rep bench.TypedReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("bench --typed --json: %v\n%s", err, r.stdout)
	}
	if len(rep.Cases) != len(bench.TypedCodecs) {
		t.Fatalf("%d cases, want %d: %+v", len(rep.Cases), len(bench.TypedCodecs), rep.Cases)
	}
	for i, c := range rep.Cases {
		if c.Codec != bench.TypedCodecs[i] || c.Size != 64 || c.FrameBytes < 40 || c.FrameBytes > 80 || len(c.Runs) != 2 {
			t.Errorf("case %d: %s %d B, frame %d B, %d runs", i, c.Codec, c.Size, c.FrameBytes, len(c.Runs))
		}
		withCore := c.Codec == "raw" || c.Codec == "flatbuf"
		for k, s := range c.Runs {
			if s.Msgs <= 0 || s.Received == 0 || s.Chan <= 0 || s.ChanReceived == 0 ||
				withCore != (s.Core > 0 && s.CoreReceived > 0) {
				t.Errorf("%s run %d: %+v", c.Codec, k+1, s)
			}
		}
	}

	for _, bad := range [][]string{{"--runs", "0"}, {"--fanin"}} {
		r = zb(t, "", append([]string{"bench", "--typed"}, bad...)...)
		if r.code != exitUsage || r.stdout != "" {
			t.Errorf("bench --typed %v: exit %d, stdout %q, want a usage error", bad, r.code, r.stdout)
		}
	}

	r = zb(t, "", "bench", "--typed", "--sizes", "1K", "--duration", "20ms", "--runs", "1")
	if r.code != exitOK {
		t.Fatalf("bench --typed: exit %d, stderr %q", r.code, r.stderr)
	}
	for _, want := range []string{"## Typed channels", "| raw | 1 KiB | 1024 |", "| msgpack-gen | 1 KiB |", "| msgpack-refl | 1 KiB |", "| flatbuf | 1 KiB |"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("markdown lacks %q:\n%s", want, r.stdout)
		}
	}
}
