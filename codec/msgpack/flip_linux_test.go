package msgpack_test

import (
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/zerobuffer/zerobuffer-go/codec"
	"github.com/zerobuffer/zerobuffer-go/codec/msgpack"
)

// sharedFrame returns a copy of frame in a MAP_SHARED mapping, as a frame
// in a ring is, and unmaps it at cleanup. The race detector does not
// watch such memory, as it does not watch the ring.
func sharedFrame(tb testing.TB, frame []byte) []byte {
	tb.Helper()
	m, err := syscall.Mmap(-1, 0, 4096, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_SHARED)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { syscall.Munmap(m) })
	return m[:copy(m, frame):len(frame)]
}

// flipper rewrites b[at:at+len(a)] with a and with b2 in turn until stopped,
// like a hostile writer that keeps changing a published frame.
func flipper(b []byte, at int, a, b2 []byte) (stop func()) {
	var done atomic.Bool
	var wg sync.WaitGroup
	wg.Go(func() {
		for !done.Load() {
			copy(b[at:], a)
			copy(b[at:], b2)
		}
		copy(b[at:], a)
	})
	return func() { done.Store(true); wg.Wait() }
}

// TestDecode_ByteFlippingWriter: a writer that flips an array count
// between a valid 1 and 2^20 while the frame is decoded can make Decode
// fail, but never allocate more than a small multiple of the frame's size
// per message (a check of shared memory followed by a second read of it
// let the decoder size a slice from the flipped count) and never panic.
func TestDecode_ByteFlippingWriter(t *testing.T) {
	type vals struct{ Vals []int64 }
	c := msgpack.New[vals]()
	frame := []byte{0x81, 0xa4, 'V', 'a', 'l', 's', 0xdd, 0, 0, 0, 1, 0x01}
	if v, err := c.Decode(frame); err != nil || len(v.Vals) != 1 || v.Vals[0] != 1 {
		t.Fatalf("valid frame: %v, %v", v, err)
	}
	shm := sharedFrame(t, frame)
	stop := flipper(shm, 7, []byte{0, 0, 0, 1}, []byte{0, 0x10, 0, 0})
	defer stop()

	const batch, batches = 100, 300
	const perMsg = 64 * 12 // a small multiple of the frame size
	var ms runtime.MemStats
	okCount, errCount := 0, 0
	for range batches {
		runtime.ReadMemStats(&ms)
		before := ms.TotalAlloc
		for range batch {
			v, err := c.Decode(shm)
			switch {
			case err == nil && len(v.Vals) <= 1:
				okCount++
			case errors.Is(err, codec.ErrInvalid):
				errCount++
			default:
				t.Fatalf("Decode = %d values, %v", len(v.Vals), err)
			}
		}
		runtime.ReadMemStats(&ms)
		// 64 KiB covers pooled decoder state the race detector's sync.Pool
		// drops at random; one decode sized by the flipped count is 8 MiB.
		if got := ms.TotalAlloc - before; got > batch*perMsg+64<<10 {
			t.Fatalf("%d decodes of a %d-byte frame allocated %d bytes", batch, len(frame), got)
		}
	}
	t.Logf("%d decoded, %d refused", okCount, errCount)
}
