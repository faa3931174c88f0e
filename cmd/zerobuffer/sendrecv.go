package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/zerobuffer/zerobuffer-go/core"
)

// Frame delimiting on stdin and stdout.
const (
	delimNewline = "newline" // one frame per line, the newline not included
	delimNone    = "none"    // raw bytes: stdout concatenates, stdin chunks
	delimLen     = "len"     // each frame preceded by its length, u32 big-endian
)

const delimHelp = "framing: newline (a frame per line), none (raw bytes), len (4-byte big-endian length + bytes)"

func checkDelim(d string) error {
	switch d {
	case delimNewline, delimNone, delimLen:
		return nil
	}
	return usagef("--delim must be newline, none or len, not %q", d)
}

func runRecv(e *env, args []string) error {
	f := newFlags("recv", "NAME [--metadata-size N] [--payload-size N] [--delim newline|none|len] [--count N] [--follow]", `
Create buffer NAME as its reader and copy every frame to stdout, framed by
--delim. Ends with exit 0 when the writer closes (after the last frame),
after --count frames, on SIGINT/SIGTERM, or when stdout is closed; with
--follow it keeps serving writer after writer until interrupted. A writer
that dies is an error (exit 1) unless --follow is set. The buffer is
removed on exit. Another live reader of NAME is an error (exit 1).`)
	metaSize := sizeFlag(f, "metadata-size", 1024, "metadata block size in bytes")
	paySize := sizeFlag(f, "payload-size", 1<<20, "payload ring size in bytes")
	delim := f.String("delim", delimNewline, delimHelp)
	count := f.Int("count", 0, "exit after `N` frames (0: no limit)")
	follow := f.Bool("follow", false, "keep reading after a writer closes or dies")
	trust := addTrustFlags(f)
	pos, err := parse(e, f, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("recv needs exactly one buffer name")
	}
	if err := checkDelim(*delim); err != nil {
		return err
	}
	r, err := core.NewReader(pos[0], core.BufferConfig{MetadataSize: *metaSize, PayloadSize: *paySize},
		append(trust.options(), core.WithDirs(e.dirs.Shm, e.dirs.Lock))...)
	if err != nil {
		return err
	}
	defer r.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// A closed stdout must end the loop with an error, not kill the
	// process before it removes the buffer.
	signal.Ignore(syscall.SIGPIPE)
	return recvLoop(ctx, r, e.stdout, *delim, *count, *follow)
}

func recvLoop(ctx context.Context, r *core.Reader, out io.Writer, delim string, count int, follow bool) error {
	w := bufio.NewWriterSize(out, 64<<10)
	for n := 0; count == 0 || n < count; {
		fr, err := r.ReadFrame(ctx)
		switch {
		case err != nil && ctx.Err() != nil:
			return stdoutErr(w.Flush())
		case (errors.Is(err, io.EOF) || errors.Is(err, core.ErrWriterDead)) && follow:
			if err := w.Flush(); err != nil {
				return stdoutErr(err)
			}
			if err := r.WaitWriter(ctx); err != nil && ctx.Err() == nil {
				return err
			}
			continue
		case errors.Is(err, io.EOF):
			return stdoutErr(w.Flush())
		case err != nil:
			return errors.Join(err, stdoutErr(w.Flush()))
		}
		werr := writeFrame(w, fr.Data(), delim)
		if err := fr.Release(); err != nil {
			return err
		}
		if werr == nil {
			werr = w.Flush()
		}
		if werr != nil {
			return stdoutErr(werr)
		}
		n++
	}
	return nil
}

// stdoutErr turns a closed stdout (EPIPE) into a normal end.
func stdoutErr(err error) error {
	if errors.Is(err, syscall.EPIPE) {
		return nil
	}
	return err
}

func writeFrame(w *bufio.Writer, p []byte, delim string) error {
	if delim == delimLen {
		var hdr [4]byte
		binary.BigEndian.PutUint32(hdr[:], uint32(len(p)))
		w.Write(hdr[:])
	}
	w.Write(p)
	if delim == delimNewline {
		w.WriteByte('\n')
	}
	return nil // bufio.Writer keeps the first error for Flush
}

