package bench

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zerobuffer/zerobuffer-go/codec"
	"github.com/zerobuffer/zerobuffer-go/codec/flatbuf/sensor"
	"github.com/zerobuffer/zerobuffer-go/codec/msgpack"
	"github.com/zerobuffer/zerobuffer-go/core"
	"github.com/zerobuffer/zerobuffer-go/internal/typedmsg"
	"github.com/zerobuffer/zerobuffer-go/typed"
)

// The typed cases: a child process sends typed values flat out with
// typed.Sender.Send, one message per call, and this process receives and
// decodes each one with the path a user would take for the codec (Recv
// for msgpack, a view with RecvFunc for raw and FlatBuffers), verifying
// every value against its sequence number: a wrong value fails the run.
// In the same run, the same Go type goes through an in-process buffered
// channel (one sender and one receiver goroutine, the receiver checking
// the value the same way), and for raw and FlatBuffers the same number of
// bytes per frame goes through the core per-frame path
// (core.Writer.WriteFrame into core.Reader.ReadFrame).

// TypedCodecs are the codecs of the typed cases, in report order.
var TypedCodecs = []string{"raw", "msgpack-gen", "msgpack-refl", "flatbuf"}

// TypedConfig configures [RunTyped].
type TypedConfig struct {
	Runs     int           `json:"runs"`     // repetitions of every case (figures are medians); default 3
	Duration time.Duration `json:"duration"` // timed window of each measurement; default 1s
	Sizes    []int         `json:"sizes"`    // nominal message sizes; default 64 B, 1 KiB, 64 KiB, 1 MiB
}

// TypedSample is one run of one codec at one size. Rates are messages per
// second at the receiver; the Received counts are values received and
// verified in the timed window.
type TypedSample struct {
	Msgs         float64 `json:"msgs_per_s"`                // typed Sender -> Receiver across processes
	Received     uint64  `json:"received"`                  // values decoded and verified
	Chan         float64 `json:"chan_msgs_per_s"`           // in-process chan of the same Go type
	ChanReceived uint64  `json:"chan_received"`             // values verified at the chan receiver
	Core         float64 `json:"core_msgs_per_s,omitempty"` // core per-frame path, same frame size (raw, flatbuf)
	CoreReceived uint64  `json:"core_received,omitempty"`   // frames verified on the core path
}

// TypedCase is one codec at one size with its samples, one per run.
type TypedCase struct {
	Codec      string        `json:"codec"`
	Size       int           `json:"size"`        // nominal size
	FrameBytes int           `json:"frame_bytes"` // encoded size of one message (of message 1)
	ChanCap    int           `json:"chan_cap"`    // capacity of the reference channel
	Runs       []TypedSample `json:"runs"`
}

// TypedReport holds every case of [RunTyped].
type TypedReport struct {
	Config TypedConfig `json:"config"`
	Cases  []TypedCase `json:"cases"`
}

// typedCodec is what one codec contributes: the size of its frames, the
// child's sender, this process's receiver and the channel reference.
type typedCodec struct {
	frameBytes func(size int) (int, error)
	send       func(ctx context.Context, j job, ready func(string) error) (sideResult, error)
	// recv opens the receiving side on name and returns the function that
	// receives and verifies message seq, and the closer.
	recv     func(name string, size, frame int) (func(ctx context.Context, seq uint64) error, func() error, error)
	chanRate func(size int, d time.Duration) (float64, uint64, error)
	core     bool // also measured against the core per-frame path
}

var typedCodecs = map[string]typedCodec{
	"raw": {
		frameBytes: func(size int) (int, error) { return size, nil },
		send:       rawSendChild,
		recv:       rawRecv,
		chanRate:   rawChanRate,
		core:       true,
	},
	"msgpack-gen": tickCodec(func(t typedmsg.Tick) typedmsg.Tick { return t },
		func(t typedmsg.Tick) typedmsg.Tick { return t }),
	"msgpack-refl": tickCodec(func(t typedmsg.Tick) typedmsg.TickReflect { return typedmsg.TickReflect(t) },
		func(t typedmsg.TickReflect) typedmsg.Tick { return typedmsg.Tick(t) }),
	"flatbuf": {
		frameBytes: readingFrameBytes,
		send:       readingSendChild,
		recv:       readingRecv,
		chanRate:   readingChanRate,
		core:       true,
	},
}

// typedRoles are the child roles of the typed cases (see runRole).
var typedRoles = map[string]func(context.Context, job, func(string) error) (sideResult, error){
	"typed-core": typedCoreChild,
}

