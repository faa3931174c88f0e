// Package testproc runs helper processes for cross-process tests by
// re-executing the test binary in a named role (the x/sys/unix TestPassFD
// pattern). The parent reads status lines the child prints and can send
// it command lines, kill it, stop it and continue it. Children die with
// the parent.
//
// In the test package:
//
//	func TestMain(m *testing.M) {
//		testproc.Main(map[string]testproc.Role{"writer": writerRole})
//		os.Exit(m.Run())
//	}
package testproc

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	envRole = "ZB_TESTPROC_ROLE"
	envArgs = "ZB_TESTPROC_ARGS"
	argSep  = "\x1f"
)

// Role is the body of a child process. It returns the exit code.
type Role func(c *Child, args []string) int

// Main runs the role named in the environment, if any, and exits. Call it
// first in TestMain.
func Main(roles map[string]Role) {
	name := os.Getenv(envRole)
	if name == "" {
		return
	}
	role, ok := roles[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "testproc: unknown role %q\n", name)
		os.Exit(2)
	}
	var args []string
	if a := os.Getenv(envArgs); a != "" {
		args = strings.Split(a, argSep)
	}
	c := &Child{in: bufio.NewScanner(os.Stdin)}
	c.in.Buffer(make([]byte, 1<<20), 1<<20)
	os.Exit(role(c, args))
}

// Child is the child's side: status lines out, command lines in.
type Child struct {
	mu sync.Mutex
	in *bufio.Scanner
}

// Printf sends one status line to the parent.
func (c *Child) Printf(format string, a ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintf(os.Stdout, format+"\n", a...)
}

// Next blocks for the next command line from the parent; ok is false when
// the parent closed the pipe.
func (c *Child) Next() (line string, ok bool) {
	if !c.in.Scan() {
		return "", false
	}
	return c.in.Text(), true
}

// Proc is the parent's handle on a child.
type Proc struct {
	t     testing.TB
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
	done  chan struct{}
	err   error
}

// Start runs the test binary in role with args. The child is killed when
// the test ends (and when the parent dies, through Pdeathsig).
func Start(t testing.TB, role string, args ...string) *Proc {
	t.Helper()
	return StartEnv(t, nil, role, args...)
}

// StartEnv is Start with extra environment variables ("K=V").
func StartEnv(t testing.TB, env []string, role string, args ...string) *Proc {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return start(t, exe, sysProcAttr(), env, role, args...)
}

// start runs exe (a copy of the test binary) in role with attr.
func start(t testing.TB, exe string, attr *syscall.SysProcAttr, env []string, role string, args ...string) *Proc {
	t.Helper()
	// ZB_EXEC_PREFIX runs children through an emulator (for example
	// "qemu-aarch64" where binfmt_misc is unavailable).
	argv := append(strings.Fields(os.Getenv("ZB_EXEC_PREFIX")), exe, "-test.run=^$")
	environ := append(os.Environ(), envRole+"="+role, envArgs+"="+strings.Join(args, argSep))
	if runtime.GOOS != "windows" { // the Windows tests run without the race detector, under wine
		// A race-enabled child sleeps 1 s at exit by default (GORACE
		// atexit_sleep_ms); a race report still fails it (exit code 66).
		environ = append(environ, "GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	}
	environ = append(environ, env...)
	var (
		cmd    *exec.Cmd
		stdin  io.WriteCloser
		stdout *os.File
		err    error
	)
	// Under wine, process creation fails now and then with "Internal
	// error" on a loaded machine: Windows gets three attempts, and a
	// failure that persists still fails the test.
	attempts := 1
	if runtime.GOOS == "windows" {
		attempts = 3
	}
	for i := range attempts {
		if i > 0 {
			t.Logf("start %s: %v; trying again", role, err)
			time.Sleep(100 * time.Millisecond)
		}
		if cmd, stdin, stdout, err = launch(argv, environ, attr); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	p := &Proc{t: t, cmd: cmd, stdin: stdin, lines: make(chan string, 1024), done: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		stdout.Close()
		close(p.lines)
	}()
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.Kill()
		<-p.done
	})
	return p
}

// launch starts argv with environ and attr, its stderr on ours, and
// returns it with its stdin and the read end of its stdout.
func launch(argv, environ []string, attr *syscall.SysProcAttr) (*exec.Cmd, io.WriteCloser, *os.File, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = environ
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = attr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, nil, nil, err
	}
	// An os.Pipe of our own, not cmd.StdoutPipe: Wait closes the latter as
	// soon as the child exits, which can drop the child's last lines (a
	// "done" printed just before exit) that the reader below has not read
	// yet. Our read end sees every line, then EOF.
	stdout, childOut, err := os.Pipe()
	if err != nil {
		stdin.Close()
		return nil, nil, nil, err
	}
	cmd.Stdout = childOut
	err = cmd.Start()
	childOut.Close() // the child has its copy
	if err != nil {
		stdin.Close()
		stdout.Close()
		return nil, nil, nil, err
	}
	return cmd, stdin, stdout, nil
}

// Pid returns the child's process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Expect waits for the next status line and fails the test unless it
// starts with prefix. It returns the line.
func (p *Proc) Expect(prefix string, timeout time.Duration) string {
	p.t.Helper()
	line, err := p.Line(timeout)
	if err != nil {
		p.t.Fatalf("waiting for %q: %v", prefix, err)
	}
	if !strings.HasPrefix(line, prefix) {
		p.t.Fatalf("child said %q, want prefix %q", line, prefix)
	}
	return line
}

// Line returns the next status line.
func (p *Proc) Line(timeout time.Duration) (string, error) {
	select {
	case l, ok := <-p.lines:
		if !ok {
			<-p.done
			return "", fmt.Errorf("child exited: %v", p.err)
		}
		return l, nil
	case <-time.After(timeout):
		return "", fmt.Errorf("no status line within %v", timeout)
	}
}

// Send writes one command line to the child.
func (p *Proc) Send(line string) {
	p.t.Helper()
	if _, err := io.WriteString(p.stdin, line+"\n"); err != nil {
		p.t.Fatalf("send %q: %v", line, err)
	}
}

// CloseInput closes the child's standard input.
func (p *Proc) CloseInput() { p.stdin.Close() }

// Kill sends SIGKILL and waits for the child to be reaped.
func (p *Proc) Kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// Signal sends sig to the child.
func (p *Proc) Signal(sig os.Signal) { _ = p.cmd.Process.Signal(sig) }

// Wait waits for the child to exit and returns its exit code.
func (p *Proc) Wait(timeout time.Duration) (int, error) {
	select {
	case <-p.done:
		if p.cmd.ProcessState == nil {
			return -1, p.err
		}
		return p.cmd.ProcessState.ExitCode(), nil
	case <-time.After(timeout):
		return -1, fmt.Errorf("child still running after %v", timeout)
	}
}
