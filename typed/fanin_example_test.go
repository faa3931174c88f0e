package typed_test

import (
	"context"
	"fmt"

	"github.com/zerobuffer/zerobuffer-go/codec"
	"github.com/zerobuffer/zerobuffer-go/core"
	"github.com/zerobuffer/zerobuffer-go/typed"
)

// Two senders into one receiver (usually three processes; here one). Each
// sender has a lane of its own: the first one dialed gets lane 0, the
// plain name. Per-sender order is kept.
func ExampleListenMany() {
	ctx := context.Background()
	name := exampleName("fanin")
	rx, err := typed.ListenMany(name, core.BufferConfig{PayloadSize: 1 << 16}, core.FanInConfig{}, codec.RawCopy{})
	if err != nil {
		panic(err)
	}
	defer rx.Close()
	a, err := typed.DialMany(ctx, name, codec.Raw{})
	if err != nil {
		panic(err)
	}
	b, err := typed.DialMany(ctx, name, codec.Raw{})
	if err != nil {
		panic(err)
	}
	_ = a.Send(ctx, []byte("a1"))
	_ = b.Send(ctx, []byte("b1"))
	_ = a.Send(ctx, []byte("a2"))
	a.Close()
	b.Close()
	got := map[int][]string{}
	for range 3 {
		v, lane, err := rx.RecvFrom(ctx)
		if err != nil {
			panic(err)
		}
		got[lane] = append(got[lane], string(v))
	}
	fmt.Println(got[0], got[1])
	// Output: [a1 a2] [b1]
}
