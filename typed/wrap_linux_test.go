package typed_test

// Typed receives from a writer that follows the C++ reference's order at a
// wrap (marker counted before the frame at offset 0 is written), run in
// another process and paused at every step of a frame, through a 4 KiB
// ring: every message arrives complete and in order.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/zerobuffer/zerobuffer-go/codec"
	"github.com/zerobuffer/zerobuffer-go/core"
	"github.com/zerobuffer/zerobuffer-go/internal/specpeer"
	"github.com/zerobuffer/zerobuffer-go/typed"
)

const envSpecWriter = "ZEROBUFFER_TYPED_SPEC_WRITER" // "name count"

// The spec-literal writer child starts before TestMain.
func init() {
	if v := os.Getenv(envSpecWriter); v != "" {
		var name string
		var count int
		fmt.Sscan(v, &name, &count)
		if err := specWriterChild(name, count); err != nil {
			fmt.Fprintln(os.Stderr, "spec writer:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
}

// specMessage is message seq of the stream: 1000, 1000, 1000 then 2000
// bytes, byte i equal to seq+i.
func specMessage(buf []byte, seq int) []byte {
	n := 1000
	if seq%4 == 0 {
		n = 2000
	}
	b := buf[:n]
	for i := range b {
		b[i] = byte(seq + i)
	}
	return b
}

func specWriterChild(name string, count int) error {
	w, err := specpeer.Open(name)
	if err != nil {
		return err
	}
	defer w.Close()
	rng := rand.New(rand.NewPCG(uint64(count), 3))
	w.Pause = func(specpeer.Step) {
		switch x := rng.IntN(1024); {
		case x == 0:
			time.Sleep(20 * time.Microsecond)
		case x < 128:
			runtime.Gosched()
		}
	}
	buf := make([]byte, 2000)
	for seq := 1; seq <= count; seq++ {
		if err := w.Write(specMessage(buf, seq), 10*time.Second); err != nil {
			return fmt.Errorf("message %d: %w", seq, err)
		}
	}
	return nil
}

func TestReceiver_ForeignOrderWriter(t *testing.T) {
	count := 100_000
	if testing.Short() {
		count = 10_000
	}
	for _, mode := range []string{"Recv", "All", "C"} {
		t.Run(mode, func(t *testing.T) {
			name := bufferName(t)
			rx, err := typed.Listen[[]byte](name, core.BufferConfig{PayloadSize: 4096}, codec.RawCopy{}, typed.WithoutCodecCheck())
			if err != nil {
				t.Fatal(err)
			}
			defer rx.Close()
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), envSpecWriter+"="+name+" "+strconv.Itoa(count))
			cmd.Stderr = os.Stderr
			dieWithParent(cmd)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			want := make([]byte, 2000)
			seq := 0
			check := func(v []byte) {
				seq++
				if w := specMessage(want, seq); string(v) != string(w) {
					t.Fatalf("message %d: %d bytes, content wrong or incomplete (want %d bytes)", seq, len(v), len(w))
				}
			}
			switch mode {
			case "Recv":
				for seq < count {
					v, err := rx.Recv(ctx)
					if err != nil {
						t.Fatalf("after %d messages: %v", seq, err)
					}
					check(v)
				}
			case "All":
				for v, err := range rx.All(ctx) {
					if err != nil {
						t.Fatalf("after %d messages: %v", seq, err)
					}
					check(v)
					if seq == count {
						break
					}
				}
			case "C":
				for v := range rx.C(ctx) {
					check(v)
					if seq == count {
						break
					}
				}
				if seq != count {
					t.Fatalf("channel closed after %d messages: %v", seq, rx.Err())
				}
			}
			if err := cmd.Wait(); err != nil {
				t.Fatalf("writer: %v", err)
			}
			if _, err := rx.Recv(ctx); !errors.Is(err, io.EOF) {
				t.Fatalf("after the writer closed: %v, want io.EOF", err)
			}
		})
	}
}
