package natsx

import (
	"fmt"
	"strings"
	"time"
)

// Mode selects how a channel's messages travel.
type Mode int

const (
	// JetStream (the default): a stream per channel with work-queue
	// retention, a bound on unacknowledged messages and a durable pull
	// consumer. A message is sent when the server acknowledged storing it;
	// nothing acknowledged is lost (with file storage, and with replicas
	// when a server fails); a full channel makes senders wait
	// (back-pressure). See the package documentation for the guarantee.
	JetStream Mode = iota
	// Core is plain NATS publish/subscribe: at most once, no
	// back-pressure. A receiver that falls behind loses messages and is
	// told so by [ErrDropped]; messages sent while no receiver listens are
	// lost.
	Core
)

// Option configures a sender, receiver, server or client of this package.
// Options that do not apply to a side are ignored by it.
type Option func(*options)

type options struct {
	mode         Mode
	maxPending   int
	maxBytes     int64
	replicas     int
	memory       bool
	userMetadata []byte
	noCheck      bool
	ackWait      time.Duration
	workers      int
	queue        string
	retryMax     time.Duration
	lease        time.Duration
	competing    bool
	noCoalesce   bool
}

func buildOptions(opts []Option) options {
	o := options{maxPending: 4096, maxBytes: -1, replicas: 1, ackWait: 10 * time.Second,
		workers: 8, queue: "zerobuffer", retryMax: 100 * time.Millisecond, lease: 30 * time.Second}
	for _, fn := range opts {
		if fn != nil {
			fn(&o)
		}
	}
	return o
}

// WithMode selects [JetStream] (default) or [Core].
func WithMode(m Mode) Option { return func(o *options) { o.mode = m } }

// WithMaxPending bounds the messages a JetStream channel holds that the
// receiver has not acknowledged (the stream's MaxMsgs, with "discard new"),
// and the pending-message limit of a core receiver (in NATS messages; a
// coalesced message holds several values). Default 4096. A
// sender's announcement (at Dial) and end-of-stream message (at Close)
// hold a place each until the receiver takes them. It is
// applied when the stream is created; an existing stream keeps its bound.
func WithMaxPending(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.maxPending = n
		}
	}
}

// WithMaxBytes bounds the bytes a JetStream channel holds, like
// [WithMaxPending]. Default: no bound beyond the server's.
func WithMaxBytes(n int64) Option {
	return func(o *options) {
		if n > 0 {
			o.maxBytes = n
		}
	}
}

// WithReplicas sets the number of servers a JetStream channel's stream is
// stored on (1, 3 or 5 in a cluster). Default 1.
func WithReplicas(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.replicas = n
		}
	}
}

// WithMemoryStorage keeps a JetStream channel's stream in server memory
// instead of files: faster, but a server restart loses it. Default: files.
func WithMemoryStorage() Option { return func(o *options) { o.memory = true } }

// WithMetadata appends p to the metadata a sender declares after its codec
// header, as typed.WithMetadata does. In JetStream mode it is stored once
// with the channel's metadata (package doc, "Metadata and codecs");
// [Receiver.Metadata] returns it. Core mode does not carry
// it.
func WithMetadata(p []byte) Option {
	return func(o *options) { o.userMetadata = append([]byte(nil), p...) }
}

// WithoutCodecCheck disables the codec declaration and check, as
// typed.WithoutCodecCheck does.
func WithoutCodecCheck() Option { return func(o *options) { o.noCheck = true } }

// WithAckWait sets how long the server waits for a receiver's
// acknowledgement before it redelivers a message. Default 10s.
func WithAckWait(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.ackWait = d
		}
	}
}

// WithReceiverLease sets how long a JetStream receiver that ended without
// Close (its process was killed) keeps its claim on the channel: the
// server deletes the receiver's consumer after this long without activity
// and after its unacknowledged messages' AckWait, and a new [Listen] of
// the channel succeeds from then on (before, it fails with
// [ErrReceiverExists]). Default 30s. A live Receiver that the server
// forgot after a long pause takes its claim again at its next receive.
func WithReceiverLease(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.lease = d
		}
	}
}

// WithCompetingReceivers makes a JetStream [Listen] join the channel's
// group of competing receivers instead of claiming the channel alone: the
// receivers of the group (in any processes) share one consumer, and each
// message goes to one of them. Delivery is then at least once (a message
// a receiver took and did not acknowledge goes to another after
// [WithAckWait]), with no order across receivers; announcements and
// end-of-stream messages are skipped, so Recv never returns io.EOF (end
// it with ctx or Close). A group and a single receiver exclude each
// other ([ErrReceiverExists]); the group's consumer outlives its last
// receiver by [WithReceiverLease].
func WithCompetingReceivers() Option { return func(o *options) { o.competing = true } }

// WithoutCoalescing makes a core-mode [Sender] publish each Send as a
// NATS message of its own, before Send returns, instead of letting values
// sent in quick succession share one message (see [Sender.Send]). Use it
// when plain NATS subscribers read the channel's messages, or when each
// value must be in the connection's buffer when Send returns. JetStream
// mode always sends one message per Send.
func WithoutCoalescing() Option { return func(o *options) { o.noCoalesce = true } }

// WithWorkers sets how many requests a [Server] handles at once. Default 8.
func WithWorkers(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.workers = n
		}
	}
}

// WithQueueGroup sets the queue group of a [Server]: servers of one group
// share the requests of a subject. Default "zerobuffer".
func WithQueueGroup(name string) Option { return func(o *options) { o.queue = name } }

// maxSubjectLen bounds channel subjects; stream names derived from them
// must stay within the server's limits.
const maxSubjectLen = 200

// validSubject checks that subject is a literal NATS subject (no
// wildcards) that can name a channel.
func validSubject(subject string) error {
	if subject == "" || len(subject) > maxSubjectLen {
		return fmt.Errorf("%w: length %d not in 1..%d", ErrBadSubject, len(subject), maxSubjectLen)
	}
	for _, tok := range strings.Split(subject, ".") {
		if tok == "" {
			return fmt.Errorf("%w: %q has an empty token", ErrBadSubject, subject)
		}
		if tok == "*" || tok == ">" || strings.ContainsAny(tok, "*> \t\r\n\x00") {
			return fmt.Errorf("%w: %q is not a literal subject", ErrBadSubject, subject)
		}
	}
	if strings.HasPrefix(subject, "$") || strings.HasPrefix(subject, "_INBOX.") {
		return fmt.Errorf("%w: %q is reserved", ErrBadSubject, subject)
	}
	return nil
}

// streamName maps a subject to the name of its stream, one to one: bytes
// outside [A-Za-z0-9-] are written as _XX (hex), which also keeps '.'
// out of the name as the server requires.
func streamName(subject string) string {
	var b strings.Builder
	b.WriteString("ZB_")
	for i := 0; i < len(subject); i++ {
		c := subject[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "_%02X", c)
		}
	}
	return b.String()
}
