package core

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zerobuffer/zerobuffer-go/internal/testproc"
)

func init() { childRoles["bench-reader"] = roleBenchReader }

var benchSizes = []int{64, 1 << 10, 64 << 10, 1 << 20}

func sizeLabel(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%dMiB", n>>20)
	case n >= 1<<10:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}

func ringFor(size int) int { return max(4<<20, 4*(size+16)) }

// roleBenchReader: name ring count — reads count frames, sums one byte of
// each so nothing is optimised away, and reports the sum.
func roleBenchReader(c *testproc.Child, a []string) int {
	r, err := NewReader(a[0], BufferConfig{PayloadSize: atoi(a[1])})
	if err != nil {
		c.Printf("fail create: %v", err)
		return 1
	}
	defer r.Close()
	c.Printf("ready")
	count := atoi(a[2])
	var sum uint64
	ctx := context.Background()
	for i := 0; i < count; i++ {
		f, err := r.ReadFrame(ctx)
		if err != nil {
			c.Printf("fail read %d: %v", i, err)
			return 1
		}
		d := f.Data()
		sum += uint64(d[0]) + uint64(d[len(d)-1])
		f.Release()
	}
	c.Printf("sum %d", sum)
	return 0
}

// BenchmarkCrossProcess measures one-way throughput from this process
// (writer) to a reader process, per frame size and write path, and the
// same transfer through an in-process Go channel in the same run
// (path=gochan) as the baseline. Allocations are the writer's.
func BenchmarkCrossProcess(b *testing.B) {
	for _, size := range benchSizes {
		for _, path := range []string{"gochan", "copy", "reserve", "batch"} {
			b.Run(fmt.Sprintf("size=%s/path=%s", sizeLabel(size), path), func(b *testing.B) {
				b.SetBytes(int64(size))
				b.ReportAllocs()
				if path == "gochan" {
					benchGoChan(b, size)
					return
				}
				benchZB(b, size, path)
			})
		}
	}
}

func benchZB(b *testing.B, size int, path string) {
	name := testName(b)
	p := testproc.Start(b, "bench-reader", name, strconv.Itoa(ringFor(size)), strconv.Itoa(b.N))
	p.Expect("ready", 10*time.Second)
	w := mustWriter(b, name)
	src := make([]byte, size)
	for i := range src {
		src[i] = byte(i)
	}
	ctx := context.Background()
	var want uint64
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		var err error
		switch path {
		case "reserve":
			var buf []byte
			if buf, err = w.Reserve(ctx, size); err == nil {
				buf[0], buf[size-1] = byte(i), byte(i>>8)
				err = w.Commit()
			}
		case "batch":
			src[0], src[size-1] = byte(i), byte(i>>8)
			err = w.AppendFrame(ctx, src)
			if err == nil && i%64 == 63 {
				err = w.Flush()
			}
		default:
			src[0], src[size-1] = byte(i), byte(i>>8)
			err = w.WriteFrame(ctx, src)
		}
		if err != nil {
			b.Fatalf("frame %d: %v", i, err)
		}
		want += uint64(byte(i)) + uint64(byte(i>>8))
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	line := p.Expect("sum", time.Minute)
	b.StopTimer()
	if code, err := p.Wait(10 * time.Second); code != 0 || err != nil {
		b.Fatalf("reader process: exit %d, %v", code, err)
	}
	reportRate(b, time.Since(start))
	if got := strings.TrimPrefix(line, "sum "); got != strconv.FormatUint(want, 10) {
		b.Fatalf("reader checksum %s, want %d", got, want)
	}
}

