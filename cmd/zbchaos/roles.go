//go:build linux

package main

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
	"sync"
	"time"

	"github.com/zerobuffer/zerobuffer-go/core"
)

// Environment of a child: its role and its arguments.
const (
	envRole = "ZBCHAOS_ROLE"
	envArgs = "ZBCHAOS_ARGS"
)

// metadata is what every buffer's first writer publishes; a reader that
// sees anything else (a prefix, garbage) reports a violation.
var metadata = []byte(strings.Repeat("zbchaos-metadata/", 20))

// say prints one status line for the parent.
var sayMu sync.Mutex

func say(format string, a ...any) {
	sayMu.Lock()
	defer sayMu.Unlock()
	fmt.Fprintf(os.Stdout, format+"\n", a...)
}

// runChild runs the role named in the environment and reports whether
// there was one.
func runChild() (code int, ok bool) {
	role := os.Getenv(envRole)
	if role == "" {
		return 0, false
	}
	args := strings.Fields(os.Getenv(envArgs))
	switch role {
	case "reader":
		return chaosReader(args), true
	case "writer":
		return chaosWriter(args), true
	}
	fmt.Fprintf(os.Stderr, "zbchaos: unknown role %q\n", role)
	return 2, true
}

// frameBytes fills b (at least 16 bytes) for frame seq of session.
func frameBytes(b []byte, session, seq uint64) {
	binary.LittleEndian.PutUint64(b[0:8], session)
	binary.LittleEndian.PutUint64(b[8:16], seq)
	for i := 16; i < len(b); i++ {
		b[i] = byte(session + seq + uint64(i))
	}
}

// checkFrame returns what is wrong with frame b, or "".
func checkFrame(b []byte, seq uint64) (session uint64, problem string) {
	if len(b) < 16 {
		return 0, fmt.Sprintf("frame of %d bytes", len(b))
	}
	session = binary.LittleEndian.Uint64(b[0:8])
	if s := binary.LittleEndian.Uint64(b[8:16]); s != seq {
		return session, fmt.Sprintf("header sequence %d, payload says %d", seq, s)
	}
	for i := 16; i < len(b); i++ {
		if b[i] != byte(session+seq+uint64(i)) {
			return session, fmt.Sprintf("seq %d byte %d of %d wrong: torn or stale frame", seq, i, len(b))
		}
	}
	return session, ""
}

// procStat returns this process's open file count and resident set in KiB.
func procStat() (fds, rssKB int) {
	ents, _ := os.ReadDir("/proc/self/fd")
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			rssKB, _ = strconv.Atoi(strings.Fields(v)[0])
		}
	}
	return len(ents), rssKB
}

func statLoop(stop chan struct{}) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			fds, rss := procStat()
			say("stat fds=%d rss=%d", fds, rss)
		}
	}
}

// chaosReader: name payload — creates the buffer and verifies every frame
// of every writer session until killed.
func chaosReader(a []string) int {
	name := a[0]
	payload, _ := strconv.Atoi(a[1])
	r, err := core.NewReader(name, core.BufferConfig{MetadataSize: 1024, PayloadSize: payload},
		core.WithPeerCheckInterval(20*time.Millisecond))
	if err != nil {
		say("error create: %v", err)
		return 1
	}
	defer r.Close()
	go statLoop(make(chan struct{}))
	say("ready")
	var session, expect uint64
	ended := false
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		f, err := r.ReadFrame(ctx)
		cancel()
		switch {
		case err == nil:
			ended = false
			sid, problem := checkFrame(f.Data(), f.Sequence())
			if problem == "" && sid != session {
				if f.Sequence() != 1 {
					problem = fmt.Sprintf("new session %x starts at seq %d", sid, f.Sequence())
				}
				if m, err := r.Metadata(); err != nil || (m != nil && string(m) != string(metadata)) {
					problem = fmt.Sprintf("metadata %d bytes, %v: partial or corrupt", len(m), err)
				}
				session, expect = sid, 1
			}
			if problem == "" && f.Sequence() != expect {
				problem = fmt.Sprintf("session %x: seq %d, want %d (lost or duplicated frame)", sid, f.Sequence(), expect)
			}
			f.Release()
			if problem != "" {
				say("violation %s", problem)
				return 3
			}
			expect++
			if expect%1000 == 0 {
				say("frames %d", expect)
			}
		case errors.Is(err, context.DeadlineExceeded):
		case errors.Is(err, io.EOF), errors.Is(err, core.ErrWriterDead):
			if !ended {
				say("end %v", err)
				ended = true
			}
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			if r.WaitWriter(ctx) == nil {
				ended = false // a new writer connected: its end is reported again
			}
			cancel()
		default:
			say("violation reader error: %v", err)
			return 3
		}
	}
}

// chaosWriter: name session maxSize seed — connects, writes the metadata
// if the buffer has none, then streams frames with every write path until
// the reader dies or it decides to close.
func chaosWriter(a []string) int {
	name := a[0]
	session, _ := strconv.ParseUint(a[1], 10, 64)
	maxSize, _ := strconv.Atoi(a[2])
	seed, _ := strconv.ParseUint(a[3], 10, 64)
	rng := rand.New(rand.NewPCG(seed, session))
	var w *core.Writer
	var err error
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if w, err = core.NewWriter(name, core.WithPeerCheckInterval(20*time.Millisecond)); err == nil {
			break
		}
		if time.Now().After(deadline) {
			say("error connect: %v", err)
			return 1
		}
	}
	go statLoop(make(chan struct{}))
	say("connected")
	if err := w.SetMetadata(metadata); err != nil && !errors.Is(err, core.ErrMetadataAlreadyWritten) {
		say("error metadata: %v", err)
	}
	limit := uint64(500 + rng.IntN(20000))
	buf := make([]byte, maxSize)
	ctx := context.Background()
	for seq := uint64(1); ; seq++ {
		if seq > limit {
			err := w.Close()
			say("closed %d %v", seq-1, err)
			return 0
		}
		n := 16 + rng.IntN(maxSize-15)
		switch rng.IntN(3) {
		case 0:
			frameBytes(buf[:n], session, seq)
			err = w.WriteFrame(ctx, buf[:n])
		case 1:
			var b []byte
			if b, err = w.Reserve(ctx, n); err == nil {
				frameBytes(b, session, seq)
				err = w.Commit()
			}
		default:
			frameBytes(buf[:n], session, seq)
			if err = w.AppendFrame(ctx, buf[:n]); err == nil && rng.IntN(8) == 0 {
				err = w.Flush()
			}
		}
		if errors.Is(err, core.ErrReaderDead) {
			say("reader-dead")
			return 0
		}
		if err != nil {
			say("error write %d: %v", seq, err)
			return 1
		}
		if rng.IntN(64) == 0 {
			if err := w.Flush(); err != nil && !errors.Is(err, core.ErrReaderDead) {
				say("error flush: %v", err)
			}
			time.Sleep(time.Duration(rng.IntN(3000)) * time.Microsecond)
		}
	}
}
