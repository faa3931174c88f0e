package core

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/zerobuffer/zerobuffer-go/internal/testproc"
)

// childRoles are the processes cross-process tests start.
var childRoles = map[string]testproc.Role{
	"writer":         roleWriter,
	"reader":         roleReader,
	"holder":         roleHolder,
	"idle-writer":    roleIdleWriter,
	"blocked-writer": roleBlockedWriter,
	"owner":          roleOwner,
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// frameSizes yields the deterministic sizes both sides agree on.
func frameSizes(seed, maxSize int) func() int {
	rng := rand.New(rand.NewPCG(uint64(seed), uint64(seed)))
	return func() int { return 1 + rng.IntN(maxSize) }
}

// roleWriter: name mode count seed maxSize end(close|hang)
func roleWriter(c *testproc.Child, a []string) int {
	name, mode, count, next, end := a[0], a[1], atoi(a[2]), frameSizes(atoi(a[3]), atoi(a[4])), a[5]
	w, err := connectWriter(name, 5*time.Second)
	if err != nil {
		c.Printf("fail connect: %v", err)
		return 1
	}
	ctx := context.Background()
	buf := make([]byte, atoi(a[4]))
	for i := 1; i <= count; i++ {
		n := next()
		switch mode {
		case "reserve":
			b, err := w.Reserve(ctx, n)
			if err != nil {
				c.Printf("fail reserve %d: %v", i, err)
				return 1
			}
			pattern(b, uint64(i))
			err = w.Commit()
		case "batch":
			pattern(buf[:n], uint64(i))
			err = w.AppendFrame(ctx, buf[:n])
			if err == nil && i%16 == 0 {
				err = w.Flush()
			}
		default:
			pattern(buf[:n], uint64(i))
			err = w.WriteFrame(ctx, buf[:n])
		}
		if err != nil {
			c.Printf("fail write %d: %v", i, err)
			return 1
		}
	}
	if end == "hang" {
		if err := w.Flush(); err != nil {
			c.Printf("fail flush: %v", err)
		}
		c.Printf("done %d", count)
		c.Next() // until killed, or the parent goes away
		return 0
	}
	if err := w.Close(); err != nil {
		c.Printf("fail close: %v", err)
		return 1
	}
	c.Printf("done %d", count)
	return 0
}

// roleReader: name payload count seed maxSize — creates the buffer,
// verifies count frames, then expects io.EOF.
func roleReader(c *testproc.Child, a []string) int {
	name, payload, count, next := a[0], atoi(a[1]), atoi(a[2]), frameSizes(atoi(a[3]), atoi(a[4]))
	r, err := NewReader(name, BufferConfig{MetadataSize: 1024, PayloadSize: payload})
	if err != nil {
		c.Printf("fail create: %v", err)
		return 1
	}
	defer r.Close()
	c.Printf("ready")
	ctx := context.Background()
	for i := 1; i <= count; i++ {
		f, err := r.ReadFrame(ctx)
		if err != nil {
			c.Printf("fail read %d: %v", i, err)
			return 1
		}
		if n := next(); f.Len() != n || f.Sequence() != uint64(i) || checkPattern(f.Data(), uint64(i)) >= 0 {
			c.Printf("fail frame %d: len %d want %d, seq %d", i, f.Len(), n, f.Sequence())
			return 1
		}
		f.Release()
	}
	if _, err := r.ReadFrame(ctx); !errors.Is(err, io.EOF) {
		c.Printf("fail end: %v", err)
		return 1
	}
	c.Printf("ok %d", count)
	return 0
}

// roleHolder: name payload k — creates the buffer, reads k frames
// without releasing them, reports "held", and waits to be killed.
func roleHolder(c *testproc.Child, a []string) int {
	r, err := NewReader(a[0], BufferConfig{PayloadSize: atoi(a[1])})
	if err != nil {
		c.Printf("fail create: %v", err)
		return 1
	}
	c.Printf("ready")
	for range atoi(a[2]) {
		if _, err := r.ReadFrame(context.Background()); err != nil {
			c.Printf("fail read: %v", err)
			return 1
		}
	}
	c.Printf("held")
	c.Next() // until killed, or the parent goes away
	return 0
}

// roleIdleWriter: name — writes one frame "alive" and waits to be killed.
func roleIdleWriter(c *testproc.Child, a []string) int {
	w, err := connectWriter(a[0], 5*time.Second)
	if err != nil {
		c.Printf("fail connect: %v", err)
		return 1
	}
	if err := w.WriteFrame(context.Background(), []byte("alive")); err != nil {
		c.Printf("fail write: %v", err)
		return 1
	}
	c.Printf("wrote")
	c.Next() // until killed, or the parent goes away
	return 0
}

// roleBlockedWriter: name size — fills the ring, reports "full", then
// blocks in a write and reports how it ended.
func roleBlockedWriter(c *testproc.Child, a []string) int {
	w, err := connectWriter(a[0], 5*time.Second)
	if err != nil {
		c.Printf("fail connect: %v", err)
		return 1
	}
	buf := make([]byte, atoi(a[1]))
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		err := w.WriteFrame(ctx, buf)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			break
		}
		if err != nil {
			c.Printf("fail fill: %v", err)
			return 1
		}
	}
	c.Printf("full")
	start := time.Now()
	err = w.WriteFrame(context.Background(), buf)
	c.Printf("write returned after %d ms: %v", time.Since(start).Milliseconds(), err)
	c.Next() // until killed, or the parent goes away
	return 0
}

// roleOwner: name — creates the buffer, reports "ready", waits to be killed.
func roleOwner(c *testproc.Child, a []string) int {
	if _, err := NewReader(a[0], BufferConfig{MetadataSize: 64, PayloadSize: 4096}); err != nil {
		c.Printf("fail create: %v", err)
		return 1
	}
	c.Printf("ready")
	c.Next() // until killed, or the parent goes away
	return 0
}
