package core

import (
	"context"
	"errors"
	"io/fs"
	"testing"
	"time"
)

// TestNewReader_WaitsForOldHolder: on Windows the section of a closed
// buffer lives while its writer still holds it. A new Reader of the same
// name waits for the writer to close it and then creates a fresh buffer
// (which a new writer uses normally); a holder that never lets go makes
// NewReader fail after its bounded wait with an error matching
// fs.ErrExist.
func TestNewReader_WaitsForOldHolder(t *testing.T) {
	cfg := BufferConfig{PayloadSize: 4096}
	t.Run("released", func(t *testing.T) {
		name, w := heldByWriter(t, cfg)
		go func() {
			time.Sleep(300 * time.Millisecond)
			w.Close()
		}()
		r2 := mustReader(t, name, 0, 4096)
		w2 := mustWriter(t, name)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := w2.WriteFrame(ctx, []byte("fresh")); err != nil {
			t.Fatal(err)
		}
		f, err := r2.ReadFrame(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if string(f.Data()) != "fresh" || f.Sequence() != 1 {
			t.Fatalf("got %q seq %d, want \"fresh\" seq 1", f.Data(), f.Sequence())
		}
		f.Release()
	})
	t.Run("held", func(t *testing.T) {
		name, w := heldByWriter(t, cfg)
		start := time.Now()
		r2, err := NewReader(name, cfg)
		waited := time.Since(start)
		if err == nil {
			r2.Close()
			t.Fatal("NewReader succeeded while the old section is held")
		}
		if !errors.Is(err, fs.ErrExist) {
			t.Fatalf("error %v does not match fs.ErrExist", err)
		}
		if waited < defaultHeldWait {
			t.Fatalf("failed after %v, before its %v wait", waited, defaultHeldWait)
		}
		w.Close()
		mustReader(t, name, 0, 4096) // free again once the holder closed
	})
}

// heldByWriter creates a buffer, connects a writer and closes the reader:
// the writer is then the only holder of the buffer's section.
func heldByWriter(t *testing.T, cfg BufferConfig) (string, *Writer) {
	t.Helper()
	name := testName(t)
	r, err := NewReader(name, cfg)
	if err != nil {
		t.Fatal(err)
	}
	w := mustWriter(t, name)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	return name, w
}
