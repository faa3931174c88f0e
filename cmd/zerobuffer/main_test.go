//go:build linux

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/zerobuffer/zerobuffer-go/bench"
	"github.com/zerobuffer/zerobuffer-go/core"
	"github.com/zerobuffer/zerobuffer-go/platform"
)

// helperEnv makes the test binary behave as the zerobuffer command, so
// that the tests run the real command line in real processes.
const helperEnv = "ZEROBUFFER_CLI_TEST_HELPER"

func TestMain(m *testing.M) {
	if bench.IsChild() {
		os.Exit(bench.ChildMain())
	}
	if os.Getenv(helperEnv) == "1" {
		main()
	}
	os.Exit(m.Run())
}

var nameSeq atomic.Uint64

// uniqueName returns a buffer name unique to this test and process and
// removes every object of that name when the test ends.
func uniqueName(t *testing.T) string {
	t.Helper()
	clean := regexp.MustCompile(`[^A-Za-z0-9_-]+`).ReplaceAllString(t.Name(), "_")
	name := fmt.Sprintf("zbcli-%d-%d-%s", os.Getpid(), nameSeq.Add(1), clean)
	t.Cleanup(func() { removeObjects(t, name, platform.Dirs{}) })
	return name
}

func removeObjects(t *testing.T, name string, d platform.Dirs) {
	n, err := platform.ObjectNames(name, d)
	if err != nil {
		t.Errorf("names of %q: %v", name, err)
		return
	}
	for _, p := range []string{n.Shm, n.SemW, n.SemR, n.Lock, n.WriterLock} {
		if err := platform.Remove(p); err != nil {
			t.Errorf("remove %s: %v", p, err)
		}
	}
}

// objectsLeft lists which of a buffer's files exist.
func objectsLeft(t *testing.T, name string, d platform.Dirs) []string {
	t.Helper()
	n, err := platform.ObjectNames(name, d)
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, p := range []string{n.Shm, n.SemW, n.SemR, n.Lock} {
		if _, err := os.Lstat(p); err == nil {
			left = append(left, p)
		}
	}
	return left
}

// zbCmd prepares the command line args as a child process.
func zbCmd(t *testing.T, extraEnv []string, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(append(os.Environ(), helperEnv+"=1"), extraEnv...)
	// A race-enabled child sleeps 1 s at exit by default (GORACE
	// atexit_sleep_ms); a report still fails it (exit code 66).
	cmd.Env = append(cmd.Env, "GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return cmd
}

type result struct {
	stdout, stderr string
	code           int
}

// zb runs the command to completion with stdin and returns its output
// and exit code.
func zb(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	return zbEnv(t, nil, stdin, args...)
}

func zbEnv(t *testing.T, extraEnv []string, stdin string, args ...string) result {
	t.Helper()
	cmd := zbCmd(t, extraEnv, args...)
	var out, errb bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = strings.NewReader(stdin), &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("zerobuffer %s: timed out; stderr: %s", strings.Join(args, " "), errb.String())
	}
	return result{out.String(), errb.String(), cmd.ProcessState.ExitCode()}
}

