package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if IsChild() {
		os.Exit(ChildMain())
	}
	goleak.VerifyTestMain(m)
}

func TestHistogram_Quantiles(t *testing.T) {
	var h Histogram
	for v := int64(1); v <= 100000; v++ {
		h.Record(v)
	}
	for _, tc := range []struct {
		q    float64
		want float64
	}{{0.5, 50000}, {0.99, 99000}, {0.999, 99900}, {1, 100000}} {
		got := float64(h.Quantile(tc.q))
		if d := (got - tc.want) / tc.want; d > 0.01 || d < -0.01 {
			t.Errorf("Quantile(%v) = %v, want %v within 1%%", tc.q, got, tc.want)
		}
	}
	if h.Min() != 1 || h.Max() != 100000 || h.Count() != 100000 {
		t.Errorf("min/max/count = %d/%d/%d", h.Min(), h.Max(), h.Count())
	}
	cdf := h.CDF()
	if len(cdf) == 0 || cdf[len(cdf)-1].Fraction != 1 || cdf[len(cdf)-1].Nanos != 100000 {
		t.Errorf("CDF end = %+v", cdf[len(cdf)-1])
	}
}

func TestHistogram_IndexRoundTrip(t *testing.T) {
	for _, v := range []uint64{0, 1, 127, 128, 255, 256, 257, 1000, 1 << 20, 1<<40 + 12345, 1<<63 - 1, 1<<64 - 1} {
		i := histIndex(v)
		if i < 0 || i >= histBuckets {
			t.Fatalf("histIndex(%d) = %d out of range", v, i)
		}
		lo, w := histBounds(i)
		if v < lo || v-lo >= w {
			t.Errorf("value %d in bucket %d = [%d, %d+%d)", v, i, lo, lo, w)
		}
	}
}

func TestMessage_Verify(t *testing.T) {
	for _, size := range []int{16, 17, 64, 72, 1000, 1 << 20} {
		m := newMessage(size)
		b := make([]byte, size)
		m.fill(b, 42)
		if err := m.verify(b, 42); err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if err := m.verify(b, 43); err == nil {
			t.Errorf("size %d: wrong sequence accepted", size)
		}
		b[size-1] ^= 1
		if err := m.verify(b, 42); err == nil {
			t.Errorf("size %d: corrupted last byte accepted", size)
		}
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int{"64": 64, "1K": 1024, "64KiB": 64 << 10, "1M": 1 << 20, "2mb": 2 << 20} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "x", "-1", "0", "5G"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) succeeded", in)
		}
	}
}

// TestRun_Small runs every transport and limit once with tiny durations
// and checks that each case produced numbers; it is a functional test,
// not a performance test.
func TestRun_Small(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns dozens of processes")
	}
	cfg := DefaultConfig()
	cfg.Sizes = []int{1 << 10}
	cfg.Duration = 30 * time.Millisecond
	cfg.Gap = 200 * time.Microsecond
	cfg.IdleCPU = 100 * time.Millisecond
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, tp := range append(rep.Throughput, rep.Limits.Ceiling...) {
		if tp.Err != "" || tp.MsgsPerSec <= 0 {
			t.Errorf("throughput %s %d: %+v", tp.Transport, tp.Size, tp)
		}
	}
	for _, l := range rep.Latency {
		if l.Err != "" || l.Samples == 0 || l.P50 <= 0 {
			t.Errorf("latency %s %d gap %v: %+v", l.Transport, l.Size, l.Gap, l)
		}
	}
	if want := len(cfg.Sizes) * len(Transports); len(rep.Throughput) != want {
		t.Errorf("%d throughput rows, want %d", len(rep.Throughput), want)
	}
	if rep.Limits.CacheLineError != "" || rep.Limits.CacheLineRTTNs <= 0 {
		t.Errorf("cache line: %+v", rep.Limits)
	}
	if rep.IdleError != "" || rep.IdleReaderCPU < 0 {
		t.Errorf("idle: %q %v", rep.IdleError, rep.IdleReaderCPU)
	}
	var md bytes.Buffer
	if err := rep.Markdown(&md); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## Machine limits", "## One-way throughput", "## Targets", "## Fast-path targets", "zb-batch", "ceiling"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md.String())
		}
	}
	if _, err := json.Marshal(rep); err != nil {
		t.Fatal(err)
	}
	var img bytes.Buffer
	if err := rep.WritePlot(&img); err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(&img); err != nil {
		t.Fatalf("plot is not a PNG: %v", err)
	}
	t.Log("\n" + md.String())
}

// TestFanInMarkdown: the fan-in report prints each run's per-frame and
// batch-receiver rows and judges both pairs of targets on their medians.
func TestFanInMarkdown(t *testing.T) {
	rep := &FanInReport{Config: FanInConfig{Runs: 1, Duration: time.Second, Senders: 4}, Runs: []FanInRun{{
		FanIn: 10e6, Pair: 20e6, Chan: 8e6, Shares: []float64{100, 100, 100, 100}, FirstMsg: []float64{0.5},
		IdleCPU: 0.1, MultiCalls: 2e5, OneCall: 2e5, FanInBatch: 30e6, PairBatch: 25e6,
	}}}
	var b strings.Builder
	if err := rep.Markdown(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"| 1 | 30.00 M | 25.00 M | 1.20x | 3.75x |",
		"| fan-in >= 1.0x one pair | 0.50x | false |",
		"| the same, batch receivers: fan-in >= 1.0x one pair | 1.20x | true |",
		"| the same, batch receivers: fan-in >= 2x chan fed by 4 goroutines | 3.75x | true |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}
