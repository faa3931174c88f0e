package bench

import (
	"context"
	"testing"
	"time"

	"github.com/zerobuffer/zerobuffer-go/core"
)

// BenchmarkFanInReadBatch: 4 sender processes write 64-byte frames flat
// out into one core.FanIn; the receiver takes them for one second with
// ReadFrame + Release per frame, then for one second with ReadBatch, each
// with fresh senders. Reported: both rates and their ratio, per
// iteration (run with -benchtime=1x -count=N for N rounds).
func BenchmarkFanInReadBatch(b *testing.B) {
	ctx := context.Background()
	const senders, d = 4, time.Second
	for b.Loop() {
		perFrame, _, err := fanInRate(ctx, senders, d)
		if err != nil {
			b.Fatal(err)
		}
		batch, err := fanInBatchRate(ctx, senders, d)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(perFrame, "readframe-msgs/s")
		b.ReportMetric(batch, "readbatch-msgs/s")
		b.ReportMetric(batch/perFrame, "batch/frame")
	}
}

// fanInBatchRate is fanInRate with FanIn.ReadBatch.
func fanInBatchRate(ctx context.Context, senders int, d time.Duration) (float64, error) {
	name := zbName("faninb")
	fi, err := core.NewFanIn(name, faninCfg(), core.FanInConfig{MaxLanes: senders + 2})
	if err != nil {
		return 0, err
	}
	defer removeLanes(name, senders+2)
	jobs := make([]job, senders)
	for i := range jobs {
		jobs[i] = job{Role: "fanin-send", Name: name, Size: faninSize, Duration: d}
	}
	ps, err := startAll(ctx, jobs)
	if err != nil {
		fi.Close()
		return 0, err
	}
	defer stopAll(ps)
	defer fi.Close()
	n, t0 := 0, time.Now()
	for time.Since(t0) < d {
		k, _, err := fi.ReadBatch(ctx, 0, func([]byte, int, uint64) error { return nil })
		if err != nil {
			return 0, err
		}
		n += k
	}
	return float64(n) / time.Since(t0).Seconds(), nil
}
