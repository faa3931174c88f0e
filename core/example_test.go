package core_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"

	"github.com/zerobuffer/zerobuffer-go/core"
)

// The reader creates the buffer; the writer (normally another process)
// connects to it by name. After the writer closes, the reader drains the
// frames and gets io.EOF.
func Example() {
	name := fmt.Sprintf("zb-example-%d", os.Getpid())
	r, err := core.NewReader(name, core.BufferConfig{MetadataSize: 1024, PayloadSize: 64 << 10})
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()

	w, err := core.NewWriter(name)
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	_ = w.SetMetadata([]byte("format=text"))
	for _, s := range []string{"hello", "shared", "memory"} {
		if err := w.WriteFrame(ctx, []byte(s)); err != nil {
			log.Fatal(err)
		}
	}
	w.Close()

	meta, _ := r.Metadata()
	fmt.Printf("metadata: %s\n", meta)
	for {
		f, err := r.ReadFrame(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("frame %d: %s\n", f.Sequence(), f.Data())
		f.Release()
	}
	// Output:
	// metadata: format=text
	// frame 1: hello
	// frame 2: shared
	// frame 3: memory
}

// Reserve and Commit build a frame in place: the bytes go straight into
// shared memory, no copy.
func ExampleWriter_Reserve() {
	name := fmt.Sprintf("zb-example-reserve-%d", os.Getpid())
	r, _ := core.NewReader(name, core.BufferConfig{PayloadSize: 4096})
	defer r.Close()
	w, _ := core.NewWriter(name)
	defer w.Close()

	ctx := context.Background()
	buf, err := w.Reserve(ctx, 5)
	if err != nil {
		log.Fatal(err)
	}
	copy(buf, "in-place")
	if err := w.Commit(); err != nil {
		log.Fatal(err)
	}

	f, _ := r.ReadFrame(ctx)
	fmt.Printf("%s\n", f.Data())
	f.Release()
	// Output: in-pl
}

// AppendFrame queues frames that Flush publishes at once, with a single
// semaphore post.
func ExampleWriter_AppendFrame() {
	name := fmt.Sprintf("zb-example-batch-%d", os.Getpid())
	r, _ := core.NewReader(name, core.BufferConfig{PayloadSize: 4096})
	defer r.Close()
	w, _ := core.NewWriter(name)
	defer w.Close()

	ctx := context.Background()
	for i := range 3 {
		_ = w.AppendFrame(ctx, []byte{byte('a' + i)})
	}
	_ = w.Flush()
	for range 3 {
		f, _ := r.ReadFrame(ctx)
		fmt.Printf("%s", f.Data())
		f.Release()
	}
	fmt.Println()
	// Output: abc
}

func ExampleReader_ReadBatch() {
	name := fmt.Sprintf("zb-example-readbatch-%d", os.Getpid())
	r, _ := core.NewReader(name, core.BufferConfig{PayloadSize: 4096})
	defer r.Close()
	w, _ := core.NewWriter(name)

	ctx := context.Background()
	for _, word := range []string{"one", "two", "three"} {
		_ = w.AppendFrame(ctx, []byte(word))
	}
	_ = w.Close() // publishes the batch; the reader drains it, then io.EOF

	for {
		n, err := r.ReadBatch(ctx, 0, func(data []byte, seq uint64) error {
			fmt.Printf("%d:%s ", seq, data) // data is valid only inside the callback
			return nil
		})
		if err != nil {
			fmt.Println(err)
			break
		}
		fmt.Printf("(batch of %d) ", n)
	}
	// Output: 1:one 2:two 3:three (batch of 3) EOF
}

func ExampleWriter_WriteFrames() {
	name := fmt.Sprintf("zb-example-writeframes-%d", os.Getpid())
	r, _ := core.NewReader(name, core.BufferConfig{PayloadSize: 4096})
	defer r.Close()
	w, _ := core.NewWriter(name)
	defer w.Close()

	ctx := context.Background()
	n, err := w.WriteFrames(ctx, [][]byte{[]byte("x"), []byte("y"), []byte("z")}) // one post of +3
	fmt.Println(n, err)
	_, _ = r.ReadBatch(ctx, 0, func(data []byte, _ uint64) error {
		fmt.Printf("%s", data)
		return nil
	})
	fmt.Println()
	// Output:
	// 3 <nil>
	// xyz
}
