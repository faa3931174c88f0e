// This program must NOT compile: a FlatBuffers view decoder borrows the
// frame, and typed.Listen (whose Recv and C let values outlive their
// frames) accepts only owning decoders. TestReceiver_RejectsViewDecoder
// checks the compiler error.
package main

import (
	"github.com/zerobuffer/zerobuffer-go/codec/flatbuf/sensor"
	"github.com/zerobuffer/zerobuffer-go/core"
	"github.com/zerobuffer/zerobuffer-go/typed"
)

func main() {
	rx, _ := typed.Listen[sensor.Reading]("misuse", core.BufferConfig{PayloadSize: 4096}, sensor.NewDecoder())
	_ = rx
}