func init() {
	for name, c := range typedCodecs {
		typedRoles["typed-"+name] = c.send
	}
}

// typedChanCap is the capacity of the reference channel: 1024 messages,
// or as many as the ring of the case holds if that is fewer (64 KiB and
// 1 MiB), so that the raw reference keeps no more bytes in flight than the
// ring does: with 1024 distinct 64 KiB buffers its receiver would read
// from memory where the ring's stays in the cache.
func typedChanCap(size int) int { return min(1024, ringCapacity(size)) }

// RunTyped measures every codec of [TypedCodecs] at every size of cfg,
// cfg.Runs times, against a channel of the same Go type and (raw,
// FlatBuffers) the core per-frame path, measured in the same run.
func RunTyped(ctx context.Context, cfg TypedConfig) (*TypedReport, error) {
	if cfg.Runs <= 0 {
		cfg.Runs = 3
	}
	if cfg.Duration <= 0 {
		cfg.Duration = time.Second
	}
	if len(cfg.Sizes) == 0 {
		cfg.Sizes = []int{64, 1 << 10, 64 << 10, 1 << 20}
	}
	for _, s := range cfg.Sizes {
		if s < MinSize {
			return nil, fmt.Errorf("bench: typed size %d is below %d bytes", s, MinSize)
		}
	}
	rep := &TypedReport{Config: cfg}
	for _, size := range cfg.Sizes {
		for _, name := range TypedCodecs {
			fb, err := typedCodecs[name].frameBytes(size)
			if err != nil {
				return nil, err
			}
			rep.Cases = append(rep.Cases, TypedCase{Codec: name, Size: size, FrameBytes: fb, ChanCap: typedChanCap(size)})
		}
	}
	for range cfg.Runs {
		for i := range rep.Cases {
			c := &rep.Cases[i]
			s, err := typedSample(ctx, c, cfg.Duration)
			if err != nil {
				return rep, fmt.Errorf("bench: typed %s %s: %w", c.Codec, FormatSize(c.Size), err)
			}
			c.Runs = append(c.Runs, s)
		}
	}
	return rep, nil
}

// typedSlices is how many slices a run of a typed case splits its time
// into: the typed pair, the channel and the core path take turns, in
// rotating order, so that a change of the machine's speed during the run
// reaches each of them about equally and the ratios of the run compare
// like with like.
const typedSlices = 4

// typedSample measures one case once: typed, channel and core (raw,
// FlatBuffers) in turns of d/typedSlices. Each rate is the mean of its
// slices' rates (equal durations).
func typedSample(ctx context.Context, c *TypedCase, d time.Duration) (TypedSample, error) {
	tc := typedCodecs[c.Codec]
	var s TypedSample
	steps := []func(time.Duration) error{
		func(d time.Duration) error {
			r, n, err := typedPairRate(ctx, "typed-"+c.Codec, c.Size, c.FrameBytes, d, tc.recv)
			s.Msgs, s.Received = s.Msgs+r/typedSlices, s.Received+n
			return err
		},
		func(d time.Duration) error {
			r, n, err := tc.chanRate(c.Size, d)
			if err != nil {
				return fmt.Errorf("chan: %w", err)
			}
			s.Chan, s.ChanReceived = s.Chan+r/typedSlices, s.ChanReceived+n
			return nil
		},
	}
	if tc.core {
		steps = append(steps, func(d time.Duration) error {
			r, n, err := typedPairRate(ctx, "typed-core", c.FrameBytes, c.FrameBytes, d, coreRecv)
			if err != nil {
				return fmt.Errorf("core: %w", err)
			}
			s.Core, s.CoreReceived = s.Core+r/typedSlices, s.CoreReceived+n
			return nil
		})
	}
	for k := range typedSlices {
		for j := range steps {
			if err := steps[(j+k)%len(steps)](d / typedSlices); err != nil {
				return s, err
			}
		}
	}
	return s, nil
}

