package bench

import (
	"context"
	"testing"
	"time"
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
