//go:build linux

// Command zbchaos is the chaos soak of RELIABILITY.md (row C25): it runs a
// reader process and a writer process on one buffer and, for the given
// duration, kills, stops and restarts them at random, and (when built with
// -tags zbfailpoint) makes them crash at random failpoints inside the
// protocol. It checks that
//
//   - every frame arrives whole and in order within each writer session,
//     and metadata is never seen half written (the reader child checks);
//   - a dead peer is detected within the budget (250ms, 1s hard bound);
//   - the buffer is at rest after every writer session: positions, counts
//     and free bytes agree (internal/hostile reads the OIEB);
//   - no object of the buffer is left behind at the end, and file
//     descriptors and memory of long-lived processes stay flat.
//
// It is not part of the test suite. Nightly:
//
//	go run -tags zbfailpoint ./cmd/zbchaos -duration 30m
//
// The exit status is 1 if any check failed.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/zerobuffer/zerobuffer-go/core"
	"github.com/zerobuffer/zerobuffer-go/internal/failpoint"
	"github.com/zerobuffer/zerobuffer-go/internal/hostile"
	"github.com/zerobuffer/zerobuffer-go/platform"
)

// Failpoints a child may be started with (action kill).
var (
	writerPoints = []string{"writer.afterReserve", "writer.afterHeader", "writer.midPayload",
		"writer.beforePublish", "writer.afterPublishBeforePost", "writer.midMetadata"}
	readerPoints = []string{"reader.afterWaitBeforeConsume", "reader.beforeReleasePost",
		"reader.beforeInitDone", "reader.beforeSemaphores"}
)

const (
	detectBudget = 250 * time.Millisecond
	hardBound    = time.Second
	payload      = 64 << 10
	maxFrame     = 3000
)

func main() {
	if code, ok := runChild(); ok {
		os.Exit(code)
	}
	duration := flag.Duration("duration", 30*time.Minute, "how long to run")
	seed := flag.Uint64("seed", uint64(time.Now().UnixNano()), "random seed")
	verbose := flag.Bool("v", false, "log every event")
	flag.Parse()
	s := &soak{
		rng:     rand.New(rand.NewPCG(*seed, 25)),
		name:    fmt.Sprintf("zbchaos-%d", os.Getpid()),
		verbose: *verbose,
		stats:   map[string]int{},
	}
	fmt.Printf("zbchaos: buffer %s, seed %d, duration %v, failpoints compiled in: %v\n", s.name, *seed, *duration, failpoint.Enabled)
	s.run(*duration)
	os.Exit(s.report())
}

// line is a status line of a child and when it arrived.
type line struct {
	at   time.Time
	text string
}

// child is one reader or writer process.
type child struct {
	role    string
	fp      string
	cmd     *exec.Cmd
	lines   chan line
	done    chan struct{}
	started time.Time
	died    time.Time
	killed  bool // by us, not by a failpoint
	stopped bool // SIGSTOPped until contAt
	ready   bool // reported "connected" (writer) or "ready" (reader)
	readyAt time.Time
	contAt  time.Time // when to send SIGCONT
	fds     [2]int    // first and last reported
	rss     [2]int
}

type soak struct {
	rng        *rand.Rand
	name       string
	verbose    bool
	reader     *child
	writer     *child
	session    uint64
	violations []string
	stats      map[string]int
	latencies  map[string][]time.Duration
	// Pending detections: the peer must report within the bound.
	waitReader time.Time // writer died at: reader must say "end"
	waitWriter time.Time // reader died at: writer must say "reader-dead"
	lastEnd    time.Time // the reader's last "end" line
	lastEndErr string    // and what it said
	gracefulAt time.Time // the last writer that closed gracefully did so at
}

func (s *soak) logf(format string, a ...any) {
	if s.verbose {
		fmt.Printf("%s "+format+"\n", append([]any{time.Now().Format("15:04:05.000")}, a...)...)
	}
}

func (s *soak) violation(format string, a ...any) {
	v := fmt.Sprintf(format, a...)
	s.violations = append(s.violations, v)
	fmt.Printf("VIOLATION %s\n", v)
}

func (s *soak) latency(what string, d time.Duration) {
	if s.latencies == nil {
		s.latencies = map[string][]time.Duration{}
	}
	s.latencies[what] = append(s.latencies[what], d)
	if d > hardBound {
		s.violation("%s detected after %v (hard bound %v)", what, d, hardBound)
	}
}

