package sensor_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/zerobuffer/zerobuffer-go/codec"
	"github.com/zerobuffer/zerobuffer-go/codec/flatbuf/sensor"
)

func TestCodecs_NameAndRoundTrip(t *testing.T) {
	if err := codec.ValidateName(sensor.CodecName); err != nil {
		t.Fatal(err)
	}
	enc, dec, obj := sensor.NewEncoder(), sensor.NewDecoder(), sensor.NewObjectDecoder()
	if enc.Name() != sensor.CodecName || dec.Name() != sensor.CodecName || obj.Name() != sensor.CodecName {
		t.Fatal("codec names differ")
	}
	frame, err := codec.Marshal[*sensor.ReadingT](enc, &sensor.ReadingT{Id: 3, Name: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if string(frame[4:8]) != sensor.FileIdentifier {
		t.Fatalf("identifier %q", frame[4:8])
	}
	if _, err := sensor.Verify(frame); err != nil {
		t.Fatal(err)
	}
	if _, err := sensor.View(frame[:len(frame)/2]); !errors.Is(err, codec.ErrInvalid) {
		t.Fatalf("truncated frame: %v", err)
	}
}

func ExampleView() {
	frame, _ := codec.Marshal[*sensor.ReadingT](sensor.NewEncoder(),
		&sensor.ReadingT{Id: 9, Values: []float64{1, 2, 3}, Name: "probe"})
	r, err := sensor.View(frame) // verified, zero-copy
	if err != nil {
		panic(err)
	}
	fmt.Println(r.Id(), r.ValuesLength(), string(r.Name()))
	// Output: 9 3 probe
}
