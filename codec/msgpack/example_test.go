package msgpack_test

import (
	"fmt"

	"github.com/zerobuffer/zerobuffer-go/codec"
	"github.com/zerobuffer/zerobuffer-go/codec/msgpack"
)

func Example() {
	type Event struct {
		ID   int
		Kind string
	}
	c := msgpack.New[Event]()
	frame, err := codec.Marshal[Event](c, Event{ID: 7, Kind: "click"})
	if err != nil {
		panic(err)
	}
	ev, err := c.Decode(frame) // ev owns its memory
	fmt.Println(ev.ID, ev.Kind, err, c.Name())
	// Output: 7 click <nil> msgpack
}