// start runs this program in role with a failpoint (or none).
func (s *soak) start(role, fp string, args ...string) *child {
	exe, err := os.Executable()
	if err != nil {
		panic(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), envRole+"="+role, envArgs+"="+strings.Join(args, " "))
	if fp != "" {
		cmd.Env = append(cmd.Env, "ZB_FAILPOINT="+fp)
	}
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	// Our own pipe rather than cmd.StdoutPipe, which Wait (below, run
	// concurrently) would close before the last lines are read.
	out, childOut, err := os.Pipe()
	if err != nil {
		panic(err)
	}
	cmd.Stdout = childOut
	err = cmd.Start()
	childOut.Close()
	if err != nil {
		panic(err)
	}
	c := &child{role: role, fp: fp, cmd: cmd, lines: make(chan line, 4096), done: make(chan struct{}), started: time.Now()}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			c.lines <- line{time.Now(), sc.Text()}
		}
		out.Close()
		close(c.lines)
	}()
	go func() {
		_ = cmd.Wait()
		c.died = time.Now()
		close(c.done)
	}()
	s.stats["started "+role]++
	s.logf("start %s pid %d failpoint %q", role, cmd.Process.Pid, fp)
	return c
}

func (c *child) alive() bool {
	select {
	case <-c.done:
		return false
	default:
		return true
	}
}

func (c *child) signal(sig syscall.Signal) { _ = c.cmd.Process.Signal(sig) }

func (c *child) kill() {
	c.killed = true
	c.signal(syscall.SIGKILL)
	<-c.done
}

// failpoint picks a failpoint for a new child, or none.
func (s *soak) failpoint(points []string) string {
	if !failpoint.Enabled || s.rng.IntN(2) == 0 {
		return ""
	}
	p := points[s.rng.IntN(len(points))]
	n := 1 + s.rng.IntN(3000)
	if strings.Contains(p, "Init") || strings.Contains(p, "Semaphores") || strings.Contains(p, "Metadata") {
		n = 1
	}
	return fmt.Sprintf("%s:%d:kill", p, n)
}

func (s *soak) run(d time.Duration) {
	end := time.Now().Add(d)
	nextAction := time.Now().Add(200 * time.Millisecond)
	nextProgress := time.Now().Add(10 * time.Second)
	for time.Now().Before(end) {
		s.ensureChildren()
		s.resume(s.reader)
		s.resume(s.writer)
		s.drain(s.reader)
		s.drain(s.writer)
		s.reap()
		s.checkDetections()
		if now := time.Now(); now.After(nextAction) {
			s.act()
			nextAction = now.Add(time.Duration(100+s.rng.IntN(900)) * time.Millisecond)
		}
		if now := time.Now(); now.After(nextProgress) {
			fmt.Printf("zbchaos: %v left, %d violations, %v\n", time.Until(end).Round(time.Second), len(s.violations), s.stats)
			nextProgress = now.Add(10 * time.Second)
		}
		time.Sleep(2 * time.Millisecond)
	}
	s.shutdown()
}

// ensureChildren starts a reader when there is none and a writer when
// there is a reader and no writer.
func (s *soak) ensureChildren() {
	if s.reader == nil {
		s.reader = s.start("reader", s.failpoint(readerPoints), s.name, fmt.Sprint(payload))
		return
	}
	// A new writer only after the reader reported the previous one's end:
	// a writer that connects first hides the end (and its latency).
	if s.writer == nil && s.waitReader.IsZero() && time.Since(s.reader.started) > 20*time.Millisecond {
		s.session = s.rng.Uint64() | 1
		s.writer = s.start("writer", s.failpoint(writerPoints), s.name, fmt.Sprint(s.session), fmt.Sprint(maxFrame), fmt.Sprint(s.rng.Uint64()))
	}
}

// drain handles the status lines a child has printed so far.
func (s *soak) drain(c *child) {
	if c == nil {
		return
	}
	for {
		select {
		case l, ok := <-c.lines:
			if !ok {
				return
			}
			s.line(c, l.at, l.text)
		default:
			return
		}
	}
}

