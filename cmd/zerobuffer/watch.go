package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func runWatch(e *env, args []string) error {
	f := newFlags("watch", "NAME [--interval D] [--count N]", `
Print one line per interval (default 1s) with the buffer's utilisation,
health band, frames written and read per second (OIEB counters, wrap
markers included) and whether writer and reader live, until interrupted
(SIGINT or SIGTERM: exit 0) or until the buffer disappears (exit 0).
The buffer is only read, never modified.`)
	interval := f.Duration("interval", time.Second, "refresh period")
	count := f.Int("count", 0, "stop after `N` lines (0: until interrupted)")
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
	return watch(ctx, e, pos[0], *interval, *count)
}

func watch(ctx context.Context, e *env, name string, interval time.Duration, count int) error {
	prev, err := probe(name, e.dirs)
	if err != nil {
		return err
	}
	last := time.Now()
	fmt.Fprintf(e.stdout, "%-8s  %7s  %-8s  %11s  %11s  %-14s  %-14s\n",
		"TIME", "USED", "HEALTH", "WRITTEN/s", "READ/s", "WRITER", "READER")
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
		fmt.Fprintf(e.stdout, "%-8s  %6.1f%%  %-8s  %11.0f  %11.0f  %-14s  %-14s\n", now.Format("15:04:05"),
			cur.Utilisation, cur.health(), wps, rps, pidState(cur.WriterPID, cur.WriterAlive),
			pidState(cur.ReaderPID, cur.ReaderAlive))
		prev, last = cur, now
	}
	return nil
}