// typedPairRate starts a child running role into a buffer this process
// opens with recv, receives (and verifies) for d and returns the rate and
// the number of messages verified.
func typedPairRate(ctx context.Context, role string, size, frame int, d time.Duration,
	recv func(name string, size, frame int) (func(context.Context, uint64) error, func() error, error)) (float64, uint64, error) {
	name := zbName("typed")
	defer removeBuffer(name)
	next, closeRx, err := recv(name, size, frame)
	if err != nil {
		return 0, 0, err
	}
	ps, err := startAll(ctx, []job{{Role: role, Name: name, Size: size, Duration: d}})
	if err != nil {
		return 0, 0, errors.Join(err, closeRx())
	}
	// A child that stops sending ends the wait with core.ErrWriterDead;
	// the timeout only guards against a peer that hangs alive.
	rctx, cancel := context.WithTimeout(ctx, d+time.Minute)
	defer cancel()
	var seq uint64
	rate, err := countFor(d, func() (int, error) {
		seq++
		return 0, next(rctx, seq)
	}, nil)
	if err != nil {
		seq-- // the failed one was not verified
	}
	cerr := closeRx() // the child's next send gets core.ErrReaderDead
	_, perr := ps[0].result(ctx, 30*time.Second)
	stopAll(ps)
	if err != nil { // with the child's side, which may say why
		return 0, seq, fmt.Errorf("receiving message %d: %w", seq+1, errors.Join(err, perr))
	}
	return rate, seq, errors.Join(cerr, perr)
}

// sendTyped sends next(1), next(2), ... with tx until the receiver goes away.
func sendTyped[T any](ctx context.Context, tx *typed.Sender[T], next func(seq uint64) T) (sideResult, error) {
	t0 := time.Now()
	for seq := uint64(1); ; seq++ {
		if err := tx.Send(ctx, next(seq)); err != nil {
			if errors.Is(err, core.ErrReaderDead) || errors.Is(err, core.ErrClosed) {
				return sideResult{Count: seq - 1, Elapsed: time.Since(t0)}, nil
			}
			return sideResult{Count: seq - 1}, err
		}
	}
}

// dialTyped connects a typed sender to the buffer of j and signals ready.
func dialTyped[T any](ctx context.Context, j job, enc codec.Encoder[T], ready func(string) error) (*typed.Sender[T], error) {
	tx, err := typed.Dial(ctx, j.Name, enc)
	if err != nil {
		return nil, err
	}
	if err := ready(""); err != nil {
		tx.Close()
		return nil, err
	}
	return tx, nil
}

// chanTyped streams next(1), next(2), ... from one goroutine to another
// through a channel of capacity cp for d; the receiver checks every value.
// It returns the rate at the receiver and the number of values checked.
func chanTyped[T any](d time.Duration, cp int, next func(seq uint64) T, check func(seq uint64, v T) error) (float64, uint64, error) {
	ch := make(chan T, cp)
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Go(func() {
		for seq := uint64(1); !stop.Load(); seq++ {
			ch <- next(seq)
		}
		close(ch)
	})
	var seq uint64
	rate, err := countFor(d, func() (int, error) {
		v, ok := <-ch
		if !ok {
			return 0, io.ErrUnexpectedEOF
		}
		seq++
		return 0, check(seq, v)
	}, nil)
	stop.Store(true)
	for range ch { // unblock the sender
	}
	wg.Wait()
	if err != nil {
		return 0, seq - 1, err
	}
	return rate, seq, nil
}

// Raw: []byte values of the size, carrying the harness's message content
// (sequence number plus pseudo-random template, see payload.go).

func rawSendChild(_ context.Context, j job, ready func(string) error) (sideResult, error) {
	ctx, cancel := childContext(j)
	defer cancel()
	tx, err := dialTyped(ctx, j, codec.Raw{}, ready)
	if err != nil {
		return sideResult{}, err
	}
	defer tx.Close()
	buf := make([]byte, j.Size)
	newMessage(j.Size).fill(buf, 0)
	return sendTyped(ctx, tx, func(seq uint64) []byte { stamp(buf, seq); return buf })
}

func rawRecv(name string, size, frame int) (func(context.Context, uint64) error, func() error, error) {
	rx, err := typed.ListenView(name, core.BufferConfig{PayloadSize: ringBytes(frame)}, codec.Raw{})
	if err != nil {
		return nil, nil, err
	}
	m := newMessage(size)
	return func(ctx context.Context, seq uint64) error {
		return rx.RecvFunc(ctx, func(p []byte) error { return m.verify(p, seq) })
	}, rx.Close, nil
}