func (s *soak) line(c *child, at time.Time, l string) {
	kind, rest, _ := strings.Cut(l, " ")
	if kind != "stat" && kind != "frames" {
		s.logf("%s %d: %s", c.role, c.cmd.Process.Pid, l)
	}
	switch kind {
	case "connected", "ready":
		c.ready, c.readyAt = true, at
	case "stat":
		var fds, rss int
		fmt.Sscanf(rest, "fds=%d rss=%d", &fds, &rss)
		if c.fds[0] == 0 {
			c.fds[0], c.rss[0] = fds, rss
		}
		c.fds[1], c.rss[1] = fds, rss
	case "violation":
		s.violation("%s (%s, failpoint %q)", rest, c.role, c.fp)
	case "end":
		s.stats["reader saw "+rest]++
		s.lastEnd, s.lastEndErr = at, rest
		if !s.gracefulAt.IsZero() {
			s.graceful()
		}
		if !s.waitReader.IsZero() {
			s.latency("writer end (reader)", at.Sub(s.waitReader))
			s.waitReader = time.Time{}
			s.checkRest()
		}
	case "reader-dead":
		s.stats["writer saw reader death"]++
		if !s.waitWriter.IsZero() {
			s.latency("reader death (writer)", at.Sub(s.waitWriter))
			s.waitWriter = time.Time{}
		}
	case "error":
		s.stats[c.role+" error"]++
		s.logf("%s error: %s", c.role, rest)
	case "closed":
		s.stats["writer closed"]++
		s.gracefulAt = at
		if s.lastEnd.After(c.readyAt) {
			s.graceful()
		}
		s.expectEnd(c, at) // the reader must see io.EOF
	}
}

// reap notices children that died (killed by us or by a failpoint).
func (s *soak) reap() {
	if c := s.reader; c != nil && !c.alive() {
		s.drain(c)
		s.endOf(c)
		s.reader = nil
		s.waitReader = time.Time{}
		if s.writer != nil && s.writer.alive() && !s.writer.stopped && s.waitWriter.IsZero() {
			s.waitWriter = c.died
		}
	}
	if c := s.writer; c != nil && !c.alive() {
		s.drain(c)
		s.endOf(c)
		s.writer = nil
		s.waitWriter = time.Time{}
		if c.ready && c.cmd.ProcessState.ExitCode() == -1 && s.reader != nil && s.reader.alive() && !s.reader.stopped {
			s.expectEnd(c, c.died)
		}
	}
}

func (s *soak) endOf(c *child) {
	how := "exited"
	switch {
	case c.killed:
		how = "killed"
	case c.cmd.ProcessState.ExitCode() == -1:
		how = "failpoint " + strings.SplitN(c.fp, ":", 2)[0]
	case c.cmd.ProcessState.ExitCode() != 0:
		how = fmt.Sprintf("exit %d", c.cmd.ProcessState.ExitCode())
	}
	s.stats[c.role+" "+how]++
	if life := c.died.Sub(c.started); life > 10*time.Second && c.fds[1] > c.fds[0]+4 {
		s.violation("%s leaked file descriptors: %d -> %d over %v", c.role, c.fds[0], c.fds[1], life.Round(time.Second))
	}
	if life := c.died.Sub(c.started); life > 10*time.Second && c.rss[1] > 2*c.rss[0]+16<<10 {
		s.violation("%s RSS grew: %d KiB -> %d KiB over %v", c.role, c.rss[0], c.rss[1], life.Round(time.Second))
	}
	s.logf("%s pid %d %s after %v", c.role, c.cmd.Process.Pid, how, c.died.Sub(c.started).Round(time.Millisecond))
}

// expectEnd starts waiting for the reader's "end" after writer c ended
// at t, unless the reader already reported it (the lines of two processes
// race).
func (s *soak) expectEnd(c *child, t time.Time) {
	if s.lastEnd.After(c.readyAt) {
		s.latency("writer end (reader)", max(0, s.lastEnd.Sub(t)))
		return
	}
	s.waitReader = t
}

// graceful classifies the reader's end of a session whose writer closed
// gracefully: io.EOF is right; ErrWriterDead is core bug B4 of
// RELIABILITY.md (counted, not a violation, until it is fixed).
func (s *soak) graceful() {
	s.gracefulAt = time.Time{}
	if s.lastEndErr != "EOF" {
		s.stats["B4: graceful Close reported as "+s.lastEndErr]++
	}
}

// checkDetections reports a death nobody noticed within twice the bound.
func (s *soak) checkDetections() {
	if !s.waitReader.IsZero() && time.Since(s.waitReader) > 2*hardBound {
		if s.reader != nil && s.reader.alive() && !s.reader.stopped {
			s.violation("reader did not report the writer's end within %v", 2*hardBound)
		}
		s.waitReader = time.Time{}
	}
	if !s.waitWriter.IsZero() && time.Since(s.waitWriter) > 2*hardBound {
		if s.writer != nil && s.writer.alive() && !s.writer.stopped {
			s.violation("writer did not report the reader's death within %v", 2*hardBound)
		}
		s.waitWriter = time.Time{}
	}
}

