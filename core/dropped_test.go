package core

import (
	"errors"
	"io"
	"runtime"
	"testing"
	"time"
)

// TestWriter_DroppedWithoutClose: a Writer that becomes unreachable
// without Close is released by its cleanup: its monitor goroutine ends,
// its writer lock is given up so that a new writer connects, and the
// reader gets the frame it published, then io.EOF.
func TestWriter_DroppedWithoutClose(t *testing.T) {
	name := testName(t)
	r := mustReader(t, name, 0, 4096)
	ctx := ctxT(t, 10*time.Second)
	before := runtime.NumGoroutine()
	func() {
		w, err := NewWriter(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.WriteFrame(ctx, []byte("last words")); err != nil {
			t.Fatal(err)
		}
		// w is dropped here, with its monitor goroutine running.
	}()
	if _, err := NewWriter(name); !errors.Is(err, ErrWriterExists) {
		t.Fatalf("second writer while the first is reachable or not yet cleaned: %v, want ErrWriterExists", err)
	}

	for deadline := time.Now().Add(5 * time.Second); r.WriterPID() != 0; time.Sleep(5 * time.Millisecond) {
		runtime.GC() // the first GC queues the cleanup, which runs on its own goroutine
		if time.Now().After(deadline) {
			t.Fatal("the dropped writer is still attached after 5s of GC: not released")
		}
	}
	// Its session: the frame it published, then the end of the stream.
	f, err := r.ReadFrame(ctx)
	if err != nil || string(f.Data()) != "last words" {
		t.Fatalf("frame of the dropped writer: %v", err)
	}
	f.Release()
	if _, err := r.ReadFrame(ctx); !errors.Is(err, io.EOF) {
		t.Fatalf("after the dropped writer's frame: %v, want io.EOF", err)
	}

	// A new writer connects (the cleanup gives up the writer lock just
	// after it zeroes writer_pid).
	var w2 *Writer
	for deadline := time.Now().Add(5 * time.Second); w2 == nil; time.Sleep(5 * time.Millisecond) {
		var err error
		if w2, err = NewWriter(name); err != nil && (!errors.Is(err, ErrWriterExists) || time.Now().After(deadline)) {
			t.Fatalf("NewWriter after the drop: %v", err)
		}
	}
	t.Cleanup(func() { w2.Close() })
	if err := r.WaitWriter(ctx); err != nil {
		t.Fatal(err)
	}
	if err := w2.WriteFrame(ctx, []byte("next")); err != nil {
		t.Fatal(err)
	}
	if f, err := r.ReadFrame(ctx); err != nil || string(f.Data()) != "next" || f.Sequence() != 1 {
		t.Fatalf("new writer's frame: %v", err)
	} else {
		f.Release()
	}

	// Goroutines: the dropped writer's monitor is gone; w2 has one of its
	// own, which Close ends.
	if err := w2.Close(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		n := runtime.NumGoroutine()
		if n <= before {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines, %d before the dropped writer", n, before)
		}
	}
}
