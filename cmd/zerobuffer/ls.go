package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
)

func runLs(e *env, args []string) error {
	f := newFlags("ls", "[--json]", `
List every ZeroBuffer buffer on this machine: shared-memory objects with a
valid header, lock files and orphaned semaphores in the buffer directories.
Columns: payload ring size and use, frames written/read (OIEB counters,
wrap markers included), writer and reader PIDs and whether they live (a
reader lives while it holds its lock file, else by PID), metadata length,
and state (live, stale: no live reader, initialising, invalid).
Nothing is modified.`)
	asJSON := f.Bool("json", false, "print a JSON array instead of a table")
	pos, err := parse(e, f, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("ls takes no arguments, got %q", pos)
	}
	bufs, err := discover(e.dirs)
	if err != nil {
		return err
	}
	if *asJSON {
		if bufs == nil {
			bufs = []bufferInfo{}
		}
		return writeJSON(e.stdout, bufs)
	}
	return lsTable(e.stdout, bufs)
}

func lsTable(w io.Writer, bufs []bufferInfo) error {
	bufs = foldLanes(bufs) // lanes.go
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tPAYLOAD\tUSED\tWRITTEN\tREAD\tWRITER\tREADER\tMETADATA\tSTATE")
	for i := range bufs {
		b := &bufs[i]
		payload, used, meta := "-", "-", "-"
		if b.Valid {
			payload = fmtBytes(b.PayloadSize)
			used = fmt.Sprintf("%.1f%%", b.Utilisation)
			if b.MetadataLen >= 0 {
				meta = fmtBytes(uint64(b.MetadataLen))
			}
		}
		name := b.label
		if name == "" {
			name = displayName(b.Name)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\t%s\t%s\t%s\n", name, payload, used, b.FramesWritten, b.FramesRead,
			pidState(b.WriterPID, b.WriterAlive), pidState(b.ReaderPID, b.ReaderAlive), meta, b.state())
	}
	return tw.Flush()
}

// pidState renders "1234 alive", "1234 dead" or "-".
func pidState(pid uint64, alive bool) string {
	switch {
	case pid == 0 && alive:
		return "alive"
	case pid == 0:
		return "-"
	case alive:
		return strconv.FormatUint(pid, 10) + " alive"
	}
	return strconv.FormatUint(pid, 10) + " dead"
}

// fmtBytes renders a byte count with a binary unit.
func fmtBytes(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
