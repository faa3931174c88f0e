package core_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/zerobuffer/zerobuffer-go/core"
)

// Both sides count what they moved; a zero BufferConfig is a 1 MiB ring.
func ExampleWriter_Stats() {
	name := fmt.Sprintf("zb-example-stats-%d", os.Getpid())
	r, err := core.NewReader(name, core.BufferConfig{})
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	w, err := core.NewWriter(name)
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close()
	ctx := context.Background()
	for _, s := range []string{"one", "two", "three"} {
		if err := w.WriteFrame(ctx, []byte(s)); err != nil {
			log.Fatal(err)
		}
	}
	f, err := r.ReadFrame(ctx)
	if err != nil {
		log.Fatal(err)
	}
	f.Release()

	ws, rs := w.Stats(), r.Stats()
	fmt.Printf("writer: %d frames, %d bytes, ring of %d bytes, reader alive: %v\n", ws.Frames, ws.Bytes, ws.RingSize, ws.PeerAlive)
	fmt.Printf("reader: %d frame, %d bytes\n", rs.Frames, rs.Bytes)
	// Output:
	// writer: 3 frames, 11 bytes, ring of 1048576 bytes, reader alive: true
	// reader: 1 frame, 3 bytes
}
