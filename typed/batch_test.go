package typed_test

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"testing"
	"time"

	"github.com/zerobuffer/zerobuffer-go/codec"
	"github.com/zerobuffer/zerobuffer-go/codec/msgpack"
	"github.com/zerobuffer/zerobuffer-go/core"
	"github.com/zerobuffer/zerobuffer-go/platform"
	"github.com/zerobuffer/zerobuffer-go/typed"
)

// TestCrossProcess_SendAll: 10^5 messages sent with SendAll by a child
// process arrive complete and in order, raw and msgpack.
func TestCrossProcess_SendAll(t *testing.T) {
	t.Parallel()
	t.Run("raw", func(t *testing.T) {
		t.Parallel()
		name := bufferName(t)
		rx, err := typed.Listen(name, core.BufferConfig{PayloadSize: testRing}, codec.RawCopy{})
		if err != nil {
			t.Fatal(err)
		}
		defer rx.Close()
		crossProcess(t, name, "raw-batch", "close", func(ctx context.Context, i int) error {
			v, err := rx.Recv(ctx)
			if err != nil {
				return err
			}
			return checkRaw(i, v)
		})
	})
	t.Run("msgpack", func(t *testing.T) {
		t.Parallel()
		name := bufferName(t)
		rx, err := typed.Listen(name, core.BufferConfig{PayloadSize: testRing}, msgpack.New[Small]())
		if err != nil {
			t.Fatal(err)
		}
		defer rx.Close()
		crossProcess(t, name, "msgpack-batch", "close", func(ctx context.Context, i int) error {
			v, err := rx.Recv(ctx)
			if err != nil {
				return err
			}
			return checkSmall(i, v)
		})
	})
}

// TestSendAll_ReaderKilled: a receiver process killed in the middle of a
// SendAll of 10^6 messages gives the sender core.ErrReaderDead, promptly.
func TestSendAll_ReaderKilled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	name := bufferName(t)
	p := startPeer(t, child{role: "recv", codec: "raw", size: "small"}, name)
	t.Cleanup(func() { removeBuffer(t, name) }) // the killed reader cannot
	if l := p.line(t); l != "ready" {
		t.Fatalf("child says %q", l)
	}
	tx, err := typed.Dial(ctx, name, codec.Raw{})
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	batch := make([][]byte, 1_000_000)
	for i := range batch {
		batch[i] = rawMsg("small", i, nil)
	}
	type result struct {
		n   int
		err error
		at  time.Time
	}
	done := make(chan result, 1)
	go func() {
		n, err := tx.SendAll(ctx, batch)
		done <- result{n, err, time.Now()}
	}()
	time.Sleep(100 * time.Millisecond) // the batch is under way
	killed := time.Now()
	p.kill(t)
	r := <-done
	if r.err == nil || r.n == len(batch) {
		t.Skipf("the batch finished (%d messages) before the kill; machine too fast for this test", r.n)
	}
	took := r.at.Sub(killed)
	t.Logf("%d of %d messages sent; ErrReaderDead %v after the kill", r.n, len(batch), took)
	if !errors.Is(r.err, core.ErrReaderDead) {
		t.Fatalf("SendAll = %d, %v; want core.ErrReaderDead", r.n, r.err)
	}
	// 250 ms is the target on an idle machine; a loaded 2-core machine
	// gets 4x.
	if took > time.Second {
		t.Fatalf("ErrReaderDead %v after the kill", took)
	}
	if err := tx.Send(ctx, []byte("x")); !errors.Is(err, core.ErrReaderDead) && !errors.Is(err, io.EOF) {
		t.Fatalf("Send after = %v", err)
	}
}

// removeBuffer removes the objects of buffer name left by a killed reader.
func removeBuffer(t *testing.T, name string) {
	names, err := platform.UnixNames(name, platform.Dirs{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{names.Shm, names.SemW, names.SemR, names.Lock, names.WriterLock} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Error(err)
		}
	}
}