// startRecv starts `zerobuffer recv` in the background and waits until
// its buffer exists. The returned channel yields its result.
func startRecv(t *testing.T, extraEnv []string, d platform.Dirs, name string, args ...string) (*exec.Cmd, <-chan result) {
	t.Helper()
	cmd := zbCmd(t, extraEnv, append([]string{"recv", name}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	res := make(chan result, 1)
	go func() {
		_ = cmd.Wait()
		res <- result{out.String(), errb.String(), cmd.ProcessState.ExitCode()}
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	waitFor(t, "reader of "+name, func() bool {
		b, err := probe(name, d)
		return err == nil && b.Valid && b.ReaderPID == uint64(cmd.Process.Pid)
	})
	return cmd, res
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func wait(t *testing.T, res <-chan result) result {
	t.Helper()
	select {
	case r := <-res:
		return r
	case <-time.After(30 * time.Second):
		t.Fatal("command did not exit")
		return result{}
	}
}

// newReader creates a reader in this process for tests that need a
// buffer whose frames stay unread.
func newReader(t *testing.T, name string, payload int) *core.Reader {
	t.Helper()
	r, err := core.NewReader(name, core.BufferConfig{MetadataSize: 256, PayloadSize: payload})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// zbInProcess runs a command line in this process, for the cases that
// start no buffer.
func zbInProcess(args ...string) result {
	var out, errb bytes.Buffer
	code := run(&env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb}, args)
	return result{out.String(), errb.String(), code}
}

func TestUsage_ExitCodes(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		in   string // expected in stdout+stderr
	}{
		{nil, exitUsage, "Usage: zerobuffer COMMAND"},
		{[]string{"--help"}, exitOK, "Commands:"},
		{[]string{"frobnicate"}, exitUsage, "unknown command"},
		{[]string{"ls", "--bogus"}, exitUsage, "flag provided but not defined"},
		{[]string{"ls", "extra"}, exitUsage, "no arguments"},
		{[]string{"inspect"}, exitUsage, "exactly one buffer name"},
		{[]string{"clean"}, exitUsage, "names or --stale"},
		{[]string{"recv", "x", "--delim", "tabs"}, exitUsage, "--delim"},
		{[]string{"bench", "--sizes", "3"}, exitUsage, "out of range"},
		{[]string{"bench", "--transports", "carrier-pigeon"}, exitUsage, "unknown transport"},
		{[]string{"bench", "--plot", "x.png", "--no-latency"}, exitUsage, "--plot"},
		{[]string{"inspect", "zbcli-no-such-buffer"}, exitNotFound, "no buffer named"},
		{[]string{"watch", "zbcli-no-such-buffer"}, exitNotFound, "no buffer named"},
		{[]string{"send", "zbcli-no-such-buffer"}, exitNotFound, "no such buffer"},
		{[]string{"clean", "zbcli-no-such-buffer"}, exitNotFound, "no buffer named"},
		{[]string{"inspect", "bad/name"}, exitUsage, "invalid buffer name"},
	} {
		r := zbInProcess(tc.args...)
		if r.code != tc.code || !strings.Contains(r.stdout+r.stderr, tc.in) {
			t.Errorf("zerobuffer %q: exit %d, want %d with %q; stdout %q stderr %q",
				tc.args, r.code, tc.code, tc.in, r.stdout, r.stderr)
		}
	}
}

func TestHelp_EverySubcommand(t *testing.T) {
	for name := range commands {
		r := zbInProcess(name, "--help")
		if r.code != exitOK || !strings.Contains(r.stdout, "Usage: zerobuffer "+name) ||
			!strings.Contains(r.stdout, "Exit codes:") {
			t.Errorf("%s --help: exit %d, stdout %q, stderr %q", name, r.code, r.stdout, r.stderr)
		}
	}
}

func TestSendRecv_Newline(t *testing.T) {
	name := uniqueName(t)
	_, res := startRecv(t, nil, platform.Dirs{}, name, "--payload-size", "4096")
	in := "hello\nworld\n\nlast line without newline"
	s := zb(t, in, "send", name)
	if s.code != exitOK {
		t.Fatalf("send: exit %d, stderr %q", s.code, s.stderr)
	}
	r := wait(t, res)
	if r.code != exitOK {
		t.Fatalf("recv: exit %d, stderr %q", r.code, r.stderr)
	}
	if want := "hello\nworld\nlast line without newline\n"; r.stdout != want {
		t.Errorf("recv printed %q, want %q", r.stdout, want)
	}
	if left := objectsLeft(t, name, platform.Dirs{}); len(left) > 0 {
		t.Errorf("recv left %v behind", left)
	}
}

func TestSendRecv_LengthPrefixed(t *testing.T) {
	name := uniqueName(t)
	_, res := startRecv(t, nil, platform.Dirs{}, name, "--delim", "len", "--payload-size", "8192")
	var in bytes.Buffer
	frames := [][]byte{[]byte("a\nb"), {0, 1, 2, 255}, bytes.Repeat([]byte("z"), 3000)}
	for i := 0; i < 20; i++ { // several laps of the 8 KiB ring
		for _, f := range frames {
			in.Write([]byte{0, 0, byte(len(f) >> 8), byte(len(f))})
			in.Write(f)
		}
	}
	s := zb(t, in.String(), "send", name, "--delim", "len")
	if s.code != exitOK {
		t.Fatalf("send: exit %d, stderr %q", s.code, s.stderr)
	}
	r := wait(t, res)
	if r.code != exitOK || r.stdout != in.String() {
		t.Fatalf("recv: exit %d, %d bytes (want %d identical), stderr %q", r.code, len(r.stdout), in.Len(), r.stderr)
	}
}

func TestRecv_Count(t *testing.T) {
	name := uniqueName(t)
	_, res := startRecv(t, nil, platform.Dirs{}, name, "--count", "2", "--delim", "none")
	s := zb(t, "abc", "send", name, "--delim", "none", "--chunk", "1")
	r := wait(t, res)
	if r.code != exitOK || r.stdout != "ab" {
		t.Fatalf("recv --count 2: exit %d, stdout %q, stderr %q (send: %d %q)", r.code, r.stdout, r.stderr, s.code, s.stderr)
	}
}

func TestRecv_SecondReaderRefused(t *testing.T) {
	name := uniqueName(t)
	newReader(t, name, 4096)
	r := zb(t, "", "recv", name)
	if r.code != exitError || !strings.Contains(r.stderr, "another reader") {
		t.Fatalf("second reader: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestLs_JSON(t *testing.T) {
	name := uniqueName(t)
	newReader(t, name, 8192)
	r := zb(t, "", "ls", "--json")
	if r.code != exitOK {
		t.Fatalf("ls: exit %d, stderr %q", r.code, r.stderr)
	}
	var bufs []bufferInfo
	if err := json.Unmarshal([]byte(r.stdout), &bufs); err != nil {
		t.Fatalf("ls --json: %v\n%s", err, r.stdout)
	}
	for _, b := range bufs {
		if b.Name != name {
			continue
		}
		if !b.Valid || !b.ReaderAlive || b.Stale || b.ReaderPID != uint64(os.Getpid()) ||
			b.PayloadSize != 8192 || b.MetadataSize != 256 || b.MetadataLen != -1 || b.ReaderLock != "held" ||
			b.Semaphores != 2 || b.WriterPID != 0 {
			t.Errorf("ls entry: %+v", b)
		}
		text := zb(t, "", "ls")
		if !regexp.MustCompile(name + `\s+8\.0 KiB\s+0\.0%\s+0\s+0\s+-\s+\d+ alive\s+-\s+live`).MatchString(text.stdout) {
			t.Errorf("ls table lacks a live row for %s:\n%s", name, text.stdout)
		}
		return
	}
	t.Fatalf("ls --json does not list %s:\n%s", name, r.stdout)
}

func TestInspect_UnreadFrames(t *testing.T) {
	name := uniqueName(t)
	newReader(t, name, 4096)
	s := zb(t, "one\ntwo two\nthree three three\n", "send", name, "--metadata", "schema=v1")
	if s.code != exitOK {
		t.Fatalf("send: exit %d, stderr %q", s.code, s.stderr)
	}
	r := zb(t, "", "inspect", name, "--json")
	if r.code != exitOK {
		t.Fatalf("inspect: exit %d, stderr %q", r.code, r.stderr)
	}
	var in inspection
	if err := json.Unmarshal([]byte(r.stdout), &in); err != nil {
		t.Fatalf("inspect --json: %v\n%s", err, r.stdout)
	}
	if in.Unread != 3 || len(in.Frames) != 3 || in.Health != "healthy" || len(in.Issues) != 0 {
		t.Fatalf("inspection: %+v", in)
	}
	for i, want := range []uint64{3, 7, 17} {
		if f := in.Frames[i]; f.Size != want || f.Sequence != uint64(i+1) {
			t.Errorf("frame %d: %+v, want size %d sequence %d", i, f, want, i+1)
		}
	}
	if in.Metadata == nil || in.Metadata.Text != "schema=v1" || in.OIEB == nil || in.OIEB.PayloadWrittenCount != 3 {
		t.Errorf("metadata %+v, oieb %+v", in.Metadata, in.OIEB)
	}
	text := zb(t, "", "inspect", name)
	for _, want := range []string{"(live, healthy)", `metadata: 9 bytes, text: "schema=v1"`, "unread frames: 3", "issues: none", "payload_written_count"} {
		if !strings.Contains(text.stdout, want) {
			t.Errorf("inspect text lacks %q:\n%s", want, text.stdout)
		}
	}
}

func TestWatch_Count(t *testing.T) {
	name := uniqueName(t)
	newReader(t, name, 4096)
	r := zb(t, "", "watch", name, "--interval", "20ms", "--count", "2")
	if lines := strings.Split(strings.TrimSpace(r.stdout), "\n"); r.code != exitOK || len(lines) != 3 ||
		!strings.Contains(lines[1], "healthy") {
		t.Fatalf("watch: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

func TestWatch_StopsOnSIGINT(t *testing.T) {
	name := uniqueName(t)
	newReader(t, name, 4096)
	cmd := zbCmd(t, nil, "watch", name, "--interval", "20ms")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	// The first data line proves the signal handler is installed.
	sc := bufio.NewScanner(out)
	for i := 0; i < 2 && sc.Scan(); i++ {
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, _ = io.Copy(io.Discard, out) // all reads end before Wait
		done <- cmd.Wait()
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("watch after SIGINT: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("watch ignored SIGINT")
	}
}
