package typed

import (
	"context"
	"iter"
)

// Producer is the send side of a typed channel, whatever carries it:
// *[Sender] (shared memory) and the NATS senders of package natsx satisfy
// it, so code written against it runs over either transport.
type Producer[T any] interface {
	// Send encodes v as one message and sends it; see [Sender.Send].
	Send(ctx context.Context, v T) error
	// Close ends the stream: the consumer receives what was sent, then
	// io.EOF.
	Close() error
}

// Consumer is the receive side of a typed channel with an owning decoder:
// *[Receiver] (shared memory) and the NATS receivers of package natsx
// satisfy it.
type Consumer[T any] interface {
	// Recv returns the next message; io.EOF after the producer closed and
	// every message was received. See [Receiver.Recv].
	Recv(ctx context.Context) (T, error)
	// All iterates over the messages; see [Receiver.All].
	All(ctx context.Context) iter.Seq2[T, error]
	// Close releases the receive side.
	Close() error
}

var (
	_ Producer[int] = (*Sender[int])(nil)
	_ Consumer[int] = (*Receiver[int])(nil)
)
