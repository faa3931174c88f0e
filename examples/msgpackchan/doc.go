// Command msgpackchan is a typed channel between two processes: the
// parent receives Order values from a child process through a ZeroBuffer
// with the msgpack codec, and consumes them in a select statement next to
// a ticker, exactly like a Go channel.
//
//	go run ./examples/msgpackchan
//	go run ./examples/msgpackchan -n 500000
//
// The child is this program re-executed with -role sender. Receiving uses
// typed.Receiver.C (a <-chan Order) and typed.Receiver.Err, which is nil
// after the sender's Close and core.ErrWriterDead if the sender crashed.
//
// # Caveats
//
// Decoded Orders own their memory (msgpack is an owning codec), which is
// what allows a channel; a zero-copy codec would only offer scoped
// receives. Both processes must use the same Order layout: the sender
// declares the type's fingerprint in the buffer metadata, and a receiver
// of another struct type fails with typed.ErrCodecMismatch. Order's
// msgp methods are generated (order_gen.go, see order.go).
package main