// benchGoChan sends size-byte messages through a buffered channel to a
// receiving goroutine. The sender copies into buffers from a ring large
// enough that none is reused while in flight (no allocation, no race).
func benchGoChan(b *testing.B, size int) {
	const capacity = 256
	bufs := make([][]byte, capacity+2)
	for i := range bufs {
		bufs[i] = make([]byte, size)
	}
	src := make([]byte, size)
	ch := make(chan []byte, capacity)
	done := make(chan uint64)
	go func() {
		var sum uint64
		for m := range ch {
			sum += uint64(m[0]) + uint64(m[len(m)-1])
		}
		done <- sum
	}()
	var want uint64
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		src[0], src[size-1] = byte(i), byte(i>>8)
		m := bufs[i%len(bufs)]
		copy(m, src)
		ch <- m
		want += uint64(byte(i)) + uint64(byte(i>>8))
	}
	close(ch)
	got := <-done
	b.StopTimer()
	reportRate(b, time.Since(start))
	if got != want {
		b.Fatalf("checksum %d, want %d", got, want)
	}
}

func reportRate(b *testing.B, d time.Duration) {
	b.ReportMetric(float64(b.N)/d.Seconds(), "frames/s")
}

// BenchmarkInProcess runs writer and reader as two goroutines of this
// process on two mappings of one buffer; it isolates the library's own
// per-frame cost from process scheduling.
func BenchmarkInProcess(b *testing.B) {
	for _, size := range []int{64, 1 << 10} {
		b.Run("size="+sizeLabel(size), func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			name := testName(b)
			r := mustReader(b, name, 0, ringFor(size))
			w := mustWriter(b, name)
			done := make(chan error, 1)
			go func() {
				ctx := context.Background()
				for i := 0; i < b.N; i++ {
					f, err := r.ReadFrame(ctx)
					if err != nil {
						done <- err
						return
					}
					f.Release()
				}
				done <- nil
			}()
			src := make([]byte, size)
			ctx := context.Background()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := w.WriteFrame(ctx, src); err != nil {
					b.Fatal(err)
				}
			}
			if err := <-done; err != nil {
				b.Fatal(err)
			}
		})
	}
}

// BenchmarkSide measures the CPU cost of one side's per-frame path for
// 64-byte frames in a single goroutine, without any cross-core traffic:
// the writer's paths with the reader's drain outside the timer, the
// reader's with the writer's fill outside it, and the batch paths (both
// sides timed, per frame).
func BenchmarkSide(b *testing.B) {
	const per = 4096 // frames per fill of the 1 MiB ring
	src := make([]byte, 64)
	frames := make([][]byte, 64)
	for i := range frames {
		frames[i] = src
	}
	ctx := context.Background()
	drain := func(b *testing.B, r *Reader, n int) {
		for got := 0; got < n; {
			k, err := r.ReadBatch(ctx, 0, func([]byte, uint64) error { return nil })
			if err != nil {
				b.Fatal(err)
			}
			got += k
		}
	}
	fill := func(b *testing.B, w *Writer, n int) {
		for j := 0; j < n; j += len(frames) {
			if _, err := w.WriteFrames(ctx, frames); err != nil {
				b.Fatal(err)
			}
		}
	}
	run := func(name string, body func(b *testing.B, r *Reader, w *Writer, n int)) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			name := testName(b)
			r := mustReader(b, name, 0, 1<<20)
			w := mustWriter(b, name)
			b.ResetTimer()
			for done := 0; done < b.N; done += per {
				body(b, r, w, min(per, b.N-done))
			}
		})
	}
	run("side=write/path=WriteFrame", func(b *testing.B, r *Reader, w *Writer, n int) {
		for range n {
			if err := w.WriteFrame(ctx, src); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		drain(b, r, n)
		b.StartTimer()
	})
	run("side=write/path=Reserve", func(b *testing.B, r *Reader, w *Writer, n int) {
		for range n {
			buf, err := w.Reserve(ctx, len(src))
			if err != nil {
				b.Fatal(err)
			}
			copy(buf, src)
			if err := w.Commit(); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		drain(b, r, n)
		b.StartTimer()
	})
	run("side=read/path=ReadFrame", func(b *testing.B, r *Reader, w *Writer, n int) {
		b.StopTimer()
		fill(b, w, n)
		b.StartTimer()
		for range n {
			f, err := r.ReadFrame(ctx)
			if err != nil {
				b.Fatal(err)
			}
			f.Release()
		}
	})
	run("side=both/path=batch", func(b *testing.B, r *Reader, w *Writer, n int) {
		fill(b, w, n)
		drain(b, r, n)
	})
}