func runSend(e *env, args []string) error {
	f := newFlags("send", "NAME [--delim newline|none|len] [--wait D] [--metadata TEXT]", `
Connect to buffer NAME as its writer and turn stdin into frames, framed by
--delim (newline: one frame per line without the newline, empty lines are
skipped because a frame cannot be empty; none: each read of up to --chunk
bytes is a frame; len: 4-byte big-endian length, then that many bytes).
At the end of stdin the writer closes, and the reader sees the end of the
stream after the last frame. Exit 3 when NAME does not exist (after
--wait), 1 when the reader goes away or another writer is connected.`)
	delim := f.String("delim", delimNewline, delimHelp)
	wait := f.Duration("wait", 0, "wait up to this long for the buffer to appear")
	meta := f.String("metadata", "", "write this metadata before the first frame")
	chunk := sizeFlag(f, "chunk", 64<<10, "largest frame for --delim none, in bytes")
	trust := addTrustFlags(f)
	pos, err := parse(e, f, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("send needs exactly one buffer name")
	}
	if err := checkDelim(*delim); err != nil {
		return err
	}
	if *chunk <= 0 {
		return usagef("--chunk must be positive")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	w, err := connect(ctx, pos[0], e, *wait, trust.options()...)
	if err != nil {
		return err
	}
	defer w.Close()
	if *meta != "" {
		if err := w.SetMetadata([]byte(*meta)); err != nil {
			return err
		}
	}
	if err := sendLoop(ctx, w, e.stdin, *delim, min(*chunk, w.MaxFrameSize())); err != nil {
		return err
	}
	return w.Close()
}

// connect opens the writer, retrying until wait has passed while the
// buffer does not exist yet or is being created.
func connect(ctx context.Context, name string, e *env, wait time.Duration, opts ...core.Option) (*core.Writer, error) {
	deadline := time.Now().Add(wait)
	for {
		w, err := core.NewWriter(name, append(opts, core.WithDirs(e.dirs.Shm, e.dirs.Lock))...)
		retry := errors.Is(err, fs.ErrNotExist) || errors.Is(err, core.ErrNotReady)
		if err == nil || !retry || time.Now().After(deadline) {
			return w, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func sendLoop(ctx context.Context, w *core.Writer, in io.Reader, delim string, chunk int) error {
	br := bufio.NewReaderSize(in, 64<<10)
	maxFrame := w.MaxFrameSize()
	buf := make([]byte, 0, 64<<10)
	for {
		var err error
		switch delim {
		case delimNewline:
			buf, err = readLine(br, buf[:0], maxFrame)
		case delimNone:
			buf = buf[:chunk]
			var n int
			n, err = br.Read(buf)
			buf = buf[:n]
		case delimLen:
			buf, err = readLenFrame(br, buf[:0], maxFrame)
		}
		if len(buf) > 0 {
			if werr := w.WriteFrame(ctx, buf); werr != nil {
				return werr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// readLine returns the next line without its newline.
func readLine(br *bufio.Reader, buf []byte, maxFrame int) ([]byte, error) {
	for {
		part, err := br.ReadSlice('\n')
		buf = append(buf, part...)
		if len(buf) > maxFrame+1 {
			return nil, fmt.Errorf("line longer than the largest frame (%d bytes)", maxFrame)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if n := len(buf); n > 0 && buf[n-1] == '\n' {
			buf = buf[:n-1]
		}
		return buf, err
	}
}

// readLenFrame reads a 4-byte big-endian length and that many bytes.
func readLenFrame(br *bufio.Reader, buf []byte, maxFrame int) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("truncated length prefix: %w", err)
		}
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n == 0 || uint64(n) > uint64(maxFrame) {
		return nil, fmt.Errorf("frame length %d out of range [1, %d]", n, maxFrame)
	}
	buf = slices.Grow(buf[:0], int(n))[:n]
	if _, err := io.ReadFull(br, buf); err != nil {
		return nil, fmt.Errorf("truncated frame: %w", err)
	}
	return buf, nil
}
