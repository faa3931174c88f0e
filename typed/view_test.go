package typed_test

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/zerobuffer/zerobuffer-go/codec"
	"github.com/zerobuffer/zerobuffer-go/codec/flatbuf/sensor"
	"github.com/zerobuffer/zerobuffer-go/codec/msgpack"
	"github.com/zerobuffer/zerobuffer-go/core"
	"github.com/zerobuffer/zerobuffer-go/typed"
)

// readingPair returns an in-process FlatBuffers view receiver and sender.
func readingPair(t *testing.T) (*typed.ViewReceiver[sensor.Reading], *typed.Sender[*sensor.ReadingT]) {
	t.Helper()
	name := bufferName(t)
	rx, err := typed.ListenView(name, core.BufferConfig{PayloadSize: 4096}, sensor.NewDecoder())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rx.Close() })
	tx, err := typed.Dial(testCtx(t), name, sensor.NewEncoder())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tx.Close() })
	return rx, tx
}

func sendReadings(t *testing.T, tx *typed.Sender[*sensor.ReadingT], from, to int) {
	t.Helper()
	var r sensor.ReadingT
	for i := from; i < to; i++ {
		if err := tx.Send(testCtx(t), readingMsg("var", i, &r)); err != nil {
			t.Fatal(err)
		}
	}
}

// TestViewReceiver_ViewAliasesFrame: the FlatBuffers value read in place is
// the frame in shared memory, not a copy.
func TestViewReceiver_ViewAliasesFrame(t *testing.T) {
	rx, tx := readingPair(t)
	sendReadings(t, tx, 3, 4)
	f, err := rx.Reader().ReadFrame(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Release()
	v, err := sensor.NewDecoder().View(f.Data())
	if err != nil {
		t.Fatal(err)
	}
	if tab := v.Table(); &tab.Bytes[0] != &f.Data()[0] || len(tab.Bytes) != f.Len() {
		t.Fatal("the view does not alias the frame")
	}
	if name := v.Name(); len(name) == 0 || !inside(name, f.Data()) {
		t.Fatal("Name() is not inside the frame")
	}
	if err := checkReading(3, &v); err != nil {
		t.Fatal(err)
	}
}

// inside reports whether sub is a subslice of buf, by address identity.
func inside(sub, buf []byte) bool {
	for i := range len(buf) - len(sub) + 1 {
		if &buf[i] == &sub[0] {
			return true
		}
	}
	return false
}

func TestViewReceiver_RecvFuncAllocs(t *testing.T) {
	rx, tx := readingPair(t)
	const n = 40 // fits the 4 KiB ring
	sendReadings(t, tx, 0, n)
	ctx := testCtx(t)
	i := 0
	fn := func(r sensor.Reading) error { return checkReading(i, &r) }
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race")
	}
	allocs := testing.AllocsPerRun(n-1, func() {
		if err := rx.RecvFunc(ctx, fn); err != nil {
			t.Fatal(err)
		}
		i++
	})
	t.Logf("allocs per RecvFunc: %v", allocs)
	if allocs != 0 {
		t.Errorf("RecvFunc allocates %v times per message, want 0", allocs)
	}
}

func TestViewReceiver_AllBreakKeepsNext(t *testing.T) {
	rx, tx := readingPair(t)
	sendReadings(t, tx, 0, 5)
	tx.Close()
	ctx := testCtx(t)
	next := 0
	for round := 0; ; round++ {
		got := 0
		for r, err := range rx.All(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			if err := checkReading(next, &r); err != nil {
				t.Fatal(err)
			}
			next++
			if got++; got == 2 {
				break // releases this frame; the next loop resumes after it
			}
		}
		if got < 2 {
			break
		}
	}
	if next != 5 {
		t.Fatalf("received %d messages, want 5", next)
	}
}

func TestViewReceiver_RecvFuncReleasesOnPanic(t *testing.T) {
	rx, tx := readingPair(t)
	sendReadings(t, tx, 0, 2)
	func() {
		defer func() { recover() }()
		rx.RecvFunc(testCtx(t), func(sensor.Reading) error { panic("boom") })
	}()
	err := rx.RecvFunc(testCtx(t), func(r sensor.Reading) error { return checkReading(1, &r) })
	if err != nil {
		t.Fatal(err)
	}
	sentinel := errors.New("stop")
	sendReadings(t, tx, 2, 3)
	if err := rx.RecvFunc(testCtx(t), func(sensor.Reading) error { return sentinel }); err != sentinel {
		t.Fatalf("RecvFunc returned %v, want the callback's error", err)
	}
}

