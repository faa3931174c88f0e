package typed_test

import (
	"context"
	"errors"
	"fmt"
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

// TestCrossProcess_RecvBatch: 10^5 messages from a child process, sent
// with SendAll (ending with Close) or one by one (ending with SIGKILL),
// drained with ViewReceiver.RecvBatch through a 64 KiB ring that wraps
// often: every message once, in order, then io.EOF or ErrWriterDead.
func TestCrossProcess_RecvBatch(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ codec, end string }{{"raw-batch", "close"}, {"raw", "hang"}} {
		t.Run(tc.codec+"/"+tc.end, func(t *testing.T) {
			t.Parallel()
			name := bufferName(t)
			rx, err := typed.ListenView(name, core.BufferConfig{PayloadSize: testRing}, codec.Raw{})
			if err != nil {
				t.Fatal(err)
			}
			defer rx.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			p := startPeer(t, child{role: "send", codec: tc.codec, size: "var", end: tc.end, count: crossCount}, name)
			next, batches := 0, 0
			for next < crossCount {
				n, err := rx.RecvBatch(ctx, 0, func(v []byte) error {
					if err := checkRaw(next, v); err != nil {
						return err
					}
					next++
					return nil
				})
				if err != nil {
					t.Fatalf("after message %d: %v\nchild stderr:\n%s", next, err, p.stderr)
				}
				if n < 1 {
					t.Fatalf("RecvBatch returned n = %d without an error", n)
				}
				batches++
			}
			want := io.EOF
			if tc.end == "hang" {
				if l := p.line(t); l != "sent" {
					t.Fatalf("child says %q", l)
				}
				p.kill(t)
				want = core.ErrWriterDead
			}
			if n, err := rx.RecvBatch(ctx, 0, func([]byte) error { return errors.New("a message after the last") }); n != 0 || !errors.Is(err, want) {
				t.Fatalf("after the last message: n = %d, %v, want %v", n, err, want)
			}
			if tc.end == "close" {
				p.wait(t)
			}
			t.Logf("%d messages in %d batches", crossCount, batches)
		})
	}
}

// TestRecvBatch: limit, fn's error, a decode error and the end of the
// stream, in one process.
func TestRecvBatch(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	name := bufferName(t)
	rx, err := typed.ListenView(name, core.BufferConfig{PayloadSize: testRing}, evenDecoder{})
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	tx, err := typed.Dial(ctx, name, codec.Raw{})
	if err != nil {
		t.Fatal(err)
	}
	// Messages 0..9, then an odd-length one (refused by the decoder), then 11..19.
	for i := range 20 {
		m := make([]byte, 2)
		if i == 10 {
			m = make([]byte, 3)
		}
		m[0] = byte(i)
		if err := tx.Send(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Close(); err != nil {
		t.Fatal(err)
	}
	var got []int
	collect := func(v []byte) error { got = append(got, int(v[0])); return nil }
	// The first call only runs the codec check with message 0.
	if n, err := rx.RecvBatch(ctx, 0, collect); n != 1 || err != nil {
		t.Fatalf("first call: n = %d, %v", n, err)
	}
	if n, err := rx.RecvBatch(ctx, 4, collect); n != 4 || err != nil {
		t.Fatalf("limit 4: n = %d, %v", n, err)
	}
	stop := errors.New("stop")
	if n, err := rx.RecvBatch(ctx, 0, func(v []byte) error {
		if v[0] == 7 {
			return stop
		}
		return collect(v)
	}); n != 3 || !errors.Is(err, stop) {
		t.Fatalf("fn's error: n = %d, %v", n, err)
	}
	if n, err := rx.RecvBatch(ctx, 0, collect); n != 3 || !errors.Is(err, codec.ErrInvalid) {
		t.Fatalf("decode error: n = %d, %v (want 8, 9 and the bad message)", n, err)
	}
	if n, err := rx.RecvBatch(ctx, 0, collect); n != 9 || err != nil {
		t.Fatalf("after the decode error: n = %d, %v", n, err)
	}
	if n, err := rx.RecvBatch(ctx, 0, collect); n != 0 || !errors.Is(err, io.EOF) {
		t.Fatalf("end: n = %d, %v", n, err)
	}
	want := []int{0, 1, 2, 3, 4, 5, 6, 8, 9, 11, 12, 13, 14, 15, 16, 17, 18, 19}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("received %v, want %v", got, want)
	}
}

// evenDecoder views raw frames of even length as themselves and refuses
// the others.
type evenDecoder struct{}

func (evenDecoder) Name() string { return codec.RawName }

func (evenDecoder) View(frame []byte) ([]byte, error) {
	if len(frame)%2 != 0 {
		return nil, fmt.Errorf("%w: odd length %d", codec.ErrInvalid, len(frame))
	}
	return frame, nil
}
