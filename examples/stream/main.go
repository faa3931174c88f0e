// Command stream runs a ZeroBuffer reader and writer in two processes: it
// creates the buffer, starts a copy of itself as the writer, and reads
// frames until the writer closes.
//
//	go run ./examples/stream -n 1000000 -size 1024
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"hash/crc32"
	"io"
	"log"
	"os"
	"os/exec"
	"time"

	"github.com/zerobuffer/zerobuffer-go/core"
)

func main() {
	role := flag.String("role", "reader", "reader (creates the buffer, starts the writer) or writer")
	name := flag.String("name", fmt.Sprintf("zb-example-%d", os.Getpid()), "buffer name")
	n := flag.Int("n", 1_000_000, "frames to send")
	size := flag.Int("size", 1024, "frame size in bytes")
	ring := flag.Int("ring", 4<<20, "ring size in bytes")
	flag.Parse()
	log.SetFlags(0)
	var err error
	if *role == "writer" {
		err = writer(*name, *n, *size)
	} else {
		err = reader(*name, *n, *size, *ring)
	}
	if err != nil {
		log.Fatal(err)
	}
}

func reader(name string, n, size, ring int) error {
	r, err := core.NewReader(name, core.BufferConfig{MetadataSize: 1024, PayloadSize: ring})
	if err != nil {
		return err
	}
	defer r.Close()

	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(exe, "-role", "writer", "-name", name, "-n", fmt.Sprint(n), "-size", fmt.Sprint(size))
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	defer cmd.Wait()

	ctx := context.Background()
	var frames, bytes int
	var sum uint32
	var start time.Time
	for {
		f, err := r.ReadFrame(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if frames == 0 {
			start = time.Now()
			meta, _ := r.Metadata()
			fmt.Printf("reader: writer says %q\n", meta)
		}
		sum = crc32.Update(sum, crc32.IEEETable, f.Data())
		frames++
		bytes += f.Len()
		f.Release()
	}
	d := time.Since(start)
	fmt.Printf("reader: %d frames, %.1f MB in %v: %.2f M frames/s, %.2f GB/s, crc32 %08x\n",
		frames, float64(bytes)/1e6, d.Round(time.Millisecond), float64(frames)/d.Seconds()/1e6, float64(bytes)/d.Seconds()/1e9, sum)
	return nil
}

func writer(name string, n, size int) error {
	w, err := core.NewWriter(name)
	if err != nil {
		return err
	}
	defer w.Close()
	if err := w.SetMetadata([]byte(fmt.Sprintf("pid %d, %d frames of %d bytes", os.Getpid(), n, size))); err != nil {
		return err
	}
	ctx := context.Background()
	var sum uint32
	for i := 0; i < n; i++ {
		// Zero-copy: build the frame in the ring, then publish it.
		b, err := w.Reserve(ctx, size)
		if err != nil {
			return err
		}
		for j := range b {
			b[j] = byte(i + j)
		}
		sum = crc32.Update(sum, crc32.IEEETable, b)
		if err := w.Commit(); err != nil {
			return err
		}
	}
	fmt.Printf("writer: sent %d frames, crc32 %08x\n", n, sum)
	return nil
}
