//go:build linux

package duplex_test

import (
	"context"
	"fmt"
	"log"
	"sync"

	"github.com/zerobuffer/zerobuffer-go/codec/msgpack"
	"github.com/zerobuffer/zerobuffer-go/duplex"
)

// A typed service for many clients at once: each DialMulti client has its
// own request lane and response buffer and gets only its own responses.
func ExampleNewMultiServer() {
	ctx := context.Background()
	name := exampleName("multi")
	add := func(_ context.Context, s Sum) (Total, error) { return Total{N: s.A + s.B}, nil }
	srv, err := duplex.NewMultiServer(name, 4, msgpack.New[Sum](), msgpack.New[Total](), add, duplex.WithRequestBuffer(small))
	if err != nil {
		log.Fatal(err)
	}
	go srv.Serve(ctx)
	defer srv.Close()

	totals := make([]int, 3)
	var wg sync.WaitGroup
	for i := range totals {
		c, err := duplex.DialMulti(ctx, name, msgpack.New[Sum](), msgpack.New[Total](), duplex.WithResponseBuffer(small))
		if err != nil {
			log.Fatal(err)
		}
		defer c.Close()
		wg.Add(1)
		go func() { // the clients call concurrently
			defer wg.Done()
			for j := range 100 {
				t, err := c.Call(ctx, Sum{A: 1000 * i, B: j})
				if err != nil || t.N != 1000*i+j {
					log.Fatalf("client %d: %v, %v", i, t, err)
				}
				totals[i] += t.N
			}
		}()
	}
	wg.Wait()
	fmt.Println(totals)
	// Output:
	// [4950 104950 204950]
}
