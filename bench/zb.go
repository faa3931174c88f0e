package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/zerobuffer/zerobuffer-go/core"
	"github.com/zerobuffer/zerobuffer-go/platform"
)

// The zerobuffer transports. The child process is always the buffer's
// reader (the owner, as in a real deployment the consumer creates the
// buffer); the parent connects as the writer. Ping-pong uses two
// buffers: requests to the child, replies back to a reader in the
// parent. Every path writes the full message once: WriteFrame copies a
// stamped buffer, Reserve/Commit fills the reserved slot from the
// template, WriteFrames copies and publishes a batch, which the child drains with
// ReadBatch.

const zbMetadataSize = 64

var zbSeq atomic.Uint64

func zbName(tag string) string {
	return "zbbench-" + strconv.Itoa(os.Getpid()) + "-" + tag + "-" + strconv.FormatUint(zbSeq.Add(1), 10)
}

// removeBuffer unlinks whatever a crashed peer may have left of a buffer
// this run created. It is a no-op after a clean Close.
func removeBuffer(name string) {
	n, err := platform.UnixNames(name, platform.Dirs{})
	if err != nil {
		return
	}
	for _, p := range []string{n.Shm, n.SemW, n.SemR, n.Lock, n.WriterLock} {
		_ = platform.Remove(p)
	}
}

func zbConfig(size int) core.BufferConfig {
	return core.BufferConfig{MetadataSize: zbMetadataSize, PayloadSize: ringBytes(size)}
}

// zbSender returns the send function of a write path, and the function
// that publishes what is still pending at the end.
func zbSender(ctx context.Context, w *core.Writer, mode string, m *message) (send func(uint64) error, flush func() error, err error) {
	size := len(m.tmpl)
	buf := slices.Clone(m.tmpl)
	switch mode {
	case TransportZBCopy:
		return func(seq uint64) error {
			stamp(buf, seq)
			return w.WriteFrame(ctx, buf)
		}, func() error { return nil }, nil
	case TransportZBZeroCopy:
		return func(seq uint64) error {
			b, err := w.Reserve(ctx, size)
			if err != nil {
				return err
			}
			m.fill(b, seq)
			return w.Commit()
		}, func() error { return nil }, nil
	case TransportZBBatch:
		k := uint64(batchLen(size))
		bufs := make([][]byte, k)
		for i := range bufs {
			bufs[i] = slices.Clone(m.tmpl)
		}
		var n uint64
		flush := func() error {
			_, err := w.WriteFrames(ctx, bufs[:n])
			n = 0
			return err
		}
		return func(seq uint64) error {
			stamp(bufs[n], seq)
			if n++; n == k {
				return flush()
			}
			return nil
		}, flush, nil
	}
	return nil, nil, fmt.Errorf("bench: unknown zerobuffer path %q", mode)
}

// zbThroughput streams messages to a child reader for d.
func zbThroughput(ctx context.Context, mode string, size int, d time.Duration) (sideResult, sideResult, error) {
	name := zbName("tp")
	defer removeBuffer(name)
	p, err := startPeer(job{Role: "zb-recv", Name: name, Size: size, Ring: ringBytes(size), Duration: d, Mode: mode})
	if err != nil {
		return sideResult{}, sideResult{}, err
	}
	defer p.stop()
	if _, err := p.ready(ctx); err != nil {
		p.kill()
		return sideResult{}, sideResult{}, err
	}
	w, err := core.NewWriter(name)
	if err != nil {
		p.kill()
		return sideResult{}, sideResult{}, err
	}
	send, flush, err := zbSender(ctx, w, mode, newMessage(size))
	if err != nil {
		w.Close()
		p.kill()
		return sideResult{}, sideResult{}, err
	}
	sr, err := sendLoop(ctx, size, d, send)
	err = errors.Join(err, flush(), w.Close())
	if err != nil {
		p.kill()
		return sr, sideResult{}, err
	}
	rr, err := p.result(ctx, resultTimeout(d))
	return sr, rr, err
}

// childContext bounds a child's blocking calls, in case the parent
// vanished without the kernel killing us.
func childContext(j job) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 2*time.Minute+4*j.Duration)
}

// readVerified reads frame seq, checks it and releases it.
func readVerified(ctx context.Context, r *core.Reader, m *message, seq uint64) error {
	f, err := r.ReadFrame(ctx)
	if err != nil {
		return err
	}
	err = m.verify(f.Data(), seq)
	if err == nil && f.Sequence() != seq {
		err = fmt.Errorf("bench: frame sequence %d, want %d", f.Sequence(), seq)
	}
	return errors.Join(err, f.Release())
}

func zbRecvChild(_ context.Context, j job, ready func(string) error) (sideResult, error) {
	ctx, cancel := childContext(j)
	defer cancel()
	r, err := core.NewReader(j.Name, zbConfig(j.Size))
	if err != nil {
		return sideResult{}, err
	}
	defer r.Close()
	if err := ready(""); err != nil {
		return sideResult{}, err
	}
	m := newMessage(j.Size)
	if j.Mode == TransportZBBatch {
		return recvBatches(ctx, r, m, j.Size)
	}
	return recvLoop(j.Size, func(seq uint64) error { return readVerified(ctx, r, m, seq) })
}

// recvBatches is the receiving side of the batch path: ReadBatch, one
// lock per batch, verifying every message as the other paths do.
func recvBatches(ctx context.Context, r *core.Reader, m *message, size int) (sideResult, error) {
	t := newRecvTimer(size)
	var next uint64 = 1
	check := func(data []byte, seq uint64) error {
		if seq != next {
			return fmt.Errorf("bench: frame sequence %d, want %d", seq, next)
		}
		next++
		t.tick()
		return m.verify(data, seq)
	}
	for {
		_, err := r.ReadBatch(ctx, 0, check)
		if errors.Is(err, io.EOF) {
			return t.result(), nil
		}
		if err != nil {
			return t.result(), err
		}
	}
}

