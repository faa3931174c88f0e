package sensor_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/zerobuffer/zerobuffer-go/codec"
	"github.com/zerobuffer/zerobuffer-go/codec/flatbuf/sensor"
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

// TestObjectDecoder_ByteFlippingWriter: a writer that flips the values
// vector's length between 1 and 2^20 while the frame is decoded can make
// Decode fail, but never panic (unpacking shared memory after verifying it
// indexed past the frame) nor allocate more than a small multiple of the
// frame's size per message.
func TestObjectDecoder_ByteFlippingWriter(t *testing.T) {
	frame, err := codec.Marshal[*sensor.ReadingT](sensor.NewEncoder(),
		&sensor.ReadingT{Id: 7, Values: []float64{1.5}, Name: "n"})
	if err != nil {
		t.Fatal(err)
	}
	var val [8]byte
	binary.LittleEndian.PutUint64(val[:], math.Float64bits(1.5))
	at := bytes.Index(frame, val[:]) - 4 // the vector's u32 length precedes it
	if at < 0 || binary.LittleEndian.Uint32(frame[at:]) != 1 {
		t.Fatalf("values vector not found in %x", frame)
	}
	shm := sharedFrame(t, frame)
	var done atomic.Bool
	var wg sync.WaitGroup
	wg.Go(func() {
		for !done.Load() {
			binary.LittleEndian.PutUint32(shm[at:], 1<<20)
			binary.LittleEndian.PutUint32(shm[at:], 1)
		}
	})
	defer func() { done.Store(true); wg.Wait() }()

	dec := sensor.NewObjectDecoder()
	const batch, batches = 100, 300
	perMsg := uint64(64 * len(frame))
	var ms runtime.MemStats
	okCount, errCount := 0, 0
	for range batches {
		runtime.ReadMemStats(&ms)
		before := ms.TotalAlloc
		for range batch {
			r, err := dec.Decode(shm)
			switch {
			case err == nil && r.Id == 7 && len(r.Values) <= 1:
				okCount++
			case errors.Is(err, codec.ErrInvalid):
				errCount++
			default:
				t.Fatalf("Decode = %+v, %v", r, err)
			}
		}
		runtime.ReadMemStats(&ms)
		if got := ms.TotalAlloc - before; got > batch*perMsg {
			t.Fatalf("%d decodes of a %d-byte frame allocated %d bytes", batch, len(frame), got)
		}
	}
	t.Logf("%d decoded, %d refused", okCount, errCount)
}
