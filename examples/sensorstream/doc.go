// Command sensorstream streams FlatBuffers sensor readings from a producer
// process to a consumer process through a ZeroBuffer, reading each reading
// in place (zero-copy) in the consumer.
//
//	go run ./examples/sensorstream              # consumer; starts the producer itself
//	go run ./examples/sensorstream -n 1000000   # more readings
//
// or in two terminals:
//
//	go run ./examples/sensorstream -role consumer -spawn=false
//	go run ./examples/sensorstream -role producer
//
// The consumer creates the buffer (typed.ListenView with the sensor
// schema's view decoder) and the producer connects to it (typed.Dial with
// the pooled-builder encoder). When the producer closes, the consumer
// drains the ring, gets io.EOF and prints a summary.
//
// # Caveats
//
// The consumer owns the buffer: start it first, or let the producer wait
// (typed.Dial retries until the buffer exists). Views are only used inside
// the loop body; the consumer copies the one reading it keeps (the last
// name) with string(). A killed producer ends the stream with
// core.ErrWriterDead instead of io.EOF.
package main