// zbRTT measures ping-pong round trips with a child echo server.
func zbRTT(ctx context.Context, mode string, size int, d, gap time.Duration) (*Histogram, sideResult, sideResult, error) {
	return zbRTTIdle(ctx, mode, size, d, gap, core.IdleSpinThenSleep, false)
}

// zbRTTIdle is zbRTT with both sides using idle strategy idle; pinned
// puts this process on CPU 0 and the echo child on CPU 1 for the case.
func zbRTTIdle(ctx context.Context, mode string, size int, d, gap time.Duration, idle core.IdleStrategy, pinned bool) (*Histogram, sideResult, sideResult, error) {
	req, respName := zbName("req"), zbName("resp")
	defer removeBuffer(req)
	defer removeBuffer(respName)
	opt := core.WithIdleStrategy(idle)
	resp, err := core.NewReader(respName, zbConfig(size), opt)
	if err != nil {
		return nil, sideResult{}, sideResult{}, err
	}
	defer resp.Close()
	j := job{Role: "zb-echo", Name: req, Name2: respName, Size: size, Mode: mode, Duration: d, Idle: idle.String()}
	if pinned {
		restore, err := platform.PinProcess(0)
		if err != nil {
			return nil, sideResult{}, sideResult{}, err
		}
		defer restore()
		j.CPU = 2 // CPU 1
	}
	p, err := startPeer(j)
	if err != nil {
		return nil, sideResult{}, sideResult{}, err
	}
	defer p.stop()
	if _, err := p.ready(ctx); err != nil {
		p.kill()
		return nil, sideResult{}, sideResult{}, err
	}
	w, err := core.NewWriter(req, opt)
	if err != nil {
		p.kill()
		return nil, sideResult{}, sideResult{}, err
	}
	m := newMessage(size)
	send, _, err := zbSender(ctx, w, mode, m)
	if err != nil {
		w.Close()
		p.kill()
		return nil, sideResult{}, sideResult{}, err
	}
	h, client, err := rttLoop(ctx, d, gap, func(seq uint64) error {
		if err := send(seq); err != nil {
			return err
		}
		return readVerified(ctx, resp, m, seq)
	})
	if err = errors.Join(err, w.Close()); err != nil {
		p.kill()
		return h, client, sideResult{}, err
	}
	server, err := p.result(ctx, resultTimeout(d))
	return h, client, server, err
}

func zbEchoChild(_ context.Context, j job, ready func(string) error) (sideResult, error) {
	ctx, cancel := childContext(j)
	defer cancel()
	idle := core.IdleSpinThenSleep
	if j.Idle != "" {
		var err error
		if idle, err = core.ParseIdleStrategy(j.Idle); err != nil {
			return sideResult{}, err
		}
	}
	if j.CPU > 0 {
		if _, err := platform.PinProcess(j.CPU - 1); err != nil {
			return sideResult{}, err
		}
	}
	opt := core.WithIdleStrategy(idle)
	r, err := core.NewReader(j.Name, zbConfig(j.Size), opt)
	if err != nil {
		return sideResult{}, err
	}
	defer r.Close()
	w, err := core.NewWriter(j.Name2, opt)
	if err != nil {
		return sideResult{}, err
	}
	defer w.Close()
	if err := ready(""); err != nil {
		return sideResult{}, err
	}
	return echoLoop(func(uint64) error {
		f, err := r.ReadFrame(ctx)
		if err != nil {
			return err
		}
		data := f.Data()
		if j.Mode == TransportZBZeroCopy {
			var b []byte
			if b, err = w.Reserve(ctx, len(data)); err == nil {
				copy(b, data)
				err = w.Commit()
			}
		} else {
			err = w.WriteFrame(ctx, data)
		}
		return errors.Join(err, f.Release())
	})
}

// zbIdleReaderCPU measures the CPU a reader uses while it waits in
// ReadFrame for idle seconds with a writer connected that sends nothing.
func zbIdleReaderCPU(ctx context.Context, idle time.Duration) (sideResult, error) {
	name := zbName("idle")
	defer removeBuffer(name)
	p, err := startPeer(job{Role: "zb-idle", Name: name, Size: 64, Duration: idle})
	if err != nil {
		return sideResult{}, err
	}
	defer p.stop()
	if _, err := p.ready(ctx); err != nil {
		p.kill()
		return sideResult{}, err
	}
	w, err := core.NewWriter(name)
	if err != nil {
		p.kill()
		return sideResult{}, err
	}
	defer w.Close()
	return p.result(ctx, resultTimeout(idle))
}

func zbIdleChild(_ context.Context, j job, ready func(string) error) (sideResult, error) {
	ctx, cancel := childContext(j)
	defer cancel()
	r, err := core.NewReader(j.Name, zbConfig(j.Size))
	if err != nil {
		return sideResult{}, err
	}
	defer r.Close()
	if err := ready(""); err != nil {
		return sideResult{}, err
	}
	if err := r.WaitWriter(ctx); err != nil {
		return sideResult{}, err
	}
	idle, cancelIdle := context.WithTimeout(ctx, j.Duration)
	defer cancelIdle()
	c0, t0 := cpuTime(), time.Now()
	f, err := r.ReadFrame(idle)
	res := sideResult{CPU: cpuTime() - c0, CPUWall: time.Since(t0), Elapsed: time.Since(t0)}
	if err == nil {
		_ = f.Release()
		return res, errors.New("bench: idle reader received a frame")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		return res, err
	}
	return res, nil
}
