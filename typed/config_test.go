package typed_test

import (
	"io"
	"os"
	"runtime"
	"testing"

	"github.com/zerobuffer/zerobuffer-go/codec/msgpack"
	"github.com/zerobuffer/zerobuffer-go/core"
	"github.com/zerobuffer/zerobuffer-go/platform"
	"github.com/zerobuffer/zerobuffer-go/typed"
)

// TestListen_ZeroConfig: typed.Listen with a zero core.BufferConfig gets
// the core's defaults (1 MiB ring, 4 KiB metadata) and carries messages.
func TestListen_ZeroConfig(t *testing.T) {
	ctx := testCtx(t)
	name := bufferName(t)
	rx, err := typed.Listen(name, core.BufferConfig{}, msgpack.New[Small]())
	if err != nil {
		t.Fatalf("Listen with a zero BufferConfig: %v", err)
	}
	defer rx.Close()
	tx, err := typed.Dial(ctx, name, msgpack.New[Small]())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tx.Writer().MaxFrameSize(), core.DefaultPayloadSize-16; got != want {
		t.Errorf("MaxFrameSize %d, want %d", got, want)
	}
	if runtime.GOOS == "linux" {
		n, err := platform.ObjectNames(name, platform.Dirs{})
		if err != nil {
			t.Fatal(err)
		}
		if st, err := os.Stat(n.Shm); err != nil || st.Size() != 128+core.DefaultMetadataSize+core.DefaultPayloadSize {
			t.Errorf("segment: %v, %v; want %d bytes", st.Size(), err, 128+core.DefaultMetadataSize+core.DefaultPayloadSize)
		}
	}
	for i := range 3 {
		if err := tx.Send(ctx, Small{Seq: uint64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	tx.Close()
	for i := range 3 {
		v, err := rx.Recv(ctx)
		if err != nil || v.Seq != uint64(i) {
			t.Fatalf("Recv %d: %+v, %v", i, v, err)
		}
	}
	if _, err := rx.Recv(ctx); err != io.EOF {
		t.Errorf("after the sender's Close: %v, want io.EOF", err)
	}
}

// TestStats_SenderReceiver: the typed sides report the core's counters.
func TestStats_SenderReceiver(t *testing.T) {
	ctx := testCtx(t)
	rx, tx := smallPair(t, 4096)
	for i := range 5 {
		if err := tx.Send(ctx, Small{Seq: uint64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	for range 5 {
		if _, err := rx.Recv(ctx); err != nil {
			t.Fatal(err)
		}
	}
	ts, rs := tx.Stats(), rx.Stats()
	if ts.Frames != 5 || rs.Frames != 5 || ts.Bytes != rs.Bytes || ts.Bytes == 0 || !ts.PeerAlive || !rs.PeerAlive {
		t.Errorf("sender %+v, receiver %+v", ts, rs)
	}
}
