package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// ChildEnv is the environment variable that turns a program using this
// package into a benchmark peer: [Run] re-executes the running binary
// ([os.Executable]) with ChildEnv set to a JSON job description, and the
// program's main (or TestMain) must then call [ChildMain] before doing
// anything else.
const ChildEnv = "ZEROBUFFER_BENCH_CHILD"

// IsChild reports whether this process was started by [Run] as a peer.
func IsChild() bool { return os.Getenv(ChildEnv) != "" }

// ChildMain runs the peer role described by [ChildEnv], talking to the
// parent through stdin and stdout, and returns the process exit code.
// Call it only when [IsChild] is true, typically as
// `if bench.IsChild() { os.Exit(bench.ChildMain()) }` at the top of main.
func ChildMain() int {
	var j job
	if err := json.Unmarshal([]byte(os.Getenv(ChildEnv)), &j); err != nil {
		fmt.Fprintf(os.Stderr, "zerobuffer bench child: bad job: %v\n", err)
		return 1
	}
	// Orphan protection on every OS: the parent holds our stdin open
	// until it has waited for us, so EOF means it is gone.
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(3)
	}()
	out := json.NewEncoder(os.Stdout)
	ready := func(addr string) error { return out.Encode(childMsg{Ready: true, Addr: addr}) }
	res, err := runRole(context.Background(), j, ready)
	msg := childMsg{Result: &res}
	if err != nil {
		msg.Err = err.Error()
	}
	if eerr := out.Encode(msg); eerr != nil || err != nil {
		return 1
	}
	return 0
}

// job tells a child what to do.
type job struct {
	Role     string        `json:"role"`
	Size     int           `json:"size"`
	Name     string        `json:"name,omitempty"`  // buffer name, socket path or shm path
	Name2    string        `json:"name2,omitempty"` // second buffer (ping-pong replies)
	Ring     int           `json:"ring,omitempty"`  // ring bytes
	Mode     string        `json:"mode,omitempty"`  // zerobuffer write path for echo
	Idle     string        `json:"idle,omitempty"`  // zerobuffer idle strategy ("" = default)
	CPU      int           `json:"cpu,omitempty"`   // pin the child to CPU-1 (0 = no pin)
	Duration time.Duration `json:"duration,omitempty"`
}

// childMsg is one line the child writes to stdout.
type childMsg struct {
	Ready  bool        `json:"ready,omitempty"`
	Addr   string      `json:"addr,omitempty"`
	Result *sideResult `json:"result,omitempty"`
	Err    string      `json:"err,omitempty"`
}

// sideResult is what one side of a case measured.
type sideResult struct {
	Count    uint64        `json:"count"`    // messages in the timed window
	Elapsed  time.Duration `json:"elapsed"`  // the timed window
	CPU      time.Duration `json:"cpu"`      // user+system CPU in the window
	CPUWall  time.Duration `json:"cpu_wall"` // wall time the CPU figure covers
	Received uint64        `json:"received"` // every message verified
}

// runRole dispatches a child job. ready must be called once the child
// can be connected to.
func runRole(ctx context.Context, j job, ready func(addr string) error) (sideResult, error) {
	switch j.Role {
	case "stream-recv":
		return streamRecvChild(ctx, j, ready)
	case "stream-echo":
		return streamEchoChild(ctx, j, ready)
	case "zb-recv":
		return zbRecvChild(ctx, j, ready)
	case "zb-echo":
		return zbEchoChild(ctx, j, ready)
	case "zb-idle":
		return zbIdleChild(ctx, j, ready)
	case "ring-recv":
		return ringRecvChild(ctx, j, ready)
	case "cacheline":
		return cachelineChild(ctx, j, ready)
	}
	if f, ok := faninRoles[j.Role]; ok { // fanin.go
		return f(ctx, j, ready)
	}
	if f, ok := typedRoles[j.Role]; ok { // typed.go
		return f(ctx, j, ready)
	}
	return sideResult{}, fmt.Errorf("bench: unknown child role %q", j.Role)
}

// peer is a running child process.
type peer struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	msgs   chan childMsg
	stderr *lockedBuffer
	done   chan struct{}
	err    error // set before done is closed
}

// startPeer re-executes this binary as a child running j. files become
// the child's descriptors 3, 4, ... .
func startPeer(j job, files ...*os.File) (*peer, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("bench: find own binary: %w", err)
	}
	spec, err := json.Marshal(j)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), ChildEnv+"="+string(spec))
	cmd.ExtraFiles = files
	cmd.SysProcAttr = childProcAttr()
	p := &peer{cmd: cmd, msgs: make(chan childMsg, 4), stderr: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stderr = p.stderr
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("bench: start peer: %w", err)
	}
	go p.readLoop(stdout)
	return p, nil
}

func (p *peer) readLoop(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var m childMsg
		if json.Unmarshal(sc.Bytes(), &m) != nil {
			continue
		}
		select {
		case p.msgs <- m:
		default: // a child sends two messages; never block on a third
		}
	}
	close(p.msgs)
	p.err = p.cmd.Wait()
	close(p.done)
}

// next returns the child's next message, or an error after timeout or
// when the child exited without one.
func (p *peer) next(ctx context.Context, timeout time.Duration) (childMsg, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case m, ok := <-p.msgs:
		if !ok {
			<-p.done
			return childMsg{}, p.failure(fmt.Errorf("exited: %v", p.err))
		}
		if m.Err != "" {
			return m, p.failure(errors.New(m.Err))
		}
		return m, nil
	case <-t.C:
		return childMsg{}, p.failure(fmt.Errorf("no answer within %v", timeout))
	case <-ctx.Done():
		return childMsg{}, ctx.Err()
	}
}

func (p *peer) failure(err error) error {
	if s := strings.TrimSpace(p.stderr.String()); s != "" {
		return fmt.Errorf("bench: peer %s: %w (stderr: %s)", p.cmd.Path, err, s)
	}
	return fmt.Errorf("bench: peer: %w", err)
}

// ready waits for the child's ready message and returns its address.
func (p *peer) ready(ctx context.Context) (string, error) {
	m, err := p.next(ctx, 10*time.Second)
	if err == nil && !m.Ready {
		err = p.failure(errors.New("sent a result before being ready"))
	}
	return m.Addr, err
}

// result waits for the child's final message.
func (p *peer) result(ctx context.Context, timeout time.Duration) (sideResult, error) {
	m, err := p.next(ctx, timeout)
	if err != nil {
		return sideResult{}, err
	}
	if m.Result == nil {
		return sideResult{}, p.failure(errors.New("sent no result"))
	}
	return *m.Result, nil
}

// stop kills the child if it still runs and waits for it. It is safe to
// call more than once.
func (p *peer) stop() {
	select {
	case <-p.done:
	case <-time.After(2 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	_ = p.stdin.Close()
}

// kill ends the child at once.
func (p *peer) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
	_ = p.stdin.Close()
}

// lockedBuffer collects a child's stderr.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write keeps the first 64 KiB of the child's stderr.
func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() > 64<<10 {
		return len(p), nil
	}
	return l.b.Write(p)
}

// String returns what was collected.
func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
