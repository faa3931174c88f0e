package typed_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zerobuffer/zerobuffer-go/codec"
	"github.com/zerobuffer/zerobuffer-go/codec/msgpack"
	"github.com/zerobuffer/zerobuffer-go/core"
	"github.com/zerobuffer/zerobuffer-go/internal/hostile"
	"github.com/zerobuffer/zerobuffer-go/internal/testproc"
	"github.com/zerobuffer/zerobuffer-go/platform"
	"github.com/zerobuffer/zerobuffer-go/typed"
)

// Fan-in children run under testproc with ZB_FANIN_ROLE set, so that they
// never meet the roles of typed's own TestMain.
const envFanIn = "ZB_FANIN_ROLE"

func init() {
	if os.Getenv(envFanIn) != "" {
		testproc.Main(map[string]testproc.Role{"fanin-send": faninSendRole})
	}
}

// faninSendRole: args name, id, count (-1: until an error), end ("close"
// or "hang"). It prints "lane K", sends count messages {id, seq} of 64
// bytes, then closes and prints "closed", or prints "sent" and waits for
// its stdin to close (or "close").
func faninSendRole(c *testproc.Child, args []string) int {
	name := args[0]
	id, _ := strconv.ParseUint(args[1], 10, 64)
	count, _ := strconv.Atoi(args[2])
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tx, err := typed.DialMany(ctx, name, codec.Raw{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "dial:", err)
		return 1
	}
	c.Printf("lane %s", tx.Writer().Name())
	msg := make([]byte, 64)
	binary.LittleEndian.PutUint64(msg, id)
	for seq := uint64(1); count < 0 || seq <= uint64(count); seq++ {
		binary.LittleEndian.PutUint64(msg[8:], seq)
		if err := tx.Send(ctx, msg); err != nil {
			if count < 0 {
				break
			}
			fmt.Fprintln(os.Stderr, "send:", err)
			return 1
		}
	}
	if args[3] == "hang" {
		c.Printf("sent")
		for {
			l, ok := c.Next()
			if !ok || l == "close" {
				break
			}
		}
	}
	if err := tx.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "close:", err)
		return 1
	}
	c.Printf("closed")
	return 0
}

// startSender starts a fan-in sender child and returns it with the name
// of the lane it claimed.
func startSender(t *testing.T, name string, id, count int, end string) (*testproc.Proc, string) {
	t.Helper()
	p := testproc.StartEnv(t, []string{envFanIn + "=1"}, "fanin-send", name, strconv.Itoa(id), strconv.Itoa(count), end)
	l := p.Expect("lane ", 30*time.Second)
	return p, strings.TrimPrefix(l, "lane ")
}

