package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func runWatch(e *env, args []string) error {
	f := newFlags("watch", "NAME [--interval D] [--count N] [--json]", `
Print one line per interval (default 1s) with the buffer's utilisation,
health band, frames written and read per second (OIEB counters, wrap
markers included) and whether writer and reader live, until interrupted
(SIGINT or SIGTERM: exit 0) or until the buffer disappears (exit 0).
The buffer is only read, never modified. With --json each line is one
JSON object (JSON Lines) with snake_case keys; a removed buffer ends the
stream with an object whose "removed" is true.`)
	interval := f.Duration("interval", time.Second, "refresh period")
	count := f.Int("count", 0, "stop after `N` lines (0: until interrupted)")
	asJSON := f.Bool("json", false, "print one JSON object per line")
	pos, err := parse(e, f, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("watch needs exactly one buffer name")
	}
	if *interval <= 0 {
		return usagef("--interval must be positive")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return watch(ctx, e, pos[0], *interval, *count, *asJSON)
}

// watchSample is one line of watch --json.
type watchSample struct {
	Time           string  `json:"time"` // RFC 3339, nanoseconds
	Name           string  `json:"name"`
	Removed        bool    `json:"removed,omitempty"`
	UsedBytes      uint64  `json:"used_bytes"`
	PayloadSize    uint64  `json:"payload_size"`
	UtilisationPct float64 `json:"utilisation_pct"`
	Health         string  `json:"health,omitempty"`
	WrittenPerSec  float64 `json:"written_per_sec"`
	ReadPerSec     float64 `json:"read_per_sec"`
	FramesWritten  uint64  `json:"frames_written"`
	FramesRead     uint64  `json:"frames_read"`
	WriterPID      uint64  `json:"writer_pid"`
	WriterAlive    bool    `json:"writer_alive"`
	ReaderPID      uint64  `json:"reader_pid"`
	ReaderAlive    bool    `json:"reader_alive"`
}

func watch(ctx context.Context, e *env, name string, interval time.Duration, count int, asJSON bool) error {
	prev, err := probe(name, e.dirs)
	if err != nil {
		return err
	}
	last := time.Now()
	enc := json.NewEncoder(e.stdout) // one object per line: no indentation
	if !asJSON {
		fmt.Fprintf(e.stdout, "%-8s  %7s  %-8s  %11s  %11s  %-14s  %-14s\n",
			"TIME", "USED", "HEALTH", "WRITTEN/s", "READ/s", "WRITER", "READER")
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for n := 0; count == 0 || n < count; n++ {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		cur, err := probe(name, e.dirs)
		if errors.Is(err, fs.ErrNotExist) || (err == nil && !cur.Shm && prev.Shm) {
			if asJSON {
				return enc.Encode(watchSample{Time: time.Now().Format(time.RFC3339Nano), Name: name, Removed: true})
			}
			fmt.Fprintf(e.stdout, "%s: buffer removed\n", name)
			return nil
		}
		if err != nil {
			return err
		}
		now := time.Now()
		secs := now.Sub(last).Seconds()
		wps := float64(cur.FramesWritten-min(prev.FramesWritten, cur.FramesWritten)) / secs
		rps := float64(cur.FramesRead-min(prev.FramesRead, cur.FramesRead)) / secs
		if asJSON {
			if err := enc.Encode(watchSample{Time: now.Format(time.RFC3339Nano), Name: name, UsedBytes: cur.UsedBytes,
				PayloadSize: cur.PayloadSize, UtilisationPct: cur.Utilisation, Health: cur.health(),
				WrittenPerSec: wps, ReadPerSec: rps, FramesWritten: cur.FramesWritten, FramesRead: cur.FramesRead,
				WriterPID: cur.WriterPID, WriterAlive: cur.WriterAlive, ReaderPID: cur.ReaderPID, ReaderAlive: cur.ReaderAlive}); err != nil {
				return err
			}
		} else {
			fmt.Fprintf(e.stdout, "%-8s  %6.1f%%  %-8s  %11.0f  %11.0f  %-14s  %-14s\n", now.Format("15:04:05"),
				cur.Utilisation, cur.health(), wps, rps, pidState(cur.WriterPID, cur.WriterAlive),
				pidState(cur.ReaderPID, cur.ReaderAlive))
		}
		prev, last = cur, now
	}
	return nil
}
