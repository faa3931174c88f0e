package natsx_test

import (
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/zerobuffer/zerobuffer-go/codec/msgpack"
	"github.com/zerobuffer/zerobuffer-go/internal/testproc"
	"github.com/zerobuffer/zerobuffer-go/natsx"
)

// seqs formats the Seq fields from..to-1 as a "got" line of natsListenerRole.
func seqs(from, to int) string {
	var s []string
	for i := from; i < to; i++ {
		s = append(s, strconv.Itoa(i))
	}
	return "got " + strings.Join(s, ",")
}

// TestSecondReceiverRefused: a JetStream channel has one receiver. While
// a receiver process listens, a second Listen (in this process, and in
// another process) fails with ErrReceiverExists, and the first receiver
// gets every message. After its Close a new receiver resumes after the
// last message it received; after a receiver process is SIGKILLed with
// messages taken but not acknowledged, Listen is refused until the killed
// one's lease runs out, and then the new receiver gets those messages.
func TestSecondReceiverRefused(t *testing.T) {
	ctx, url, nc, subj := testChannel(t, 60*time.Second)
	c := msgpack.New[event]()
	tx, err := natsx.Dial(ctx, nc, subj, c)
	if err != nil {
		t.Fatal(err)
	}

	a := testproc.Start(t, "natslistener", url, subj, "30s", "10s")
	a.Expect("listening", 30*time.Second)
	if _, err := natsx.Listen(ctx, nc, subj, c); !errors.Is(err, natsx.ErrReceiverExists) {
		t.Fatalf("second Listen in this process: %v, want ErrReceiverExists", err)
	}
	b := testproc.Start(t, "natslistener", url, subj, "30s", "10s")
	b.Expect("refused", 30*time.Second)
	for i := range 10 {
		if err := tx.Send(ctx, event{Seq: i}); err != nil {
			t.Fatal(err)
		}
	}
	a.Send("recv 10")
	if l := a.Expect("got", 30*time.Second); l != seqs(0, 10) {
		t.Fatalf("first receiver: %q, want %q", l, seqs(0, 10))
	}
	a.Send("close")
	a.Expect("closed", 30*time.Second)

	// Resume after a Close.
	for i := 10; i < 15; i++ {
		if err := tx.Send(ctx, event{Seq: i}); err != nil {
			t.Fatal(err)
		}
	}
	rx, err := natsx.Listen(ctx, nc, subj, c)
	if err != nil {
		t.Fatalf("Listen after the receiver closed: %v", err)
	}
	for i := 10; i < 15; i++ {
		v, err := rx.Recv(ctx)
		if err != nil || v.Seq != i {
			t.Fatalf("after resume: %v %v, want %d", v, err, i)
		}
	}
	if err := rx.Close(); err != nil {
		t.Fatal(err)
	}

	// A killed receiver holds the channel for its lease only.
	k := testproc.Start(t, "natslistener", url, subj, "1s", "1s")
	k.Expect("listening", 30*time.Second)
	for i := 15; i < 20; i++ {
		if err := tx.Send(ctx, event{Seq: i}); err != nil {
			t.Fatal(err)
		}
	}
	k.Send("recv 2")
	if l := k.Expect("got", 30*time.Second); l != seqs(15, 17) {
		t.Fatalf("receiver to be killed: %q", l)
	}
	k.Kill()
	start := time.Now()
	refused := 0
	for {
		rx, err = natsx.Listen(ctx, nc, subj, c)
		if err == nil {
			break
		}
		if !errors.Is(err, natsx.ErrReceiverExists) {
			t.Fatalf("Listen after SIGKILL: %v", err)
		}
		refused++
		time.Sleep(100 * time.Millisecond)
	}
	defer rx.Close()
	t.Logf("Listen refused %d times, then claimed the channel %v after the SIGKILL (lease 1s, ack wait 1s)", refused, time.Since(start))
	if refused == 0 {
		t.Fatal("Listen succeeded at once although the killed receiver's consumer should still exist")
	}
	// The killed receiver had taken all five (its pull buffer) and handed
	// out two; their acknowledgements may have died with it (at least
	// once across a receiver restart). So the new receiver starts at 15,
	// 16 or 17 and gets the rest once, in order.
	v, err := rx.Recv(ctx)
	if err != nil || v.Seq < 15 || v.Seq > 17 {
		t.Fatalf("first after SIGKILL: %v %v, want 15..17", v, err)
	}
	t.Logf("first message after SIGKILL: %d", v.Seq)
	for i := v.Seq + 1; i < 20; i++ {
		v, err := rx.Recv(ctx)
		if err != nil || v.Seq != i {
			t.Fatalf("after SIGKILL: %v %v, want %d", v, err, i)
		}
	}
	if err := tx.Close(); err != nil {
		t.Fatal(err)
	}
	if v, err := rx.Recv(ctx); err != io.EOF {
		t.Fatalf("after the sender's Close: %v %v, want io.EOF", v, err)
	}
}

