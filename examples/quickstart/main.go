// Command quickstart sends Go values from one process to another.
package main

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/zerobuffer/zerobuffer-go/codec/msgpack"
	"github.com/zerobuffer/zerobuffer-go/core"
	"github.com/zerobuffer/zerobuffer-go/typed"
)

// Point is the message; both processes compile the same type.
type Point struct{ X, Y int }

// bufferName is machine-wide: every process that uses it meets here.
var bufferName = "quickstart"

func main() {
	ctx := context.Background()
	if len(os.Args) > 1 && os.Args[1] == "send" {
		tx, err := typed.Dial(ctx, bufferName, msgpack.New[Point]()) // waits for the receiver
		if err != nil {
			log.Fatal(err)
		}
		defer tx.Close() // the receiver gets what was sent, then its loop ends
		for i := range 3 {
			if err := tx.Send(ctx, Point{i, i * i}); err != nil {
				log.Fatal(err)
			}
		}
		return
	}
	rx, err := typed.Listen(bufferName, core.BufferConfig{}, msgpack.New[Point]()) // 1 MiB ring
	if err != nil {
		log.Fatal(err)
	}
	defer rx.Close() // removes the buffer
	for p, err := range rx.All(ctx) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("got", p)
	}
}
