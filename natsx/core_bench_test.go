package natsx_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/zerobuffer/zerobuffer-go/codec"
	"github.com/zerobuffer/zerobuffer-go/natsx"
)

// BenchmarkCore64 moves 64-byte messages over core NATS on the embedded
// server: natsx Sender/Receiver against plain nats.go publish with an
// async subscription. Both receivers hand out each message's own payload
// (RawCopy needs no copy over NATS, see ownedDecode). One op is one
// message sent; the time includes draining, and
// "lost" reports messages core NATS dropped (at most once).
func BenchmarkCore64(b *testing.B) {
	url := server(b).URL()
	p := make([]byte, 64)
	b.Run("plain", func(b *testing.B) {
		pc, sc := connect(b, url), connect(b, url)
		subj := subject(b)
		var got atomic.Int64
		sub, err := sc.Subscribe(subj, func(*nats.Msg) {
			got.Add(1)
		})
		if err != nil {
			b.Fatal(err)
		}
		defer sub.Unsubscribe()
		sub.SetPendingLimits(-1, -1)
		sc.Flush()
		b.ResetTimer()
		for range b.N {
			if err := pc.Publish(subj, p); err != nil {
				b.Fatal(err)
			}
		}
		pc.Flush()
		waitCount(&got, int64(b.N))
		b.ReportMetric(float64(int64(b.N)-got.Load()), "lost")
	})
	b.Run("natsx", func(b *testing.B) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		pc, sc := connect(b, url), connect(b, url)
		subj := subject(b)
		opts := []natsx.Option{natsx.WithMode(natsx.Core), natsx.WithMaxPending(1 << 20)}
		rx, err := natsx.Listen(ctx, sc, subj, codec.RawCopy{}, opts...)
		if err != nil {
			b.Fatal(err)
		}
		defer rx.Close()
		sc.Flush()
		tx, err := natsx.Dial(ctx, pc, subj, codec.Raw{}, opts...)
		if err != nil {
			b.Fatal(err)
		}
		var got atomic.Int64
		go func() {
			for {
				if _, err := rx.Recv(ctx); err != nil && ctx.Err() != nil {
					return
				}
				got.Add(1)
			}
		}()
		b.ResetTimer()
		for range b.N {
			if err := tx.Send(ctx, p); err != nil {
				b.Fatal(err)
			}
		}
		if err := tx.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		waitCount(&got, int64(b.N))
		b.ReportMetric(float64(int64(b.N)-got.Load()), "lost")
	})
}

// waitCount waits until got reaches n or stops growing for 500ms.
func waitCount(got *atomic.Int64, n int64) {
	prev, still := int64(-1), 0
	for got.Load() < n && still < 50 {
		time.Sleep(10 * time.Millisecond)
		if g := got.Load(); g == prev {
			still++
		} else {
			prev, still = g, 0
		}
	}
}