// TestCodecMismatch_Receiver: a msgpack sender talking to a FlatBuffers
// receiver gets a clear, sticky ErrCodecMismatch instead of garbage.
func TestCodecMismatch_Receiver(t *testing.T) {
	ctx := testCtx(t)
	name := bufferName(t)
	rx, err := typed.ListenView(name, core.BufferConfig{PayloadSize: 4096}, sensor.NewDecoder())
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	tx, err := typed.Dial(ctx, name, msgpack.New[Small]())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	for i := range 2 {
		if err := tx.Send(ctx, smallMsg(i)); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		err := rx.RecvFunc(ctx, func(sensor.Reading) error { t.Fatal("callback called"); return nil })
		var me *codec.MismatchError
		if !errors.Is(err, typed.ErrCodecMismatch) || !errors.As(err, &me) {
			t.Fatalf("got %v, want ErrCodecMismatch", err)
		}
		if me.Want != sensor.CodecName || me.Got != msgpack.Name {
			t.Fatalf("mismatch %+v", me)
		}
	}
}

// TestCodecMismatch_Sender: metadata is write-once, so a later sender with
// another codec is refused at Dial, while one with the same codec may
// reconnect.
func TestCodecMismatch_Sender(t *testing.T) {
	ctx := testCtx(t)
	rx, tx := smallPair(t, 4096)
	name := rx.Reader().Name()
	if err := errors.Join(tx.Send(ctx, smallMsg(0)), tx.Close()); err != nil {
		t.Fatal(err)
	}
	if _, err := typed.Dial(ctx, name, sensor.NewEncoder()); !errors.Is(err, typed.ErrCodecMismatch) {
		t.Fatalf("Dial with another codec: %v, want ErrCodecMismatch", err)
	}
	tx2, err := typed.Dial(ctx, name, msgpack.New[Small]())
	if err != nil {
		t.Fatal(err)
	}
	defer tx2.Close()
	if err := tx2.Send(ctx, smallMsg(1)); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		v, err := rx.Recv(ctx)
		if i == 1 && err != nil { // the first writer's io.EOF comes in between
			v, err = rx.Recv(ctx)
		}
		if err != nil || checkSmall(i, v) != nil {
			t.Fatalf("message %d: %+v, %v", i, v, err)
		}
	}
}

func TestReceiver_NoMetadata(t *testing.T) {
	for _, check := range []bool{true, false} {
		ctx := testCtx(t)
		name := bufferName(t)
		var opts []typed.Option
		if !check {
			opts = append(opts, typed.WithoutCodecCheck())
		}
		rx, err := typed.ListenView(name, core.BufferConfig{PayloadSize: 4096}, codec.Raw{}, opts...)
		if err != nil {
			t.Fatal(err)
		}
		w, err := core.NewWriter(name) // like a C++ writer: no metadata
		if err != nil {
			t.Fatal(err)
		}
		if err := w.WriteFrame(ctx, []byte("hi")); err != nil {
			t.Fatal(err)
		}
		err = rx.RecvFunc(ctx, func(p []byte) error {
			if string(p) != "hi" {
				t.Errorf("got %q", p)
			}
			return nil
		})
		var me *codec.MismatchError
		if check && (!errors.As(err, &me) || me.Got != "") {
			t.Errorf("with check: %v, want a mismatch with no codec declared", err)
		}
		if !check && err != nil {
			t.Errorf("WithoutCodecCheck: %v", err)
		}
		w.Close()
		rx.Close()
	}
}

// TestReceiver_RejectsViewDecoder proves the lifetime rule is enforced by
// the compiler: a borrowing decoder does not fit Receiver.
func TestReceiver_RejectsViewDecoder(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found")
	}
	out, err := exec.CommandContext(context.Background(), goTool, "vet", "./testdata/misuse").CombinedOutput()
	if err == nil {
		t.Fatal("misuse compiled")
	}
	for _, want := range []string{"does not implement codec.Decoder[sensor.Reading]", "missing method Decode"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("compiler output lacks %q:\n%s", want, out)
		}
	}
}
