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
// the scoped forms [ViewReceiver.RecvFunc] and [ViewReceiver.All], so a
// zero-copy view cannot outlive its frame: passing a ViewDecoder to
// [Listen] or [NewReceiver] is a compile-time error.
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
package typed