// rawChanRate sends []byte values through a chan []byte. The sender
// cannot reuse the buffer it just sent, so it cycles through cap+2
// buffers that hold the template: when it stamps buffer seq%(cap+2), the
// receiver has taken message seq-cap-1 from the channel (the channel
// holds at most cap) and so has finished message seq-cap-2, the buffer's
// previous user; the Go memory model orders the two (the k-th receive
// from a channel of capacity C happens before the (k+C)-th send completes).
func rawChanRate(size int, d time.Duration) (float64, uint64, error) {
	m := newMessage(size)
	cp := typedChanCap(size)
	bufs := make([][]byte, cp+2)
	for i := range bufs {
		bufs[i] = make([]byte, size)
		m.fill(bufs[i], 0)
	}
	return chanTyped(d, cp, func(seq uint64) []byte {
		b := bufs[seq%uint64(len(bufs))]
		stamp(b, seq)
		return b
	}, func(seq uint64, b []byte) error { return m.verify(b, seq) })
}

// Msgpack: typedmsg.Tick (methods generated by msgp) and TickReflect (by
// reflection), with Kind long enough that the encoded message is about the
// size; at 64 B (and below) the plain Tick of the acceptance figures.

// tickKind is the Kind of every message of a case.
const tickKind = "trade"

// makeTick is message seq of a tick stream with the given Kind.
func makeTick(seq uint64, kind string) typedmsg.Tick {
	return typedmsg.Tick{Seq: seq, TS: 1_700_000_000_000_000_000 + int64(seq)*1000, Kind: kind, X: float64(seq) * 0.5, Y: -float64(seq) / 3}
}

// checkTick checks every field of message seq; of Kind its length and last
// byte, the same check on both sides of the comparison.
func checkTick(seq uint64, kind string, t typedmsg.Tick) error {
	w := makeTick(seq, kind)
	if t.Seq != w.Seq || t.TS != w.TS || t.X != w.X || t.Y != w.Y || len(t.Kind) != len(kind) ||
		(len(kind) > 0 && t.Kind[len(kind)-1] != kind[len(kind)-1]) {
		return fmt.Errorf("tick %d: got seq %d ts %d x %v y %v kind of %d bytes", seq, t.Seq, t.TS, t.X, t.Y, len(t.Kind))
	}
	return nil
}

// tickCodec is the msgpack case of type T, which converts to and from Tick.
func tickCodec[T any](to func(typedmsg.Tick) T, from func(T) typedmsg.Tick) typedCodec {
	// kindFor returns the Kind that makes message 1 about size bytes.
	kindFor := func(size int) (string, error) {
		plain, err := codec.Marshal[T](msgpack.New[T](), to(makeTick(1, tickKind)))
		if err != nil {
			return "", err
		}
		if size <= 64 || size <= len(plain) { // 64 B: the plain Tick
			return tickKind, nil
		}
		k := size - len(plain) + len(tickKind)
		// The string header grows from 1 byte (up to 31) to 2, 3 or 5 bytes.
		switch {
		case k >= 1<<16:
			k -= 4
		case k >= 1<<8:
			k -= 2
		case k >= 32:
			k--
		}
		return strings.Repeat("k", k), nil
	}
	return typedCodec{
		frameBytes: func(size int) (int, error) {
			kind, err := kindFor(size)
			if err != nil {
				return 0, err
			}
			b, err := codec.Marshal[T](msgpack.New[T](), to(makeTick(1, kind)))
			return len(b), err
		},
		send: func(_ context.Context, j job, ready func(string) error) (sideResult, error) {
			ctx, cancel := childContext(j)
			defer cancel()
			kind, err := kindFor(j.Size)
			if err != nil {
				return sideResult{}, err
			}
			tx, err := dialTyped[T](ctx, j, msgpack.New[T](), ready)
			if err != nil {
				return sideResult{}, err
			}
			defer tx.Close()
			return sendTyped(ctx, tx, func(seq uint64) T { return to(makeTick(seq, kind)) })
		},
		recv: func(name string, size, frame int) (func(context.Context, uint64) error, func() error, error) {
			kind, err := kindFor(size)
			if err != nil {
				return nil, nil, err
			}
			rx, err := typed.Listen[T](name, core.BufferConfig{PayloadSize: ringBytes(frame)}, msgpack.New[T]())
			if err != nil {
				return nil, nil, err
			}
			return func(ctx context.Context, seq uint64) error {
				v, err := rx.Recv(ctx)
				if err != nil {
					return err
				}
				return checkTick(seq, kind, from(v))
			}, rx.Close, nil
		},
		chanRate: func(size int, d time.Duration) (float64, uint64, error) {
			kind, err := kindFor(size)
			if err != nil {
				return 0, 0, err
			}
			return chanTyped(d, typedChanCap(size),
				func(seq uint64) T { return to(makeTick(seq, kind)) },
				func(seq uint64, v T) error { return checkTick(seq, kind, from(v)) })
		},
	}
}

