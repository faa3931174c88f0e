//go:build linux

package typed_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"testing"

	"github.com/zerobuffer/zerobuffer-go/codec/msgpack"
	"github.com/zerobuffer/zerobuffer-go/core"
	"github.com/zerobuffer/zerobuffer-go/platform"
	"github.com/zerobuffer/zerobuffer-go/typed"
)

// TestClose_SignalHandlerRace runs the shutdown of a typical program in a
// child process, many times: a Receiver and a Sender of the same buffer, a
// Recv blocked in main, and on SIGTERM two goroutines that each close both
// (a signal handler and a deferred Close) while the blocked Recv returns
// and main closes them too. Every one of the three exits the process as
// soon as its Close calls return. Since every Close (and the Recv that
// fails with core.ErrClosed) returns only after cleanup is complete, no
// shared memory, semaphore or lock file of the buffer may survive the
// process, whichever goroutine gets to exit first.
func TestClose_SignalHandlerRace(t *testing.T) {
	runs := 100
	if testing.Short() {
		runs = 20
	}
	leaked := 0
	for i := range runs {
		name := fmt.Sprintf("zbtyped-%d-closerace-%d", os.Getpid(), i)
		names, err := platform.UnixNames(name, platform.Dirs{})
		if err != nil {
			t.Fatal(err)
		}
		p := startPeer(t, child{role: "closerace"}, name)
		if l := p.line(t); l != "ready" {
			t.Fatalf("run %d: child says %q\nstderr:\n%s", i, l, p.stderr)
		}
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if err := p.cmd.Wait(); err != nil {
			t.Fatalf("run %d: child: %v\nstderr:\n%s", i, err, p.stderr)
		}
		var left []string
		for _, path := range []string{names.Shm, names.SemW, names.SemR, names.Lock, names.WriterLock} {
			if _, err := os.Lstat(path); err == nil {
				left = append(left, path)
				_ = os.Remove(path)
			}
		}
		if len(left) > 0 {
			leaked++
			t.Errorf("run %d: the exited process left %v", i, left)
		}
	}
	t.Logf("%d runs, %d left objects behind", runs, leaked)
}

// childCloseRace is the child of TestClose_SignalHandlerRace.
func childCloseRace(name string) error {
	rx, err := typed.Listen(name, core.BufferConfig{PayloadSize: 4096}, msgpack.New[Small]())
	if err != nil {
		return err
	}
	tx, err := typed.Dial(context.Background(), name, msgpack.New[Small]())
	if err != nil {
		return errors.Join(err, rx.Close())
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	closeAndExit := func(first, second interface{ Close() error }) {
		_ = first.Close()
		_ = second.Close()
		os.Exit(0)
	}
	go func() {
		<-sig
		go closeAndExit(tx, rx)
		go closeAndExit(rx, tx)
	}()
	recvd := make(chan struct{})
	go func() {
		// Recv is blocked (nothing is sent) once "ready" is out, or soon
		// after: either way Close must end it.
		close(recvd)
		_, err := rx.Recv(context.Background())
		if !errors.Is(err, core.ErrClosed) && !errors.Is(err, io.EOF) { // EOF: the Sender closed first
			fmt.Fprintf(os.Stderr, "blocked Recv: %v, want core.ErrClosed or io.EOF\n", err)
			os.Exit(2)
		}
		closeAndExit(rx, tx) // main's deferred Close
	}()
	<-recvd
	fmt.Println("ready")
	select {} // the process ends through one of the os.Exit calls
}
