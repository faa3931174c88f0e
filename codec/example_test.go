package codec_test

import (
	"errors"
	"fmt"

	"github.com/zerobuffer/zerobuffer-go/codec"
)

func ExampleMarshal() {
	frame, err := codec.Marshal[[]byte](codec.Raw{}, []byte("payload"))
	if err != nil {
		panic(err)
	}
	view, _ := codec.Raw{}.View(frame) // borrows frame
	fmt.Printf("%s %d\n", view, len(frame))
	// Output: payload 7
}

func ExampleCheckMetadata() {
	md, _ := codec.AppendMetadata(nil, "msgpack", []byte("app=demo"))
	fmt.Printf("%q\n", md)

	err := codec.CheckMetadata(md, "flatbuffers:sensor.Reading")
	fmt.Println(errors.Is(err, codec.ErrMismatch))
	fmt.Println(err)
	// Output:
	// "zerobuffer-codec=msgpack\napp=demo"
	// true
	// zerobuffer: codec mismatch: want "flatbuffers:sensor.Reading", sender uses "msgpack"
}
