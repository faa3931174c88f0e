package core

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/zerobuffer/zerobuffer-go/internal/testproc"
)

func TestMain(m *testing.M) {
	testproc.Main(childRoles)
	goleak.VerifyTestMain(m)
}

// testName returns a buffer name unique to this test and process, and
// fails the test if any object of that name is left behind at the end.
func testName(t testing.TB) string {
	t.Helper()
	name := testproc.Name(t, "zbt", 60)
	t.Cleanup(func() {
		time.Sleep(time.Millisecond)
		for _, p := range testproc.Leftovers(name) {
			t.Errorf("left behind: %s", p)
			_ = os.Remove(p)
		}
	})
	return name
}

// ctxT returns a context that ends with the test or after d.
func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// pattern fills b with the golden-image pattern: byte i of frame seq s is
// (s + i) mod 256.
func pattern(b []byte, seq uint64) {
	for i := range b {
		b[i] = byte(seq + uint64(i))
	}
}

// checkPattern reports the first byte that breaks the pattern, or -1.
func checkPattern(b []byte, seq uint64) int {
	for i := range b {
		if b[i] != byte(seq+uint64(i)) {
			return i
		}
	}
	return -1
}

// fillRing writes size-byte frames until a write would block (the reader
// holds or has not read the rest), and returns how many it wrote.
func fillRing(t testing.TB, w *Writer, size int) int {
	t.Helper()
	n := 0
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		err := w.WriteFrame(ctx, make([]byte, size))
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			if !errors.Is(err, ErrBufferFull) {
				t.Errorf("full ring: %v does not match ErrBufferFull", err)
			}
			return n
		}
		if err != nil {
			t.Fatalf("filling the ring: %v", err)
		}
		n++
	}
}

func mustReader(t testing.TB, name string, meta, payload int, opts ...Option) *Reader {
	t.Helper()
	r, err := NewReader(name, BufferConfig{MetadataSize: meta, PayloadSize: payload}, opts...)
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func mustWriter(t testing.TB, name string, opts ...Option) *Writer {
	t.Helper()
	w, err := NewWriter(name, opts...)
	if err != nil {
		t.Fatalf("NewWriter: %v", err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// connectWriter retries NewWriter until the reader (another process) has
// created the buffer.
func connectWriter(name string, timeout time.Duration, opts ...Option) (*Writer, error) {
	deadline := time.Now().Add(timeout)
	for {
		w, err := NewWriter(name, opts...)
		if err == nil || time.Now().After(deadline) {
			return w, err
		}
		time.Sleep(2 * time.Millisecond)
	}
}