// faninName returns a fresh fan-in buffer name and checks at cleanup that
// none of its lanes, its control block or its doorbell survive.
func faninName(t *testing.T) string {
	t.Helper()
	name := fmt.Sprintf("zbfanin-%d-%d", os.Getpid(), nameSeq.Add(1))
	t.Cleanup(func() {
		var paths []string
		for k := range core.MaxLanes {
			n, _ := platform.UnixNames(core.LaneName(name, k), platform.Dirs{})
			paths = append(paths, n.Shm, n.SemW, n.SemR, n.Lock, n.WriterLock)
		}
		c, _ := platform.UnixNames(name+".fanin", platform.Dirs{})
		paths = append(paths, c.Shm, c.SemW)
		deadline := time.Now().Add(2 * time.Second)
		for _, p := range paths {
			for {
				if _, err := os.Lstat(p); os.IsNotExist(err) {
					break
				}
				if time.Now().After(deadline) {
					t.Errorf("leftover %s", p)
					_ = os.Remove(p)
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
	})
	return name
}

// decodeMsg returns the sender id and sequence number of a test message.
func decodeMsg(b []byte) (id, seq uint64, err error) {
	if len(b) != 64 {
		return 0, 0, fmt.Errorf("message of %d bytes", len(b))
	}
	return binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[8:]), nil
}

// orderCheck tracks the next sequence number of every sender.
type orderCheck map[uint64]uint64

func (o orderCheck) take(b []byte) (uint64, error) {
	id, seq, err := decodeMsg(b)
	if err != nil {
		return 0, err
	}
	if want := o[id] + 1; seq != want {
		return id, fmt.Errorf("sender %d: got seq %d, want %d", id, seq, want)
	}
	o[id] = seq
	return id, nil
}

func fanInCount() int {
	if testing.Short() || raceEnabled {
		return 10_000
	}
	return 100_000
}

// TestFanIn_EightSenders: 8 sender processes into one receiver; every
// message exactly once and in per-sender order.
func TestFanIn_EightSenders(t *testing.T) {
	name := faninName(t)
	count := fanInCount()
	rx, err := typed.ListenMany(name, core.BufferConfig{PayloadSize: testRing}, core.FanInConfig{}, codec.RawCopy{})
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	const senders = 8
	procs := make([]*testproc.Proc, senders)
	lanes := map[string]bool{}
	for i := range senders {
		var lane string
		procs[i], lane = startSender(t, name, i+1, count, "close")
		if lanes[lane] {
			t.Fatalf("lane %s claimed twice", lane)
		}
		lanes[lane] = true
	}
	start := time.Now()
	seen := orderCheck{}
	for n := 0; n < senders*count; n++ {
		v, err := rx.Recv(ctx)
		if err != nil {
			t.Fatalf("after %d messages: %v", n, err)
		}
		if _, err := seen.take(v); err != nil {
			t.Fatal(err)
		}
	}
	el := time.Since(start)
	for i, p := range procs {
		p.Expect("closed", 30*time.Second)
		if code, err := p.Wait(30 * time.Second); code != 0 || err != nil {
			t.Fatalf("sender %d: exit %d, %v", i+1, code, err)
		}
		if seen[uint64(i+1)] != uint64(count) {
			t.Fatalf("sender %d: %d messages, want %d", i+1, seen[uint64(i+1)], count)
		}
	}
	// Nothing more: every lane is now free and empty.
	short, cancelShort := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancelShort()
	if v, err := rx.Recv(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("after the end: %x, %v", v, err)
	}
	t.Logf("%d senders x %d messages in %v (%.0f msgs/s); lanes %d", senders, count, el,
		float64(senders*count)/el.Seconds(), len(rx.Lanes()))
}

// TestFanIn_KillSender: a sender SIGKILLed mid-stream; the others lose
// nothing, its lane is seen free within 250ms (generous bound on a loaded
// machine: 1.25s), and a new sender takes a lane and is received.
func TestFanIn_KillSender(t *testing.T) {
	name := faninName(t)
	count := fanInCount() / 2
	rx, err := typed.ListenMany(name, core.BufferConfig{PayloadSize: testRing}, core.FanInConfig{}, codec.RawCopy{})
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	victim, victimLane := startSender(t, name, 100, -1, "close")
	procs := make([]*testproc.Proc, 3)
	for i := range procs {
		procs[i], _ = startSender(t, name, i+1, count, "close")
	}
	seen := orderCheck{}
	recvOne := func() uint64 {
		t.Helper()
		v, err := rx.Recv(ctx)
		if err != nil {
			t.Fatalf("%v; received per sender %v; lanes %+v", err, seen, rx.Lanes())
		}
		id, err := seen.take(v)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	for seen[100] < 2000 {
		recvOne()
	}
	victimIdx := laneIndex(t, rx, victimLane)
	t0 := time.Now() // before the kill
	victim.Kill()
	// Receive while waiting (maintenance runs in Recv), but in short
	// slices: under load the others may have sent everything before the
	// death is seen, and a plain Recv would then wait for nothing.
	tryRecv := func() {
		t.Helper()
		short, cancelShort := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancelShort()
		v, err := rx.Recv(short)
		if errors.Is(err, context.DeadlineExceeded) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := seen.take(v); err != nil {
			t.Fatal(err)
		}
	}
	var detected time.Duration
	for detected == 0 {
		tryRecv()
		if l := rx.Lanes()[victimIdx]; !l.Connected && l.Deaths == 1 {
			detected = time.Since(t0)
		}
		if time.Since(t0) > 10*time.Second {
			t.Fatal("dead sender not detected")
		}
	}
	if detected > 1250*time.Millisecond {
		t.Fatalf("dead sender detected after %v", detected)
	}
	fresh, freshLane := startSender(t, name, 200, 1000, "close")
	for seen[1]+seen[2]+seen[3] < uint64(3*count) || seen[200] < 1000 {
		recvOne()
	}
	fresh.Expect("closed", 30*time.Second)
	for i, p := range procs {
		p.Expect("closed", 30*time.Second)
		if seen[uint64(i+1)] != uint64(count) {
			t.Fatalf("sender %d: %d messages, want %d", i+1, seen[uint64(i+1)], count)
		}
	}
	t.Logf("victim delivered %d messages in order before its death; death seen after %v; new sender on %s (victim was on %s)",
		seen[100], detected, freshLane, victimLane)
}

func laneIndex(t *testing.T, rx *typed.ManyReceiver[[]byte], lane string) int {
	t.Helper()
	for _, l := range rx.Lanes() {
		if l.Name == lane {
			return l.Index
		}
	}
	t.Fatalf("no lane %s in %+v", lane, rx.Lanes())
	return -1
}

// TestFanIn_ForeignWriterLane0: a writer that follows docs/PROTOCOL.md
// section 5.2 literally (no Go writer lock, no doorbell) connects to the
// plain name and is received on lane 0, next to a Go sender on lane 1.
func TestFanIn_ForeignWriterLane0(t *testing.T) {
	name := faninName(t)
	rx, err := typed.ListenMany(name, core.BufferConfig{PayloadSize: testRing}, core.FanInConfig{}, codec.RawCopy{}, typed.WithoutCodecCheck())
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	fw, err := newSpecWriter(name)
	if err != nil {
		t.Fatal(err)
	}
	defer fw.close()
	tx, err := typed.DialMany(ctx, name, codec.Raw{}, typed.WithoutCodecCheck())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	if got := tx.Writer().Name(); got != core.LaneName(name, 1) {
		t.Fatalf("Go sender on %s, want lane 1", got)
	}
	const n = 500
	errc := make(chan error, 1)
	go func() {
		msg := make([]byte, 64)
		binary.LittleEndian.PutUint64(msg, 2)
		for seq := uint64(1); seq <= n; seq++ {
			binary.LittleEndian.PutUint64(msg[8:], seq)
			if err := tx.Send(ctx, msg); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	seen := orderCheck{}
	for i := 1; i <= n; i++ {
		msg := make([]byte, 64)
		binary.LittleEndian.PutUint64(msg, 1)
		binary.LittleEndian.PutUint64(msg[8:], uint64(i))
		if err := fw.write(msg); err != nil {
			t.Fatal(err)
		}
		for seen[1] < uint64(i) {
			v, lane, err := rx.RecvFrom(ctx)
			if err != nil {
				t.Fatal(err)
			}
			id, err := seen.take(v)
			if err != nil {
				t.Fatal(err)
			}
			if want := int(id - 1); lane != want {
				t.Fatalf("sender %d on lane %d, want %d", id, lane, want)
			}
		}
		if i%50 == 0 { // pause: the receiver goes to sleep in between
			time.Sleep(5 * time.Millisecond)
		}
	}
	for seen[2] < n {
		v, err := rx.Recv(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := seen.take(v); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

// specWriter writes frames the way the reference writer does (docs/
// PROTOCOL.md sections 5.2 and 9), through the hostile package's raw
// access to shared memory: no lock file, no doorbell, writer_pid only.
type specWriter struct {
	name     string
	seg      *hostile.Segment
	pos, seq uint64
	p        uint64
}

func newSpecWriter(name string) (*specWriter, error) {
	seg, err := hostile.Open(name, platform.Dirs{})
	if err != nil {
		return nil, err
	}
	w := &specWriter{name: name, seg: seg, seq: 1, p: seg.Peek(field("payload_size"))}
	if seg.Peek(field("reader_pid")) == 0 || seg.Peek(field("writer_pid")) != 0 {
		seg.Close()
		return nil, errors.New("spec writer: no reader, or a writer is connected")
	}
	w.pos = seg.Peek(field("payload_write_pos")) % w.p
	seg.Poke(field("writer_pid"), uint64(os.Getpid()))
	return w, nil
}

func field(n string) hostile.Field {
	f, err := hostile.FieldByName(n)
	if err != nil {
		panic(err)
	}
	return f
}

// write follows section 5.2 for a frame that needs no wrap (the test
// writes less than the ring holds). It waits until the reader has
// returned all space, so that its read-modify-write of payload_free_bytes
// (the reference's atomic subtract; hostile offers plain loads and
// stores) cannot lose a concurrent add of the reader.
func (w *specWriter) write(p []byte) error {
	t := 16 + uint64(len(p))
	if w.p-w.pos < t {
		return errors.New("spec writer: the test never wraps")
	}
	deadline := time.Now().Add(10 * time.Second)
	for w.seg.Peek(field("payload_free_bytes")) != w.p {
		if time.Now().After(deadline) {
			return errors.New("spec writer: the reader does not return space")
		}
		time.Sleep(100 * time.Microsecond)
	}
	g, err := w.seg.Geometry()
	if err != nil {
		return err
	}
	base := int(g.PayloadOffset() + w.pos)
	if err := w.seg.PokeHeader(w.pos, uint64(len(p)), w.seq); err != nil {
		return err
	}
	if err := w.seg.PokeBytes(base+16, p); err != nil {
		return err
	}
	w.pos += t
	w.seq++
	w.seg.Poke(field("payload_write_pos"), w.pos)
	w.seg.Poke(field("payload_free_bytes"), w.seg.Peek(field("payload_free_bytes"))-t)
	w.seg.Poke(field("payload_written_count"), w.seg.Peek(field("payload_written_count"))+1)
	_, err = hostile.Post(w.name, platform.Dirs{}, hostile.SemW, 1)
	return err
}

func (w *specWriter) close() {
	w.seg.Poke(field("writer_pid"), 0)
	w.seg.Close()
}

// TestFanIn_ClaimProperty runs random start/close/SIGKILL operations on
// sender processes, some of them killed while claiming. After every step:
// no lane is held by two live senders (every live sender's lane carries
// its PID in writer_pid, and lanes are distinct); at the end no lane
// leaks: every lane is free again and can be claimed.
func TestFanIn_ClaimProperty(t *testing.T) {
	name := faninName(t)
	rx, err := typed.ListenMany(name, core.BufferConfig{PayloadSize: 4096}, core.FanInConfig{MaxLanes: 8}, codec.RawCopy{})
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	recvDone := make(chan error, 1)
	go func() { // keeps the receiver's maintenance running
		for {
			if _, err := rx.Recv(ctx); err != nil && !errors.Is(err, typed.ErrCodecMismatch) {
				recvDone <- err
				return
			}
		}
	}()
	type live struct {
		p    *testproc.Proc
		lane string
	}
	var senders []live
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 17))
	steps := 40
	if testing.Short() {
		steps = 15
	}
	peak := 0
	for step := range steps {
		switch op := rng.IntN(4); {
		case op <= 1 && len(senders) < 6: // start, and sometimes kill while it claims
			p := testproc.StartEnv(t, []string{envFanIn + "=1"}, "fanin-send", name, strconv.Itoa(step+1), "3", "hang")
			if rng.IntN(3) == 0 {
				time.Sleep(time.Duration(rng.IntN(20)) * time.Millisecond)
				p.Kill()
				continue
			}
			l := strings.TrimPrefix(p.Expect("lane ", 30*time.Second), "lane ")
			p.Expect("sent", 30*time.Second)
			senders = append(senders, live{p, l})
		case op == 2 && len(senders) > 0:
			i := rng.IntN(len(senders))
			senders[i].p.Kill()
			senders = append(senders[:i], senders[i+1:]...)
		case op == 3 && len(senders) > 0:
			i := rng.IntN(len(senders))
			senders[i].p.Send("close")
			senders[i].p.Expect("closed", 30*time.Second)
			_, _ = senders[i].p.Wait(30 * time.Second)
			senders = append(senders[:i], senders[i+1:]...)
		}
		peak = max(peak, len(senders))
		held := map[string]int{}
		for _, s := range senders {
			if prev, ok := held[s.lane]; ok {
				t.Fatalf("seed %d step %d: lane %s held by senders %d and %d", seed, step, s.lane, prev, s.p.Pid())
			}
			held[s.lane] = s.p.Pid()
			seg, err := hostile.Open(s.lane, platform.Dirs{})
			if err != nil {
				t.Fatal(err)
			}
			pid := seg.Peek(field("writer_pid"))
			seg.Close()
			if pid != uint64(s.p.Pid()) {
				t.Fatalf("seed %d step %d: lane %s has writer_pid %d, its sender is %d", seed, step, s.lane, pid, s.p.Pid())
			}
		}
	}
	for _, s := range senders {
		s.p.Kill()
	}
	// No leak: the receiver sees every lane free within the liveness
	// bound, and each lane can be claimed again.
	t0 := time.Now()
	for {
		busy := 0
		for _, l := range rx.Lanes() {
			if l.Connected {
				busy++
			}
		}
		if busy == 0 {
			break
		}
		if time.Since(t0) > 5*time.Second {
			t.Fatalf("seed %d: lanes still connected: %+v", seed, rx.Lanes())
		}
		time.Sleep(5 * time.Millisecond)
	}
	lanes := rx.Lanes()
	if len(lanes) > peak+2 {
		t.Fatalf("seed %d: %d lanes for at most %d senders at once", seed, len(lanes), peak)
	}
	for _, l := range lanes {
		w, err := core.NewWriter(l.Name)
		if err != nil {
			t.Fatalf("seed %d: lane %s not free: %v", seed, l.Name, err)
		}
		_ = w.Close()
	}
	cancel()
	if err := <-recvDone; !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	t.Logf("seed %d: %d steps, peak %d senders, %d lanes", seed, steps, peak, len(lanes))
}

// TestFanIn_Linger: with a linger the stream ends after the last sender
// closed; without one it does not.
func TestFanIn_Linger(t *testing.T) {
	name := faninName(t)
	rx, err := typed.ListenMany(name, core.BufferConfig{PayloadSize: 4096}, core.FanInConfig{Linger: 100 * time.Millisecond}, codec.RawCopy{})
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := range 2 {
		tx, err := typed.DialMany(ctx, name, codec.Raw{})
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.Send(ctx, []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
		if err := tx.Close(); err != nil {
			t.Fatal(err)
		}
	}
	var got []byte
	for {
		v, err := rx.Recv(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, v...)
	}
	if len(got) != 2 {
		t.Fatalf("got %v", got)
	}
}

// TestFanIn_CodecMismatchLane: a sender of another codec gets its message
// refused and its lane reset (it is disconnected); a sender of the right
// codec on another lane is not disturbed, and a later sender can use the
// reset lane.
func TestFanIn_CodecMismatchLane(t *testing.T) {
	name := faninName(t)
	rx, err := typed.ListenMany(name, core.BufferConfig{PayloadSize: 4096}, core.FanInConfig{}, codec.RawCopy{})
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	bad, err := typed.DialMany(ctx, name, msgpack.New[int]())
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	good, err := typed.DialMany(ctx, name, codec.Raw{})
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close()
	if err := bad.Send(ctx, 7); err != nil {
		t.Fatal(err)
	}
	if _, err := rx.Recv(ctx); !errors.Is(err, typed.ErrCodecMismatch) {
		t.Fatalf("message of the msgpack sender: %v", err)
	}
	if err := good.Send(ctx, []byte("ok")); err != nil {
		t.Fatal(err)
	}
	if v, err := rx.Recv(ctx); err != nil || string(v) != "ok" {
		t.Fatalf("good sender: %q, %v", v, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !errors.Is(bad.Send(ctx, 8), core.ErrReaderDead) {
		if time.Now().After(deadline) {
			t.Fatal("the mismatched sender was not disconnected")
		}
		time.Sleep(10 * time.Millisecond)
	}
	bad.Close()
	again, err := typed.DialMany(ctx, name, codec.Raw{})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if err := again.Send(ctx, []byte("again")); err != nil {
		t.Fatal(err)
	}
	if v, err := rx.Recv(ctx); err != nil || string(v) != "again" {
		t.Fatalf("sender after the reset: %q, %v", v, err)
	}
}
