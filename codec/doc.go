// Package codec defines how typed messages become ZeroBuffer frames and
// back, and provides the identity codec for raw bytes.
//
// The two directions are separate interfaces because they can differ in
// type and in memory ownership:
//
//   - [Encoder] writes one value as one frame through a [FrameWriter]
//     (*core.Writer implements it): it reserves exactly the encoded size in
//     the ring, fills it and commits, so a message is copied into shared
//     memory once.
//   - [Decoder] returns values that own their memory (msgpack, [RawCopy]).
//   - [ViewDecoder] returns views that borrow the frame (flatbuffers tables,
//     [Raw]); a view is valid only until its frame is released.
//
// The method name is the ownership statement: Decode means owned, View
// means borrowed. Package typed accepts a ViewDecoder only in scoped receive
// APIs (a callback or a range-over-func loop body), so a borrowed view
// cannot escape its frame through the typed API without the compiler
// noticing.
//
// Each codec has a [Encoder.Name]. Typed senders write it into the buffer
// metadata as "zerobuffer-codec=NAME\n" followed by optional application
// bytes ([AppendMetadata]); receivers compare it with their own decoder's
// name ([CheckMetadata]) and fail with [ErrMismatch] instead of decoding
// another codec's bytes.
//
// Subpackages: codec/msgpack (owned, reflection-based MessagePack with a
// fast path for tinylib/msgp types) and codec/flatbuf (zero-copy
// FlatBuffers views with a verifier).
//
// # Caveats
//
//   - A value from a [ViewDecoder] aliases shared memory that the writer
//     reuses once the frame is released; strings and slices obtained from it
//     share that lifetime. Copy what you keep.
//   - Decoders must treat frames as untrusted input: they return errors
//     wrapping [ErrInvalid] and never panic on bad bytes. A frame lives in
//     shared memory that the peer can still write to, so an owning
//     Decoder reads it once: it copies the frame into private memory and
//     checks and decodes only the copy (msgpack and the FlatBuffers object
//     decoder do). A [ViewDecoder] cannot copy and so trusts the writer not
//     to change a published frame. [Decode] and [View] turn a decoder's
//     panic into an error wrapping ErrInvalid; package typed and package
//     duplex call decoders through them. A Decoder whose
//     result references the frame violates the Decoder contract and breaks
//     the lifetime guarantee; implement ViewDecoder instead.
//   - Encoders and decoders are safe for concurrent use; a [FrameWriter] is
//     not, so callers serialise EncodeFrame calls per writer (typed.Sender
//     does).
//   - The protocol has no empty frames: an encoding of zero bytes cannot be
//     sent.
package codec
