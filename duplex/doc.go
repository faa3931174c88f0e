// Package duplex implements request/response over two ZeroBuffer buffers,
// the duplex channel of docs/PROTOCOL.md section 12, wire-compatible with
// the C++ DuplexClient and ImmutableDuplexServer.
//
// A channel NAME consists of two ordinary buffers:
//
//	NAME_request   created by the server (its core.Reader), written by the client
//	NAME_response  created by the client (its core.Reader), written by the server
//
// Frames are plain v1 frames with no header of their own. The server
// writes exactly one response per request, in request order, so the n-th
// response answers the n-th request.
//
// Two levels are offered. The raw level moves bytes without copies where
// the protocol allows: a [RawServer]'s [HandlerFunc] reads the request in
// place and builds its response in place with [ResponseWriter.Reserve] and
// [ResponseWriter.Commit]; a [RawClient] builds requests in place with
// [RawClient.Reserve]/[RawClient.Commit], pipelines with
// [RawClient.Send]/[RawClient.Receive], and makes simple round trips with
// [RawClient.Call]. The typed level, [Server] and [Client], encodes and
// decodes values with the encoders and decoders of package codec.
//
// # Connecting
//
// Start the server first ([NewRawServer] creates NAME_request). A client
// ([DialRaw], [Dial]) creates NAME_response first and connects to
// NAME_request second, so that the response buffer exists by the time the
// server sees the client's first request; the server connects to it at
// that moment (retrying for up to 5s, [WithConnectTimeout]) and then calls
// its [WithOnConnect] hook with the request buffer's metadata. The C++
// client uses the opposite order, which works because it sends no request
// before both buffers exist.
//
// One client is served at a time. Beyond the reference (docs/PROTOCOL.md W7) the
// server keeps serving after its client leaves or dies: a client that
// closes gets the responses to everything it sent before the server
// finishes with it; a client that dies has its remaining requests dropped;
// either way the next client to dial is served from its first request on.
// A request with sequence number 1 marks a new client, since every writer
// starts counting at 1.
//
// # Many clients
//
// [RawServer] serves one client at a time, as the reference does.
// [RawMultiServer] serves many client processes at once: the request side
// is a fan-in (core.FanIn) on NAME_request, each client writing into a
// request lane of its own, and each Go client ([DialRawMulti]) answered in
// a response buffer of its own, NAME_response.PID-NONCE, which it
// declares in its lane's metadata. The server checks that the buffer's
// reader is the lane's writer before it answers, and lanes are recreated
// after their client leaves, so responses reach only the client that
// asked, also when a client dies with calls in flight and another one
// takes its lane. A C++ DuplexClient (or [DialRaw]) connects to
// NAME_request/NAME_response as before and is served on lane 0, with the
// caveat of the single-client server below. Handlers run one at a time.
// One client cannot stall the others: responses that find a client's
// ring full wait in a queue of that client's own, and a client that leaves
// its ring full for the stall timeout ([WithStallTimeout], default 2s), or
// lets more than a ring's worth of responses queue up, is disconnected,
// its later requests dropped, and its pending calls fail with
// [ErrClientDisconnected].
// The typed counterparts are [NewMultiServer] and [DialMulti], with the
// codec check of [Server] and [Client] made per client.
//
// # Error responses
//
// A handler error must reach the client without breaking the one
// response per request rule, and the response must stay a plain v1 frame.
// The server therefore answers a failed request with an error response, a
// frame that begins with the 8-byte [ErrorMarker]:
//
//	bytes 0..7    ff 5a 42 45 52 52 00 01   ("\xffZBERR\x00\x01"; last byte = layout version 1)
//	bytes 8..11   u32 little-endian n       message length
//	bytes 12..    n bytes of UTF-8          the handler's error text (at most 4096 bytes)
//	after that    zero padding, ignored
//
// Every other frame is a successful response, exactly as the handler
// wrote it: successful responses carry no prefix, so a Go server answers a
// C++ DuplexClient byte for byte like the C++ server would, and a Go
// client calls a C++ server unchanged. A C++ peer sees an error response
// as an ordinary response frame; to recognise it, test
//
//	size >= 12 && memcmp(data, "\xff" "ZBERR\0\1", 8) == 0
//
// and read the message at data+12 with the length at data+8. A Go client
// returns it as a [*HandlerError] matching [ErrHandler]. The marker was
// chosen so that no MessagePack value or FlatBuffers buffer of 8 bytes or
// more can start with it (0xff is a complete MessagePack value; as a
// FlatBuffers root offset the bytes point far outside the frame), and no
// text does (0xff is never valid UTF-8). A raw application must not send
// successful responses that begin with it.
//
// # Ordering and concurrency
//
// By default the server handles one request at a time on the goroutine
// that called Serve, and the response is built straight in the client's
// response ring. To handle requests concurrently while keeping responses
// in request order, use [WithWorkers](n): n goroutines run handlers and an
// in-order sequencer writes each response once all earlier ones are
// written (each response is then built in heap memory and copied into the
// ring once). A handler can also hand slow work to its own goroutines, as
// long as it returns (and so answers) each request in turn.
//
// The clients are safe for concurrent use. Requests enter a FIFO in the
// order they are written; the goroutines waiting for responses read the
// response buffer themselves and hand each response to the call at the
// head of the FIFO, so [RawClient.Call] from many goroutines at once gives
// every caller its own response.
//
// # Failure detection
//
// A client waiting for a response learns that the server died within
// about 50ms (the core's peer-check interval) when the server's response
// writer dies, and within about 100ms through the request buffer
// otherwise; it then returns [ErrServerDead], which also matches the core
// error (core.ErrWriterDead or core.ErrReaderDead). A server that shuts
// down gracefully closes the response writer first: pending calls get
// [ErrServerClosed]. A server learns that its client died when writing a
// response fails with core.ErrReaderDead, or when the request buffer
// reports core.ErrWriterDead; it then waits for the next client.
//
// # Caveats
//
//   - Lifetimes: the request slice a [HandlerFunc] receives, the slots of
//     [ResponseWriter.Reserve] and [RawClient.Reserve], the slices passed
//     to the fn of [RawClient.CallFunc] and [RawClient.ReceiveFunc], and
//     the views of [NewViewServer] handlers alias shared memory (or a
//     reused buffer) and are valid only until the handler or fn returns
//     or the slot is committed. The results of [RawClient.Call],
//     [RawClient.Receive] and [Client.Call] are owned by the caller.
//   - A handler blocks the server while it runs (with the default single
//     worker), and so does a client that does not read its responses: the
//     server waits for space in the response ring ([RawMultiServer]: it
//     queues that client's responses and serves the others, see above). A pipelining client
//     must receive concurrently with sending, or bound its requests in
//     flight, or both sides stall on full rings.
//   - Responses are matched to requests by position only. A call whose ctx
//     ends after its request was sent discards its response when it
//     arrives; the channel stays in step.
//   - Between [RawClient.Reserve] and [RawClient.Commit] the client's send
//     side is held, as in the core writer; Close waits for the Commit.
//   - Metadata is write-once per buffer, and the request buffer lives as
//     long as the server: a later client finds the first client's metadata
//     ([WithMetadata], [ErrMetadataConflict]); typed clients only need the
//     same codec.
//   - If a client dies with unanswered requests and a new client dials
//     before the server has read the dead client's first request, those
//     requests may be answered into the new client's response buffer. The
//     core does not expose the peers' identities that would let the server
//     tell the two apart.
//   - Close and Shutdown wait for running handlers to return, after
//     cancelling their ctx (Close) or answering what was sent (Shutdown):
//     do not call them from a handler.
//   - A client is unusable after [ErrServerClosed], [ErrServerDead],
//     [ErrUnexpectedResponse] or a corrupt buffer: Close it and dial again.
package duplex