// FlatBuffers: the sensor Reading with its values vector sized so that the
// encoded message is about the size. The values are the same in every
// message (id and timestamp carry the sequence number), so the channel
// reference can share one read-only slice, as a Go program would.

const readingName = "sensor"

// readingLen returns the number of values that make message 1 about size
// bytes.
func readingLen(size int) (int, error) {
	b, err := codec.Marshal(sensor.NewEncoder(), &sensor.ReadingT{Id: 1, Timestamp: 1000, Name: readingName})
	if err != nil {
		return 0, err
	}
	return max(1, (size-len(b)-4)/8), nil
}

func readingValues(n int) []float64 {
	v := make([]float64, n)
	for j := range v {
		v[j] = float64(j) + 0.5
	}
	return v
}

// readingSum is the check both sides compute: one value per 64-byte
// line of the vector (every 8th), as the raw check reads one word per line.
func readingSum(values []float64) float64 {
	var s float64
	for j := 0; j < len(values); j += 8 {
		s += values[j]
	}
	return s
}

func readingFrameBytes(size int) (int, error) {
	n, err := readingLen(size)
	if err != nil {
		return 0, err
	}
	b, err := codec.Marshal(sensor.NewEncoder(), &sensor.ReadingT{Id: 1, Timestamp: 1000, Name: readingName, Values: readingValues(n)})
	return len(b), err
}

func readingSendChild(_ context.Context, j job, ready func(string) error) (sideResult, error) {
	ctx, cancel := childContext(j)
	defer cancel()
	n, err := readingLen(j.Size)
	if err != nil {
		return sideResult{}, err
	}
	tx, err := dialTyped(ctx, j, sensor.NewEncoder(), ready)
	if err != nil {
		return sideResult{}, err
	}
	defer tx.Close()
	r := &sensor.ReadingT{Name: readingName, Values: readingValues(n)}
	return sendTyped(ctx, tx, func(seq uint64) *sensor.ReadingT {
		r.Id, r.Timestamp = uint32(seq), int64(seq)*1000
		return r
	})
}

func readingRecv(name string, size, frame int) (func(context.Context, uint64) error, func() error, error) {
	n, err := readingLen(size)
	if err != nil {
		return nil, nil, err
	}
	sum := readingSum(readingValues(n))
	rx, err := typed.ListenView(name, core.BufferConfig{PayloadSize: ringBytes(frame)}, sensor.NewDecoder())
	if err != nil {
		return nil, nil, err
	}
	return func(ctx context.Context, seq uint64) error {
		return rx.RecvFunc(ctx, func(r sensor.Reading) error {
			vb := r.ValuesBytes() // the bulk view over the frame, bounds-checked
			var s float64
			for i := 0; i < len(vb); i += 64 {
				s += math.Float64frombits(binary.LittleEndian.Uint64(vb[i:]))
			}
			if r.Id() != uint32(seq) || r.Timestamp() != int64(seq)*1000 || len(r.Name()) != len(readingName) || len(vb) != 8*n || s != sum {
				return fmt.Errorf("reading %d: got id %d ts %d, %d value bytes", seq, r.Id(), r.Timestamp(), len(vb))
			}
			return nil
		})
	}, rx.Close, nil
}

func readingChanRate(size int, d time.Duration) (float64, uint64, error) {
	n, err := readingLen(size)
	if err != nil {
		return 0, 0, err
	}
	values := readingValues(n)
	sum := readingSum(values)
	return chanTyped(d, typedChanCap(size), func(seq uint64) sensor.ReadingT {
		return sensor.ReadingT{Id: uint32(seq), Timestamp: int64(seq) * 1000, Name: readingName, Values: values}
	}, func(seq uint64, r sensor.ReadingT) error {
		if r.Id != uint32(seq) || r.Timestamp != int64(seq)*1000 || len(r.Name) != len(readingName) || len(r.Values) != n || readingSum(r.Values) != sum {
			return fmt.Errorf("reading %d: got id %d ts %d, %d values", seq, r.Id, r.Timestamp, len(r.Values))
		}
		return nil
	})
}

// The core per-frame path at the frame size of a case: WriteFrame of the
// harness's message content, ReadFrame with the same verification as raw.

