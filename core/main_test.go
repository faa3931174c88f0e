package core

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/zerobuffer/zerobuffer-go/internal/testproc"
)

func TestMain(m *testing.M) {
	testproc.Main(childRoles)
	goleak.VerifyTestMain(m)
}

var nameSeq atomic.Int64

// testName returns a buffer name unique to this test and process, and
// fails the test if any object of that name is left behind at the end.
func testName(t testing.TB) string {
	t.Helper()
	base := strings.NewReplacer("/", "-", " ", "_").Replace(t.Name())
	if len(base) > 60 {
		base = base[:60]
	}
	name := fmt.Sprintf("zbt-%s-%d-%d", base, os.Getpid(), nameSeq.Add(1))
	t.Cleanup(func() {
		time.Sleep(time.Millisecond)
		for _, p := range leftovers(name) {
			t.Errorf("left behind: %s", p)
			_ = os.Remove(p)
		}
	})
	return name
}

// leftovers lists every object of name that still exists.
func leftovers(name string) []string {
	var out []string
	for _, p := range []string{
		"/dev/shm/" + name,
		"/dev/shm/sem.sem-w-" + name,
		"/dev/shm/sem.sem-r-" + name,
		filepath.Join("/tmp/zerobuffer", name+".lock"),
		filepath.Join("/tmp/zerobuffer/writer", name+".lock"),
	} {
		if _, err := os.Lstat(p); err == nil {
			out = append(out, p)
		}
	}
	return out
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