// TestSeveralSenders: three sender processes on one JetStream channel;
// one sends 200 messages and closes while the other two are half-way
// through their 2000 each. The receiver gets every message (each sender's
// in order) and io.EOF only after the last sender's Close.
func TestSeveralSenders(t *testing.T) {
	ctx, url, nc, subj := testChannel(t, 90*time.Second)
	counts := [][2]int{{200, 0}, {1000, 1000}, {1000, 1000}}
	var procs []*testproc.Proc
	for k, n := range counts {
		p := testproc.Start(t, "natssender", url, subj, strconv.Itoa(k*1000000), strconv.Itoa(n[0]), strconv.Itoa(n[1]))
		p.Expect("ready", 30*time.Second)
		procs = append(procs, p)
	}
	rx, err := natsx.Listen(ctx, nc, subj, msgpack.New[event]())
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	for _, p := range procs {
		p.Send("go")
	}
	procs[0].Expect("half", 60*time.Second)
	procs[0].Expect("closed", 60*time.Second)
	for _, p := range procs[1:] {
		p.Expect("half", 60*time.Second)
	}

	// Everything up to here, including the first sender's end, is in the
	// stream before the others send their second part: the receiver reads
	// past that end without io.EOF.
	next := make([]int, len(counts))
	total := 0
	recv := func(n int) {
		t.Helper()
		for range n {
			v, err := rx.Recv(ctx)
			if err != nil {
				t.Fatalf("after %d messages (per sender %v): %v", total, next, err)
			}
			k := v.Seq / 1000000
			if k >= len(counts) || v.Seq%1000000 != next[k] {
				t.Fatalf("message %d: Seq %d, want sender %d's %d", total, v.Seq, k, next[min(k, len(next)-1)])
			}
			next[k]++
			total++
		}
	}
	recv(200 + 1000 + 1000)
	for _, p := range procs[1:] {
		p.Send("more")
	}
	recv(2000)
	for _, p := range procs[1:] {
		p.Expect("closed", 60*time.Second)
	}
	if v, err := rx.Recv(ctx); err != io.EOF {
		t.Fatalf("after every sender closed: %v %v, want io.EOF", v, err)
	}
	if next[0] != 200 || next[1] != 2000 || next[2] != 2000 {
		t.Fatalf("per sender %v", next)
	}
}