func typedCoreChild(_ context.Context, j job, ready func(string) error) (sideResult, error) {
	return withWriter(j, ready, func(ctx context.Context, w *core.Writer) (sideResult, error) {
		buf := make([]byte, j.Size)
		newMessage(j.Size).fill(buf, 0)
		t0 := time.Now()
		for seq := uint64(1); ; seq++ {
			stamp(buf, seq)
			if err := w.WriteFrame(ctx, buf); err != nil {
				if errors.Is(err, core.ErrReaderDead) || errors.Is(err, core.ErrClosed) {
					return sideResult{Count: seq - 1, Elapsed: time.Since(t0)}, nil
				}
				return sideResult{Count: seq - 1}, err
			}
		}
	})
}

func coreRecv(name string, size, frame int) (func(context.Context, uint64) error, func() error, error) {
	r, err := core.NewReader(name, core.BufferConfig{PayloadSize: ringBytes(frame)})
	if err != nil {
		return nil, nil, err
	}
	m := newMessage(size)
	return func(ctx context.Context, seq uint64) error {
		f, err := r.ReadFrame(ctx)
		if err != nil {
			return err
		}
		return errors.Join(m.verify(f.Data(), seq), f.Release())
	}, r.Close, nil
}

// typedMedian returns the median of f over samples (the upper one of two).
func typedMedian(samples []TypedSample, f func(TypedSample) float64) float64 {
	v := make([]float64, 0, len(samples))
	for _, s := range samples {
		v = append(v, f(s))
	}
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	return v[len(v)/2]
}

// typedRatio prints a ratio with two decimals, three below 0.1 (so that
// 0.004x does not read as zero).
func typedRatio(r float64) string {
	if r < 0.1 {
		return fmt.Sprintf("%.3fx", r)
	}
	return fmt.Sprintf("%.2fx", r)
}

func typedRatios(v []float64) string {
	s := make([]string, len(v))
	for i, r := range v {
		s[i] = typedRatio(r)
	}
	return strings.Join(s, " ")
}

// Markdown renders one table: per codec and size the median rates, the
// ratio to the channel in every run and its median, the median ratio to
// the core per-frame path (raw, FlatBuffers) and the typed path's MB/s.
func (r *TypedReport) Markdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "## Typed channels: typed Sender -> Receiver across processes vs an in-process chan of the same type (%d runs, %v windows)\n\n",
		r.Config.Runs, r.Config.Duration)
	b.WriteString("| codec | size | frame B | msgs/s (median) | chan msgs/s (median) | x chan per run | x chan (median) | x core per run | x core (median) | MB/s |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|\n")
	for _, c := range r.Cases {
		perRun := make([]float64, 0, len(c.Runs))
		for _, s := range c.Runs {
			perRun = append(perRun, s.Msgs/s.Chan)
		}
		xcoreRuns, xcore := "-", "-"
		if typedCodecs[c.Codec].core {
			v := make([]float64, 0, len(c.Runs))
			for _, s := range c.Runs {
				v = append(v, s.Msgs/s.Core)
			}
			xcoreRuns = typedRatios(v)
			xcore = typedRatio(typedMedian(c.Runs, func(s TypedSample) float64 { return s.Msgs / s.Core }))
		}
		msgs := typedMedian(c.Runs, func(s TypedSample) float64 { return s.Msgs })
		fmt.Fprintf(&b, "| %s | %s | %d | %s | %s | %s | %s | %s | %s | %.1f |\n", c.Codec, FormatSize(c.Size), c.FrameBytes,
			fmtRate(msgs), fmtRate(typedMedian(c.Runs, func(s TypedSample) float64 { return s.Chan })),
			typedRatios(perRun), typedRatio(typedMedian(c.Runs, func(s TypedSample) float64 { return s.Msgs / s.Chan })),
			xcoreRuns, xcore, msgs*float64(c.FrameBytes)/1e6)
	}
	b.WriteString("\nThe receiver decodes and verifies every value (msgpack: Recv; raw and FlatBuffers: a view with RecvFunc);" +
		" the sender calls Send once per message. The chan reference carries the same Go type ([]byte, Tick, TickReflect," +
		" sensor.ReadingT) between two goroutines, its receiver checking the same fields. x core: the same frame size through" +
		" core.Writer.WriteFrame and core.Reader.ReadFrame. MB/s: encoded bytes. chan capacity: 1024, or what the ring holds if fewer.\n")
	_, err := io.WriteString(w, b.String())
	return err
}
