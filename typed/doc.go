// Package typed sends and receives Go values over a ZeroBuffer: a typed,
// cross-process channel built from a core.Reader/core.Writer pair and a
// codec.
//
// The receiving process creates the buffer and the sending process
// connects to it by name:
//
//	rx, err := typed.Listen("events", core.BufferConfig{PayloadSize: 1 << 20}, msgpack.New[Event]())
//	for ev, err := range rx.All(ctx) { ... }          // ends after the sender's Close
//
//	tx, err := typed.Dial(ctx, "events", msgpack.New[Event]())
//	err = tx.Send(ctx, Event{...})                     // blocks while the ring is full
//	tx.Close()                                         // receiver drains, then io.EOF
//
// [Sender] encodes each value into one frame; [Sender.SendAll] publishes
// a slice of them at once. [Receiver] decodes the frames already committed
// in one pass (core.Reader.ReadBatch) and hands them out one at a time. [Receiver] works with owning
// decoders ([codec.Decoder]: msgpack, codec.RawCopy, the FlatBuffers
// object decoder) and offers [Receiver.Recv], [Receiver.RecvFunc],
// [Receiver.All] and a select-able channel [Receiver.C] with
// [Receiver.Err]. [ViewReceiver] works with borrowing decoders
// ([codec.ViewDecoder]: FlatBuffers table views, codec.Raw) and offers only
// the scoped forms [ViewReceiver.RecvFunc], [ViewReceiver.All] and
// [ViewReceiver.RecvBatch] (a callback for every committed frame, in one
// pass), so a zero-copy view cannot outlive its frame: passing a
// ViewDecoder to [Listen] or [NewReceiver] is a compile-time error.
//
// The sender declares its codec in the buffer metadata
// ("zerobuffer-codec=NAME\n", see package codec); the receiver checks it
// on the first message and fails with [ErrCodecMismatch] instead of
// decoding another codec's bytes. Errors of the core (io.EOF,
// core.ErrWriterDead, core.ErrReaderDead, core.ErrClosed, ctx errors) are
// returned unchanged, so errors.Is and == work on them.
//
// # Caveats
//
//   - Views from a [ViewReceiver] alias shared memory and are valid only in
//     the callback or loop body that received them; strings and slices
//     read from them too. Copy what you keep.
//   - Metadata is write-once per buffer: every sender of a buffer's lifetime
//     must use the codec of the first one. A receiver checks the codec once;
//     a mismatch is sticky.
//   - A sender that writes no metadata (a C++, C# or Python writer) counts
//     as a mismatch unless the receiver uses [WithoutCodecCheck].
//   - Codecs that implement codec.Fingerprinter (msgpack) also declare the
//     message type ("zerobuffer-type=..." after the codec line); a receiver
//     of another type fails with [ErrCodecMismatch] naming both. A sender
//     that declares the codec but no type is accepted.
//   - [WithCapacity] sizes the ring in messages; messages are frames of
//     their encoded size plus a 16-byte header, so the count holds for
//     messages up to the given size.
//   - Each message is one frame: a value whose encoding exceeds the ring
//     (core.Writer.MaxFrameSize) fails with core.ErrFrameTooLarge.
//   - [Receiver.C] runs one goroutine until the stream ends, its ctx is done
//     or the Receiver is closed; a message it read but could not deliver
//     is returned by the next Recv, so C followed by Recv loses nothing.
//     Do not receive with other methods while C's channel is open.
//   - Senders and receivers own their core objects: Close closes them. A
//     receiver's Close removes the buffer.
//
// # Many senders (fan-in)
//
// [Listen] takes one sender at a time, like the v1 protocol. For many
// sender processes use [ListenMany] and [DialMany]: each sender gets a
// ring of its own (a lane, see core.FanIn); the receiver waits at one
// place for all of them (no goroutine or channel per message), takes at
// most core.FanInConfig.Budget messages from one sender in a row, and
// sleeps on a shared doorbell when all are idle. Lane 0 is the plain
// name, so a single C++, C# or Python writer still connects to NAME.
// Per-sender order is kept; across senders, order is arrival order. A
// sender that closes or dies ends only its own lane (a dead one is seen
// within 250ms and its lane is free at once). The stream never ends by
// itself, like a Go channel nobody closes: Recv waits for senders until
// ctx ends or Close; with core.FanInConfig.Linger it returns io.EOF once
// every sender has gone for that long.
//
// Competing consumers (several receiver processes, each message to
// exactly one) are not built. On the same mechanism they would be the
// mirror image: the sender owns one lane per consumer (each a v1 ring the
// consumer creates and the sender writes), consumers claim lanes through
// the reader lock instead of the writer lock, and the sender picks the
// lane with the most free space (payload_free_bytes) for each message, so
// a slow consumer gets less. A consumer that dies loses at most the
// messages already in its ring; redelivering them would need an
// acknowledgement the v1 wire format does not have.
package typed