// TestReceiverReclaims: the server deletes a live receiver's consumer (as
// it does after the receiver's lease without activity; here by a direct
// delete). The receiver claims the channel again at its next receive and
// gets every message, once, in order; a second receiver is still refused
// afterwards.
func TestReceiverReclaims(t *testing.T) {
	ctx, _, nc, subj := testChannel(t, 60*time.Second)
	c := msgpack.New[event]()
	tx, err := natsx.Dial(ctx, nc, subj, c)
	if err != nil {
		t.Fatal(err)
	}
	rx, err := natsx.Listen(ctx, connect(t, server(t).URL()), subj, c)
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	for i := range 5 {
		if err := tx.Send(ctx, event{Seq: i}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		if v, err := rx.Recv(ctx); err != nil || v.Seq != i {
			t.Fatalf("before: %v %v, want %d", v, err, i)
		}
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	st, err := js.Stream(ctx, natsx.StreamName(subj))
	if err != nil {
		t.Fatal(err)
	}
	names := st.ConsumerNames(ctx)
	var deleted int
	for name := range names.Name() {
		if err := st.DeleteConsumer(ctx, name); err != nil {
			t.Fatal(err)
		}
		deleted++
	}
	if deleted != 1 {
		t.Fatalf("deleted %d consumers, want the receiver's one", deleted)
	}
	for i := 5; i < 10; i++ {
		if err := tx.Send(ctx, event{Seq: i}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 3; i < 10; i++ {
		v, err := rx.Recv(ctx)
		if err != nil || v.Seq != i {
			t.Fatalf("after the consumer was deleted: %v %v, want %d", v, err, i)
		}
	}
	again := 0
	for range st.ConsumerNames(ctx).Name() {
		again++
	}
	if again != 1 {
		t.Fatalf("%d consumers after the reclaim, want 1", again)
	}
	if _, err := natsx.Listen(ctx, nc, subj, c); !errors.Is(err, natsx.ErrReceiverExists) {
		t.Fatalf("second Listen after the reclaim: %v, want ErrReceiverExists", err)
	}
}

// TestCompetingReceivers: with WithCompetingReceivers, a receiver process
// and a receiver in this process share a channel's messages; a single
// receiver is refused while the group exists, and the group refuses to
// join while a single receiver holds the channel. The process takes 300
// messages and closes; the messages it had taken beyond them go, after
// the ack wait, to the receiver here: every message once in all.
func TestCompetingReceivers(t *testing.T) {
	ctx, url, nc, subj := testChannel(t, 60*time.Second)
	c := msgpack.New[event]()
	tx, err := natsx.Dial(ctx, nc, subj, c)
	if err != nil {
		t.Fatal(err)
	}

	single, err := natsx.Listen(ctx, nc, subj, c)
	if err != nil {
		t.Fatal(err)
	}
	g := testproc.Start(t, "natslistener", url, subj, "30s", "1s", "competing")
	g.Expect("refused", 30*time.Second)
	if err := single.Close(); err != nil {
		t.Fatal(err)
	}

	g = testproc.Start(t, "natslistener", url, subj, "30s", "1s", "competing")
	g.Expect("listening", 30*time.Second)
	if _, err := natsx.Listen(ctx, nc, subj, c); !errors.Is(err, natsx.ErrReceiverExists) {
		t.Fatalf("single Listen beside a group: %v, want ErrReceiverExists", err)
	}
	rx, err := natsx.Listen(ctx, connect(t, url), subj, c, natsx.WithCompetingReceivers(), natsx.WithAckWait(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	const n = 1000
	for i := range n {
		if err := tx.Send(ctx, event{Seq: i}); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Close(); err != nil {
		t.Fatal(err)
	}
	seen := make([]int, n)
	g.Send("recv 300")
	line := g.Expect("got", 30*time.Second)
	for _, f := range strings.Split(strings.TrimPrefix(line, "got "), ",") {
		k, err := strconv.Atoi(f)
		if err != nil || k < 0 || k >= n {
			t.Fatalf("process got %q", f)
		}
		seen[k]++
	}
	g.Send("close")
	g.Expect("closed", 30*time.Second)
	here := 0
	for here < n-300 {
		v, err := rx.Recv(ctx)
		if err != nil {
			t.Fatalf("after %d here: %v", here, err)
		}
		if v.Seq < 0 || v.Seq >= n {
			t.Fatalf("Seq %d", v.Seq)
		}
		seen[v.Seq]++
		here++
	}
	for i, k := range seen {
		if k != 1 {
			t.Fatalf("message %d received %d times", i, k)
		}
	}
	// No io.EOF in a group: the end-of-stream message is skipped.
	short, cancelShort := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancelShort()
	if v, err := rx.Recv(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("after every message: %v %v, want the ctx error", v, err)
	}
}
