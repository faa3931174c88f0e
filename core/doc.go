// Package core implements the ZeroBuffer v1 protocol: one writer process
// streams variable-size frames to one reader process through a ring in
// shared memory, binary-compatible with the C++, C# and Python ZeroBuffer
// implementations (see docs/PROTOCOL.md of this project for the wire
// contract).
//
// The [Reader] owns a buffer: [NewReader] creates it, [Reader.ReadFrame]
// hands out [Frame] values that point straight into shared memory, and
// [Frame.Release] gives their space back; [Reader.ReadBatch] hands every
// committed frame to a callback under one lock, the cheapest way to drain
// small frames. The [Writer] connects to an
// existing buffer with [NewWriter] and sends frames with
// [Writer.WriteFrame] (one copy), [Writer.Reserve]/[Writer.Commit] (build
// the frame in place, no copy), [Writer.WriteFrames] (many frames, one
// lock and one publication) or [Writer.AppendFrame]/[Writer.Flush] (the
// same, a frame at a time).
//
// Stream semantics follow Go channels: after [Writer.Close] the reader
// drains every committed frame and then gets io.EOF. A peer that dies is
// reported as [ErrWriterDead] or [ErrReaderDead] within 250ms (one
// peer-check interval of 50ms by default, four for a reader that has been
// idle; see [WithPeerCheckInterval]), also when the other side is not
// blocked. A new writer may connect after the previous
// one ended; the reader follows it.
//
// Beyond the reference implementations, this package wraps early rather
// than leave a 1..15-byte tail at the end of the ring (and zeroes one it
// cannot avoid, so old readers see a marker), survives a peer that does,
// returns space in read order even when frames are released out of order,
// never lets a semaphore overflow, detects peers by lock files as well as
// by PID (so PID reuse and PID namespaces do not fool it), and validates
// every size and offset it reads from shared memory: a corrupt buffer
// yields [ErrCorrupt], never a panic or an out-of-range access.
//
// # Caveats
//
// A Frame's Data is valid only until its Release; after Release the Frame
// itself is recycled and must not be used. Unreleased frames hold ring
// space: a reader that keeps frames stalls the writer. Closing the Reader
// while frames are held is allowed: their memory stays mapped until the
// last one is released.
//
// Reader, Writer and Frame are safe for concurrent use. Frames are
// delivered in order, one ReadFrame at a time; writes are serialised, and
// a Reserve holds the Writer until its Commit (Close waits for it).
//
// Blocking calls take a context.Context. On Linux a buffer's objects
// live in /dev/shm and /tmp/zerobuffer (see package platform for Windows
// and macOS names); the reader removes them on Close and the next reader
// of the same name removes what a crashed one left behind.
//
// The package builds only for 64-bit little-endian architectures (amd64,
// arm64, ppc64le, riscv64, loong64, mips64le): the protocol's shared words
// are little-endian u64 values updated with 64-bit atomics. Elsewhere the
// build fails with "undefined:
// zerobuffer_requires_a_64bit_little_endian_architecture".
package core
