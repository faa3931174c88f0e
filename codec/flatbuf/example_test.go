package flatbuf_test

import (
	"fmt"

	"github.com/zerobuffer/zerobuffer-go/codec"
	"github.com/zerobuffer/zerobuffer-go/codec/flatbuf/sensor"
)

// A Reading is encoded with a pooled builder and read back in place.
func Example() {
	frame, err := codec.Marshal[*sensor.ReadingT](sensor.NewEncoder(),
		&sensor.ReadingT{Id: 1, Timestamp: 42, Values: []float64{20.5, 21}, Name: "lab"})
	if err != nil {
		panic(err)
	}
	r, err := sensor.NewDecoder().View(frame) // no copy: r reads frame
	if err != nil {
		panic(err)
	}
	fmt.Println(r.Id(), r.Timestamp(), r.ValuesLength(), r.Values(0), string(r.Name()))

	frame[len(frame)/2] ^= 0xff // corrupt the frame
	frame[0] = 0xff             // root offset now points outside
	_, err = sensor.NewDecoder().View(frame)
	fmt.Println(err != nil)
	// Output:
	// 1 42 2 20.5 lab
	// true
}
