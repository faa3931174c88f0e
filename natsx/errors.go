package natsx

import "errors"

// Sentinel errors of this package. Errors of nats.go, of the core
// (core.ErrFrameTooLarge for a message above the server's max_payload) and
// of package codec (codec.ErrInvalid, codec.ErrMismatch, codec.ErrEncode)
// are wrapped with %w, so errors.Is works on them too.
var (
	// ErrBadSubject: a channel subject is empty, has a wildcard ('*', '>'),
	// white space, an empty token or is longer than 200 bytes.
	ErrBadSubject = errors.New("zerobuffer: natsx: invalid subject")

	// ErrFull: the channel's stream holds its bound of unacknowledged
	// messages (see [WithMaxPending]); the receiver is slow or absent.
	// [Sender.Send] waits and retries while its ctx allows, and returns an
	// error matching ErrFull and the ctx error when it gives up.
	ErrFull = errors.New("zerobuffer: natsx: channel full (receiver too slow)")

	// ErrDropped: a core-NATS receiver fell behind and the client library
	// dropped messages for it (nats.ErrSlowConsumer). Returned once, by the
	// receive after the drop; the stream continues after the gap.
	ErrDropped = errors.New("zerobuffer: natsx: messages dropped (receiver too slow)")

	// ErrNotLoopback: an embedded server was asked to listen on an address
	// that is not a loopback address.
	ErrNotLoopback = errors.New("zerobuffer: natsx: embedded server listens on loopback only")

	// ErrBadMessage: a message from NATS breaks this package's framing (a
	// batch whose lengths do not fit the payload, an unknown header value).
	// It also matches codec.ErrInvalid, like every other bad peer data.
	ErrBadMessage = errors.New("zerobuffer: natsx: malformed message")

	// ErrReceiverExists: [Listen] in JetStream mode found another live
	// Receiver of the channel (in this or another process). A channel has
	// one receiver, as a shared buffer has one reader; the other one must
	// Close first, or, if it ended without Close, the server drops its
	// claim after [WithReceiverLease] without activity.
	ErrReceiverExists = errors.New("zerobuffer: natsx: channel already has a receiver")

	// ErrBadURL: an address given to [ParseAddress] or the bridge is not
	// of the form shm://NAME or nats://[host:port]/SUBJECT.
	ErrBadURL = errors.New("zerobuffer: natsx: invalid address")

	// ErrRemoved is returned by a JetStream-mode Send or Close (and the
	// bridge) whose channel was deleted, with [Remove] or otherwise,
	// while it was open: the server then stores nothing for the subject.
	// A JetStream Receiver's Recv returns it, for good, once it notices
	// (within about two idle heartbeats, 10 s).
	ErrRemoved = errors.New("zerobuffer: natsx: channel removed")
)
