package typed_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/zerobuffer/zerobuffer-go/platform"
)

// Environment of a re-executed test binary acting as a peer process.
const (
	envRole  = "ZEROBUFFER_TYPED_ROLE" // "send" or "recv"
	envCodec = "ZEROBUFFER_TYPED_CODEC"
	envName  = "ZEROBUFFER_TYPED_NAME"
	envCount = "ZEROBUFFER_TYPED_COUNT" // messages to send; -1 = until the reader is gone
	envSize  = "ZEROBUFFER_TYPED_SIZE"  // "var", "small" or "4k"
	envEnd   = "ZEROBUFFER_TYPED_END"   // after sending: "close" or "hang"
)

func TestMain(m *testing.M) {
	if role := os.Getenv(envRole); role != "" {
		os.Exit(runChild(role))
	}
	goleak.VerifyTestMain(m)
}

// child describes a peer process.
type child struct {
	role, codec, size, end string
	count                  int
}

func runChild(role string) int {
	c := child{
		role: role, codec: os.Getenv(envCodec), size: os.Getenv(envSize), end: os.Getenv(envEnd),
	}
	c.count, _ = strconv.Atoi(os.Getenv(envCount))
	var err error
	switch role {
	case "send":
		err = childSend(c, os.Getenv(envName))
	case "recv":
		err = childRecv(c, os.Getenv(envName))
	case "closerace": // closerace_test.go (Linux)
		err = childCloseRace(os.Getenv(envName))
	default:
		err = fmt.Errorf("unknown role %q", role)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "child %s/%s: %v\n", role, c.codec, err)
		return 1
	}
	return 0
}

// peer is a running child process.
type peer struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  *bufio.Scanner
	stderr *syncBuffer
}

// startPeer re-executes the test binary as c on buffer name. The child
// dies with the test process (Pdeathsig) and is killed at cleanup.
func startPeer(tb testing.TB, c child, name string) *peer {
	tb.Helper()
	// Under wine, process creation fails now and then with "Internal
	// error" on a loaded machine: Windows gets three attempts, and a
	// failure that persists still fails the test.
	attempts := 1
	if runtime.GOOS == "windows" {
		attempts = 3
	}
	var (
		p   *peer
		err error
	)
	for i := range attempts {
		if i > 0 {
			tb.Logf("start %s: %v; trying again", c.role, err)
			time.Sleep(100 * time.Millisecond)
		}
		if p, err = launchPeer(c, name); err == nil {
			break
		}
	}
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		_ = p.cmd.Wait()
	})
	return p
}

// launchPeer starts one child process for startPeer.
func launchPeer(c child, name string) (*peer, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(),
		envRole+"="+c.role, envCodec+"="+c.codec, envName+"="+name,
		envCount+"="+strconv.Itoa(c.count), envSize+"="+c.size, envEnd+"="+c.end)
	cmd.Env = append(cmd.Env, "GORACE="+os.Getenv("GORACE")+" atexit_sleep_ms=0") // a race-enabled child exits at once
	dieWithParent(cmd)
	p := &peer{cmd: cmd, stderr: &syncBuffer{}}
	cmd.Stderr = p.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		// Start closes the pipes it made when it fails.
		return nil, err
	}
	p.lines = bufio.NewScanner(stdout)
	return p, nil
}

// syncBuffer is the child's stderr: written by exec's copying goroutine,
// read by a test that fails while the child still runs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// line waits for the next line the child prints.
func (p *peer) line(tb testing.TB) string {
	tb.Helper()
	if !p.lines.Scan() {
		tb.Fatalf("child ended without output: %v\nstderr:\n%s", p.lines.Err(), p.stderr)
	}
	return p.lines.Text()
}

// wait waits for the child to exit and fails the test if it failed.
func (p *peer) wait(tb testing.TB) {
	tb.Helper()
	_ = p.stdin.Close()
	if err := p.cmd.Wait(); err != nil {
		tb.Fatalf("child: %v\nstderr:\n%s", err, p.stderr)
	}
}

// kill SIGKILLs the child and reaps it.
func (p *peer) kill(tb testing.TB) {
	tb.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		tb.Fatal(err)
	}
	_ = p.cmd.Wait()
}

var nameSeq atomic.Int64

// bufferName returns a buffer name unique to this process and test, and
// registers a cleanup that fails the test if any of its objects survive
// (shared memory, semaphores, reader and writer lock files), then removes
// them.
func bufferName(tb testing.TB) string {
	tb.Helper()
	base := strings.NewReplacer("/", "_", " ", "_").Replace(tb.Name())
	name := fmt.Sprintf("zbtyped-%d-%d-%s", os.Getpid(), nameSeq.Add(1), base)
	if len(name) > 200 {
		name = name[:200]
	}
	names, err := platform.UnixNames(name, platform.Dirs{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		deadline := time.Now().Add(2 * time.Second) // a child reader may still be closing
		for _, p := range []string{names.Shm, names.SemW, names.SemR, names.Lock, names.WriterLock} {
			for {
				_, err := os.Stat(p)
				if os.IsNotExist(err) {
					break
				}
				if time.Now().After(deadline) {
					tb.Errorf("leftover %s (err %v)", p, err)
					_ = os.Remove(p)
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
	})
	return name
}