// checkRest reads the OIEB after a writer session ended and the reader
// drained it: the reader is at rest, so the shared fields must agree.
func (s *soak) checkRest() {
	time.Sleep(5 * time.Millisecond) // the reader flushes before it sleeps
	if s.writer != nil && s.writer.alive() {
		return // a new writer is already at work
	}
	h, err := hostile.Open(s.name, platform.Dirs{})
	if err != nil {
		return
	}
	defer h.Close()
	o := h.Snapshot()
	g, err := o.Validate(uint64(h.Len()))
	if err != nil {
		s.violation("OIEB invalid at rest: %v", err)
		return
	}
	wp := o.PayloadWritePos % g.PayloadSize
	if o.WriterPID == 0 || !alive(o.WriterPID) {
		s.stats["rest checks"]++
		if o.PayloadReadCount != o.PayloadWrittenCount || o.PayloadReadPos != wp || o.PayloadFreeBytes != g.PayloadSize {
			s.violation("buffer not at rest after the writer ended: read %d/%d, pos %d/%d, free %d of %d",
				o.PayloadReadCount, o.PayloadWrittenCount, o.PayloadReadPos, wp, o.PayloadFreeBytes, g.PayloadSize)
		}
	}
}

func alive(pid uint64) bool { return platform.ProcessAlive(pid) }

// act does one random thing to a child.
func (s *soak) act() {
	switch x := s.rng.IntN(100); {
	case x < 30 && s.writer != nil:
		s.stats["kill writer"]++
		s.writer.kill()
	case x < 45 && s.reader != nil:
		s.stats["kill reader"]++
		s.reader.kill()
	case x < 55 && s.writer != nil && s.waitWriter.IsZero():
		s.stats["stop writer"]++
		s.pause(s.writer)
	case x < 60 && s.reader != nil && s.waitReader.IsZero():
		s.stats["stop reader"]++
		s.pause(s.reader)
	}
}

// pause stops a child for a while (hung, not dead); resume continues it.
func (s *soak) pause(c *child) {
	if c.stopped {
		return
	}
	c.stopped = true
	c.contAt = time.Now().Add(time.Duration(50+s.rng.IntN(250)) * time.Millisecond)
	c.signal(syscall.SIGSTOP)
}

func (s *soak) resume(c *child) {
	if c != nil && c.stopped && time.Now().After(c.contAt) {
		c.signal(syscall.SIGCONT)
		c.stopped = false
	}
}

// shutdown kills everything and checks that nothing of the buffer is left
// once a last reader has cleaned up after the crashes.
func (s *soak) shutdown() {
	for _, c := range []*child{s.writer, s.reader} {
		if c != nil && c.alive() {
			c.kill()
			s.drain(c)
		}
	}
	r, err := core.NewReader(s.name, core.BufferConfig{PayloadSize: 64})
	if err != nil {
		s.violation("final cleanup reader: %v", err)
	} else {
		r.Close()
	}
	names, _ := platform.ObjectNames(s.name, platform.Dirs{})
	for _, p := range []string{names.Shm, names.SemW, names.SemR, names.Lock, names.WriterLock} {
		if _, err := os.Lstat(p); err == nil {
			s.violation("left behind: %s", p)
			_ = os.Remove(p)
		}
	}
}

func (s *soak) report() int {
	fmt.Printf("zbchaos: events %v\n", s.stats)
	for what, ds := range s.latencies {
		var maxD, sum time.Duration
		over := 0
		for _, d := range ds {
			maxD = max(maxD, d)
			sum += d
			if d > detectBudget {
				over++
			}
		}
		fmt.Printf("zbchaos: %s: %d detections, mean %v, max %v, %d over the %v budget\n",
			what, len(ds), (sum / time.Duration(len(ds))).Round(time.Microsecond), maxD.Round(time.Microsecond), over, detectBudget)
	}
	if len(s.violations) > 0 {
		fmt.Printf("zbchaos: FAIL: %d violations\n", len(s.violations))
		return 1
	}
	fmt.Println("zbchaos: PASS: no violations, nothing left behind")
	return 0
}
