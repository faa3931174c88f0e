// Package natsx carries the typed channels and services of this module
// over NATS (https://nats.io), so that producers and consumers on
// different hosts run the code they would run over shared memory. It
// lives in its own package: programs that use only shared memory never
// compile NATS.
//
// The same codecs, the same interfaces (typed.Producer, typed.Consumer),
// the same errors:
//
//	nc, _ := nats.Connect(url)                                    // or natsx.StartEmbedded
//	rx, err := natsx.Listen(ctx, nc, "events", msgpack.New[Event]())
//	for ev, err := range rx.All(ctx) { ... }                       // ends after the senders' Close
//
//	tx, err := natsx.Dial(ctx, nc, "events", msgpack.New[Event]())
//	err = tx.Send(ctx, Event{...})                                 // waits while the channel is full
//	tx.Close()                                                     // receiver drains, then io.EOF
//
// # Delivery guarantees
//
//	transport            guarantee
//	shared memory        exactly once, in order; the sender blocks while the ring is full
//	natsx.JetStream      Send returns after the server stored the message; exactly once, in
//	  (default)          order, for the life of a Receiver; across a Receiver restart, at least
//	                     once (a message whose acknowledgement was in flight comes again);
//	                     senders wait (back-pressure) while the channel holds WithMaxPending
//	                     unacknowledged messages; nothing acknowledged is lost while the store
//	                     survives (file storage; WithReplicas(3) for a server failure)
//	natsx.Core           at most once, in order per sender; no back-pressure: a slow receiver
//	                     loses messages and is told so (ErrDropped); nothing is kept for a
//	                     receiver that is not subscribed; the end-of-stream message of
//	                     Close can be lost like any other
//
// How JetStream mode keeps it: a channel is a stream with work-queue
// retention and "discard new" at the bound, so an unacknowledged message
// holds a place and a full stream refuses new ones; the sender retries
// with the same message id, which the server's duplicate window (2
// minutes) turns into a single copy; the receiver is a durable pull
// consumer of its own (the server accepts one consumer per work-queue
// subject, which is what refuses a second receiver), hands out messages in stream-sequence order, drops
// redeliveries of messages it already handed out and reads a message the
// server skipped (lost in transit) from the stream directly.
//
// # Metadata and codecs
//
// The buffer metadata ("zerobuffer-codec=NAME\n" and user bytes, see
// package codec) crosses once: a JetStream sender stores it in the
// key-value bucket ZB_META (key: the stream name; write-once, like a
// buffer's; a channel with memory storage or several replicas uses
// ZB_META_MEM_R<n> or ZB_META_R<n>, so the metadata is kept as the stream
// is), and the receiver checks it on the first message, failing with
// typed.ErrCodecMismatch (sticky). A stream's configuration is never
// changed after its creation. [Remove] deletes the key.
// Core mode has no place to store it; each message carries the sender id
// and the codec name in its reply subject, "_ZB.<id>.<codec>" (no header
// to encode or parse). Values sent in quick succession share a message:
// a core Sender queues each value and a goroutine of its own publishes
// what was queued meanwhile as one batch message (header "Zb-Batch: N",
// each value a u32 little-endian length and its bytes, at most 64 KiB),
// so the per-message costs of NATS (subject, reply, header, one delivery)
// are paid once per batch; an idle sender's value leaves alone, after one
// goroutine hand-off. A batch is lost or delivered whole, in order.
// [WithoutCoalescing] publishes one message per Send instead, for plain
// NATS subscribers of the channel. A [codec.RawCopy]
// receiver hands out each message's payload without copying it (the
// client already gave every message its own), and a [codec.Raw] or
// RawCopy sender publishes the value's bytes without encoding them into
// a buffer first. Decoding is the codec's, so a
// malformed or oversized message
// gets the errors it gets from shared memory (codec.ErrInvalid, and
// core.ErrFrameTooLarge for a message above the server's max_payload).
//
// # Differences from shared memory
//
//   - The stream of a channel outlives its receiver: [Receiver.Close] keeps
//     it and a new receiver resumes where the last one stopped. [Remove]
//     deletes it.
//   - Several senders may send to one channel (see below).
//   - A JetStream channel has one receiver, as a buffer has one reader: a
//     second [Listen] of the channel, in any process, fails with
//     [ErrReceiverExists] until the first one closes. A receiver that
//     ended without Close (killed) holds the channel until the server
//     drops its consumer, [WithReceiverLease] (default 30s) after its last
//     activity and its messages' AckWait; the next receiver then gets the
//     messages it had taken and not acknowledged. [WithCompetingReceivers]
//     asks instead for a group of receivers sharing the messages (at
//     least once, no order across them, no io.EOF). A core-mode channel
//     refuses nothing: each subscriber gets every message.
//
// # Several senders
//
// Each Sender has an id. It announces itself when it is created (a
// message stored in JetStream before Dial returns; sent at most once in
// core mode), marks each message with its id (the JetStream message id,
// the core reply subject), and ends with an end-of-stream message at
// Close. A receiver knows the senders whose announcement or messages it
// has received, and returns io.EOF after the end-of-stream message of the
// last of them that was still open. So with several senders io.EOF comes
// once each sender that announced itself before the others ended has
// closed; a sender created after that finds the receiver at io.EOF, and
// its messages wait in the stream for the next receiver. A sender that
// dies without Close never ends: the receiver waits (bound it with ctx).
// A restarted receiver knows only the senders it hears from again.
//   - The *nats.Conn is the caller's: nothing here closes it.
//
// Requests and responses use NATS request-reply ([NewServer], [DialClient])
// with the handlers of package duplex. [Bridge] forwards a shared-memory
// buffer to a channel and back. [StartEmbedded] runs an in-process server
// on loopback for tests, examples and the CLI.
package natsx
