package natsx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"github.com/zerobuffer/zerobuffer-go/codec"
	"github.com/zerobuffer/zerobuffer-go/core"
	"github.com/zerobuffer/zerobuffer-go/typed"
)

// Receiver receives values of type T from a channel over NATS with an
// owning decoder. It satisfies typed.Consumer, like typed.Receiver, and
// offers the same receive forms (Recv, RecvFunc, All, C with Err).
//
// A Receiver is safe for concurrent use; messages are delivered one at a
// time, in order. It does not own the *nats.Conn.
type Receiver[T any] struct {
	dec     codec.Decoder[T]
	owned   func([]byte) (T, error) // set for codec.RawCopy; see ownedDecode
	subject string
	mode    Mode
	noCheck bool

	// JetStream mode.
	nc    *nats.Conn
	st    jetstream.Stream
	ccfg  jetstream.ConsumerConfig // this Receiver's own consumer
	pull  int
	it    jetstream.MessagesContext
	last  uint64 // stream sequence of the last message handed out
	acked uint64 // stream sequence of the last message acknowledged
	// competing: one of a group sharing a consumer (WithCompetingReceivers)
	competing bool
	held      jetstream.Msg
	removed   error // sticky: the channel was removed (ErrRemoved)

	// Core mode.
	sub       *nats.Subscription
	ch2       chan *nats.Msg
	count     uint64
	dropped   int
	lastReply string // reply subject of the last data message (learned)

	mu       sync.Mutex // serialises receives; guards the fields below
	queue    []inMsg    // messages in stream order, ready to hand out
	frames   [][]byte   // frames left of a batch message
	batchAck func()
	batchSeq uint64
	eof      bool
	senders  map[string]bool // sender id -> still open (see hdrHello)
	open     int             // senders known and not ended
	checked  bool
	mismatch error
	userMD   []byte

	// deferAck (set by BridgeFromNATS) acknowledges a message at the next
	// receive instead of when it is handed out.
	deferAck   bool
	pendingAck func()

	closed atomic.Bool
	chOnce sync.Once
	ch     chan T
	done   chan struct{}
	wg     sync.WaitGroup
	errMu  sync.Mutex
	err    error
	once   sync.Once
}

var _ typed.Consumer[int] = (*Receiver[int])(nil)

// inMsg is one received NATS message. ack is nil for messages that need
// no acknowledgement (core mode, or fetched by sequence to fill a gap).
type inMsg struct {
	data  []byte
	hdr   nats.Header
	reply string
	seq   uint64
	ack   func()
}

// Listen returns a Receiver for the channel subject on nc. In [JetStream]
// mode (the default) it creates the channel's stream if needed and a
// durable pull consumer, and resumes after the last message a previous
// receiver of the channel acknowledged. A channel has one JetStream
// receiver at a time: while another one (in any process) holds it, Listen
// fails with an error matching [ErrReceiverExists] (see
// [WithReceiverLease] for a receiver that was killed). In [Core] mode it
// subscribes and returns once the server has the subscription; only
// messages sent from then on arrive.
//
// Unlike typed.Listen, there is one stream per subject whoever creates
// it, and [Receiver.Close] keeps it (use [Remove] to delete it). Like
// [Dial], Listen in JetStream mode retries while the server does not
// answer, until ctx ends.
func Listen[T any](ctx context.Context, nc *nats.Conn, subject string, dec codec.Decoder[T], opts ...Option) (*Receiver[T], error) {
	if nc == nil || dec == nil {
		return nil, errors.New("zerobuffer: natsx: nil connection or decoder")
	}
	if err := validSubject(subject); err != nil {
		return nil, err
	}
	if err := codec.ValidateName(dec.Name()); err != nil {
		return nil, err
	}
	o := buildOptions(opts)
	r := &Receiver[T]{dec: dec, subject: subject, mode: o.mode, noCheck: o.noCheck, done: make(chan struct{})}
	r.owned = ownedDecode[T](dec)
	if o.mode == Core {
		// The client library delivers straight into ch from its read
		// loop; a full ch drops the message and counts it (Dropped).
		r.ch2 = make(chan *nats.Msg, o.maxPending)
		sub, err := nc.ChanSubscribe(subject, r.ch2)
		if err != nil {
			return nil, fmt.Errorf("natsx: subscribe: %w", err)
		}
		// Return only once the server has the subscription: core NATS
		// delivers nothing published before that, so a sender told
		// "the receiver is listening" must not lose its first messages.
		fctx, cancel := ctx, context.CancelFunc(func() {})
		if _, ok := ctx.Deadline(); !ok { // nats.go requires one
			fctx, cancel = context.WithTimeout(ctx, attemptTimeout)
		}
		err = nc.FlushWithContext(fctx)
		cancel()
		if err != nil {
			_ = sub.Unsubscribe()
			return nil, fmt.Errorf("natsx: subscribe: %w", err)
		}
		r.sub = sub
		return r, nil
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("natsx: %w", err)
	}
	st, err := ensureStream(ctx, js, subject, o)
	if err != nil {
		return nil, err
	}
	// Each Receiver has its own consumer. The stream's work-queue
	// retention lets the server accept only one consumer per subject, so
	// the server itself refuses a second receiver, atomically, whichever
	// process asks. Messages the last receiver did not acknowledge are
	// still in the stream, so a new consumer delivering "all" resumes
	// after it.
	r.nc = nc
	r.ccfg = jetstream.ConsumerConfig{
		Durable:           "zbrx-" + nuid.Next(),
		AckPolicy:         jetstream.AckExplicitPolicy,
		AckWait:           o.ackWait,
		MaxAckPending:     o.maxPending,
		DeliverPolicy:     jetstream.DeliverAllPolicy,
		FilterSubject:     subject,
		InactiveThreshold: o.lease,
	}
	if o.competing {
		r.ccfg.Durable, r.competing = sharedConsumer, true
	}
	r.pull = min(o.maxPending, 512)
	r.st = st
	if err := r.claim(ctx); err != nil {
		return nil, err
	}
	var si *jetstream.StreamInfo
	err = metaAttempt(ctx, func(ctx context.Context) (err error) {
		si, err = st.Info(ctx)
		return err
	})
	if err != nil {
		r.it.Stop()
		r.release()
		return nil, fmt.Errorf("natsx: stream info: %w", err)
	}
	if si.State.FirstSeq > 0 {
		r.last = si.State.FirstSeq - 1
	}
	return r, nil
}

// claim creates the Receiver's consumer and its message iterator. A
// consumer of another receiver on the channel makes it fail with
// ErrReceiverExists.
func (r *Receiver[T]) claim(ctx context.Context) error {
	var cons jetstream.Consumer
	err := metaAttempt(ctx, func(ctx context.Context) (err error) {
		cons, err = r.st.CreateOrUpdateConsumer(ctx, r.ccfg)
		return err
	})
	if err != nil {
		var ae *jetstream.APIError
		if errors.As(err, &ae) && (ae.ErrorCode == jsErrWQNotUnique || ae.ErrorCode == jsErrWQMultipleUnfiltered) {
			return fmt.Errorf("natsx: listen %s: %w", r.subject, ErrReceiverExists)
		}
		return fmt.Errorf("natsx: consumer: %w", err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(r.pull), jetstream.PullHeartbeat(pullHeartbeat),
		jetstream.WithMessagesErrOnMissingHeartbeat(true))
	if err != nil {
		r.release()
		return fmt.Errorf("natsx: consume: %w", err)
	}
	r.it = it
	return nil
}

// pullHeartbeat is how often the server signals an idle pull of a
// JetStream receiver. Two missed signals make the iterator report an
// error, on which reclaim finds out what happened (a server restart, a
// consumer deleted after its lease, a channel removed).
var pullHeartbeat = 5 * time.Second

// reclaim answers an error of the message iterator: if the server deleted
// the consumer (the receiver paused longer than its lease), it claims the
// channel again, unless another receiver took it meanwhile; if the
// channel's stream is gone, receiving ends with ErrRemoved. It returns
// nil when receiving may go on.
func (r *Receiver[T]) reclaim(ctx context.Context, cause error) error {
	_, err := r.st.Consumer(ctx, r.ccfg.Durable)
	switch {
	case errors.Is(err, jetstream.ErrStreamNotFound):
		r.it.Stop()
		r.removed = fmt.Errorf("natsx: receive: %w (%w)", ErrRemoved, cause)
		return r.removed
	case err == nil && errors.Is(cause, jetstream.ErrNoHeartbeat):
		return nil // the consumer is there; the iterator retries
	case err == nil:
		return fmt.Errorf("natsx: receive: %w", cause)
	case errors.Is(err, jetstream.ErrConsumerNotFound):
		r.it.Stop()
		slog.Debug("natsx: receiver lost its consumer; claiming the channel again", "subject", r.subject)
		return r.claim(ctx)
	case errors.Is(cause, jetstream.ErrNoHeartbeat):
		return nil // server unreachable; the iterator reconnects
	default:
		return fmt.Errorf("natsx: receive: %w (consumer lookup: %w)", cause, err)
	}
}

// release deletes the Receiver's consumer so that a new receiver can claim
// the channel. Acknowledgements travel apart from the delete request, so
// it first waits (briefly) until the server counted the last one: a
// message acknowledged here must not come to the next receiver.
func (r *Receiver[T]) release() {
	ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
	defer cancel()
	if r.competing {
		// The consumer is the group's: only send the acknowledgements.
		if err := r.nc.FlushWithContext(ctx); err != nil {
			slog.Debug("natsx: receiver: flush", "subject", r.subject, "err", err)
		}
		return
	}
	if r.acked > 0 && r.nc.FlushWithContext(ctx) == nil {
		for {
			c, err := r.st.Consumer(ctx, r.ccfg.Durable)
			if err != nil || c.CachedInfo().AckFloor.Stream >= r.acked {
				break
			}
			t := time.NewTimer(10 * time.Millisecond)
			select {
			case <-ctx.Done():
			case <-t.C:
			}
			t.Stop()
			if ctx.Err() != nil {
				break
			}
		}
	}
	if err := r.st.DeleteConsumer(ctx, r.ccfg.Durable); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		slog.Debug("natsx: receiver: delete consumer", "subject", r.subject, "err", err)
	}
}

// Remove deletes the stream of channel subject, the messages it holds
// and its declared metadata. Removing a channel that does not exist is not
// an error.
func Remove(ctx context.Context, nc *nats.Conn, subject string) error {
	if err := validSubject(subject); err != nil {
		return err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("natsx: %w", err)
	}
	st, err := js.Stream(ctx, streamName(subject))
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("natsx: remove %s: %w", subject, err)
	}
	err = js.DeleteStream(ctx, streamName(subject))
	if err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("natsx: remove %s: %w", subject, err)
	}
	if err := forgetMetadata(ctx, js, st); err != nil {
		return fmt.Errorf("natsx: remove %s: %w", subject, err)
	}
	return nil
}

// Recv waits for the next message and returns it. It returns io.EOF after
// every sender it knows of closed and every message was received (see
// "Several senders" in the package documentation), the ctx error,
// core.ErrClosed after Close, an error matching typed.ErrCodecMismatch
// (sticky, like on shared memory), or a decode error wrapping
// codec.ErrInvalid (that message is skipped; the next Recv continues). In
// JetStream mode, a channel removed under the receiver gives [ErrRemoved]
// (sticky). In core mode, [ErrDropped] reports messages lost to a slow
// receiver, once.
func (r *Receiver[T]) Recv(ctx context.Context) (T, error) {
	v, _, err := r.recv(ctx)
	return v, err
}

// RecvFunc is [Receiver.Recv] with a callback: it calls fn with the next
// message and returns fn's error, or Recv's error without calling fn.
func (r *Receiver[T]) RecvFunc(ctx context.Context, fn func(v T) error) error {
	v, err := r.Recv(ctx)
	if err != nil {
		return err
	}
	return fn(v)
}

// All returns an iterator over the messages. io.EOF ends the sequence
// without an error. A decode error (or [ErrDropped]) is yielded with the
// zero T and the loop may continue; any other error is yielded once and
// ends the sequence.
func (r *Receiver[T]) All(ctx context.Context) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for {
			v, fatal, err := r.recv(ctx)
			if fatal {
				if err != io.EOF {
					yield(v, err)
				}
				return
			}
			if !yield(v, err) {
				return
			}
		}
	}
}

func (r *Receiver[T]) recv(ctx context.Context) (v T, fatal bool, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ackPendingLocked()
	data, seq, fatal, err := r.nextFrame(ctx)
	if err != nil {
		return v, fatal, err
	}
	return r.decode(data, seq)
}

// decode decodes one frame; a failure concerns this message only.
func (r *Receiver[T]) decode(data []byte, seq uint64) (T, bool, error) {
	if r.owned != nil {
		v, err := r.owned(data)
		return v, false, err
	}
	v, err := r.dec.Decode(data)
	if err != nil {
		var zero T
		return zero, false, fmt.Errorf("natsx: message %d: %w", seq, err)
	}
	return v, false, nil
}

// ownedDecode returns, for the codec.RawCopy decoder, a decode function
// that hands out the frame itself instead of a copy, and nil for every
// other decoder. The copy is redundant here: nats.go gives every message
// a payload of its own that nothing else writes, and a frame of a batch
// message is a disjoint slice of it whose capacity ends where the frame
// ends (splitBatch), so an append by the user never reaches another
// frame. The returned function has type func([]byte) (T, error) only
// when T is []byte, which the assertion checks.
func ownedDecode[T any](dec codec.Decoder[T]) func([]byte) (T, error) {
	if !codec.IsRaw(dec) { // of the raw codec, only RawCopy is a Decoder
		return nil
	}
	f, _ := any(func(b []byte) ([]byte, error) { return b[:len(b):len(b)], nil }).(func([]byte) (T, error))
	return f
}

// nextFrame returns the next frame in order, acknowledging each message
// as its (last) frame is handed out. fatal tells whether err ends the
// stream.
func (r *Receiver[T]) nextFrame(ctx context.Context) (data []byte, seq uint64, fatal bool, err error) {
	for {
		if r.closed.Load() {
			return nil, 0, true, core.ErrClosed
		}
		if r.eof {
			return nil, 0, true, io.EOF
		}
		if r.mismatch != nil {
			return nil, 0, true, r.mismatch
		}
		if len(r.frames) > 0 {
			f := r.frames[0]
			r.frames = r.frames[1:]
			if len(r.frames) == 0 && r.batchAck != nil {
				r.settle(inMsg{ack: r.batchAck})
				r.batchAck = nil
			}
			return f, r.batchSeq, false, nil
		}
		m, err := r.nextMsg(ctx)
		if err != nil {
			return nil, 0, !errors.Is(err, ErrDropped), err
		}
		if m.hdr != nil {
			if id := m.hdr.Get(hdrHello); id != "" {
				r.settle(m)
				r.learn(id)
				continue
			}
			if id := m.hdr.Get(hdrEOS); id != "" {
				r.settle(m)
				if !r.competing && r.ended(id) {
					r.eof = true
					return nil, 0, true, io.EOF
				}
				continue
			}
		}
		if m.reply == "" || m.reply != r.lastReply {
			// Consecutive messages mostly come from one sender: parse and
			// look up its id only when the reply subject changes.
			r.learn(r.senderOf(m))
			r.lastReply = m.reply
		}
		if err := r.check(ctx, m); err != nil {
			// The message stays unacknowledged: a receiver with the right
			// codec gets it after this one closes.
			r.pushFront(m)
			return nil, 0, true, err
		}
		if n := m.hdr.Get(hdrBatch); n != "" {
			frames, err := splitBatch(m.data, n)
			if err != nil {
				r.settle(m)
				return nil, m.seq, false, fmt.Errorf("natsx: message %d: %w", m.seq, err)
			}
			r.frames, r.batchAck, r.batchSeq = frames, m.ack, m.seq
			if len(frames) == 0 {
				r.settle(m)
				r.batchAck = nil
			}
			continue
		}
		r.settle(m)
		return m.data, m.seq, false, nil
	}
}

// senderOf returns the id of the sender of a data message, or "".
func (r *Receiver[T]) senderOf(m inMsg) string {
	if r.mode == Core {
		id, _, ok := coreReply(m.reply)
		if !ok {
			return ""
		}
		return id
	}
	id, _, _ := strings.Cut(m.hdr.Get(hdrMsgID), "-")
	return id
}

// coreReply splits the reply subject of a core-mode message into the
// sender id and the codec name; ok is false for a reply of another kind.
func coreReply(reply string) (id, codecName string, ok bool) {
	rest, ok := strings.CutPrefix(reply, replyCodec)
	if !ok {
		if rest, ok = strings.CutPrefix(reply, replyCodecV1); !ok {
			return "", "", false
		}
	}
	id, codecName, _ = strings.Cut(rest, ".")
	return id, codecName, true
}

// learn records sender id as open, unless it is known already.
func (r *Receiver[T]) learn(id string) {
	if id == "" {
		return
	}
	if _, ok := r.senders[id]; ok {
		return
	}
	if r.senders == nil {
		r.senders = make(map[string]bool)
	}
	r.senders[id] = true
	r.open++
}

// ended records the end-of-stream message of sender id and reports
// whether the stream ends: no sender known to this receiver is open. The
// legacy anonymous value "1" ends it at once.
func (r *Receiver[T]) ended(id string) bool {
	if id == "1" {
		return true
	}
	if r.senders == nil {
		r.senders = make(map[string]bool)
	}
	if open, ok := r.senders[id]; ok && open {
		r.open--
	}
	r.senders[id] = false
	return r.open == 0
}

func (r *Receiver[T]) ackPending() {
	r.mu.Lock()
	r.ackPendingLocked()
	r.mu.Unlock()
}

func (r *Receiver[T]) ackPendingLocked() {
	if r.pendingAck != nil {
		r.pendingAck()
		r.pendingAck = nil
	}
}

// settle acknowledges m now, or at the next receive with deferAck.
func (r *Receiver[T]) settle(m inMsg) {
	if m.ack == nil {
		return
	}
	if r.deferAck {
		r.ackPendingLocked()
		r.pendingAck = m.ack
		return
	}
	m.ack()
}

func (r *Receiver[T]) pushFront(m inMsg) {
	r.queue = append([]inMsg{m}, r.queue...)
	if r.mode == JetStream && m.seq > 0 {
		r.last = m.seq - 1
	}
}

// check compares the sender's codec with the decoder's, once: the stream
// metadata in JetStream mode (the sender declares it before its first
// message), the message's reply subject in core mode. A mismatch is sticky.
func (r *Receiver[T]) check(ctx context.Context, m inMsg) error {
	if r.noCheck || r.checked {
		return nil
	}
	var err error
	if r.mode == Core {
		_, got, _ := coreReply(m.reply)
		if got != r.dec.Name() {
			err = &codec.MismatchError{Want: r.dec.Name(), Got: got}
		}
	} else {
		md, merr := streamMetadata(ctx, r.nc, r.st)
		if merr != nil {
			return merr
		}
		if err = codec.CheckMetadata(md, r.dec.Name()); err == nil {
			_, r.userMD, _ = codec.ParseMetadata(md)
		}
	}
	if err != nil {
		r.mismatch = err
		return err
	}
	r.checked = true
	return nil
}

// nextMsg returns the next message of the channel.
func (r *Receiver[T]) nextMsg(ctx context.Context) (inMsg, error) {
	if len(r.queue) > 0 {
		m := r.queue[0]
		r.queue = r.queue[1:]
		if m.seq > r.last {
			r.last = m.seq
		}
		return m, nil
	}
	if r.mode == Core {
		var m *nats.Msg
		select {
		case m = <-r.ch2:
		default:
			select {
			case m = <-r.ch2:
			case <-ctx.Done():
				return inMsg{}, ctx.Err()
			case <-r.done:
				return inMsg{}, core.ErrClosed
			}
		}
		if d, err := r.sub.Dropped(); err == nil && d > r.dropped {
			// Report the loss before the message after the gap.
			r.dropped = d
			r.queue = append(r.queue, inMsg{data: m.Data, hdr: m.Header, reply: m.Reply, seq: r.count + 1})
			r.count++
			return inMsg{}, fmt.Errorf("natsx: %d messages dropped in all: %w: %w", d, ErrDropped, nats.ErrSlowConsumer)
		}
		r.count++
		return inMsg{data: m.Data, hdr: m.Header, reply: m.Reply, seq: r.count}, nil
	}
	return r.nextJS(ctx)
}

// nextJS returns the next message of the stream in sequence order. The
// stream of a channel has one subject and work-queue retention, so its
// sequence numbers are consecutive: a message redelivered after it was
// handed out (its acknowledgement was lost) has a sequence at most r.last
// and is acknowledged and dropped; a message that overtook one lost in
// transit (which the server redelivers only after AckWait) reveals a gap,
// filled by reading the missing messages from the stream directly. Their
// redelivery later is dropped as above. So each message is handed out
// once, in order, while this Receiver lives.
func (r *Receiver[T]) nextJS(ctx context.Context) (inMsg, error) {
	if r.removed != nil {
		return inMsg{}, r.removed
	}
	for {
		jm := r.held
		r.held = nil
		if jm == nil {
			var err error
			jm, err = r.it.Next(jetstream.NextContext(ctx))
			if err != nil {
				switch {
				case ctx.Err() != nil:
					return inMsg{}, ctx.Err()
				case r.closed.Load(), errors.Is(err, jetstream.ErrMsgIteratorClosed):
					return inMsg{}, fmt.Errorf("natsx: %w: %w", core.ErrClosed, err)
				}
				if err := r.reclaim(ctx, err); err != nil {
					return inMsg{}, err
				}
				continue
			}
		}
		md, err := jm.Metadata()
		if err != nil {
			jm.Term() // not a consumer delivery; cannot be placed in order
			continue
		}
		s := md.Sequence.Stream
		if r.competing {
			// Other receivers take the gaps: no order, no gap filling.
			msg := jm
			return inMsg{data: jm.Data(), hdr: jm.Headers(), seq: s, ack: func() { msg.Ack() }}, nil
		}
		if s <= r.last {
			jm.Ack()
			continue
		}
		for q := r.last + 1; q < s; q++ {
			raw, err := r.st.GetMsg(ctx, q)
			if errors.Is(err, jetstream.ErrMsgNotFound) {
				continue // acknowledged and removed before this receiver
			}
			if err != nil {
				r.held = jm
				r.queue = r.queue[:0]
				return inMsg{}, fmt.Errorf("natsx: read message %d: %w", q, err)
			}
			r.queue = append(r.queue, inMsg{data: raw.Data, hdr: raw.Header, seq: q})
		}
		msg := jm
		r.queue = append(r.queue, inMsg{data: jm.Data(), hdr: jm.Headers(), seq: s, ack: func() {
			msg.Ack()
			r.acked = s
		}})
		m := r.queue[0]
		r.queue = r.queue[1:]
		r.last = m.seq
		return m, nil
	}
}

// Metadata returns the user part of the metadata the sender declared (the
// bytes after the codec header, see WithMetadata), known after the first
// message; nil in core mode.
func (r *Receiver[T]) Metadata() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.userMD
}

// C returns a channel that delivers the messages, as typed.Receiver.C
// does: the first call starts a goroutine that receives until the stream
// ends, ctx is done or the Receiver is closed, then closes the channel;
// [Receiver.Err] tells why.
func (r *Receiver[T]) C(ctx context.Context) <-chan T {
	r.chOnce.Do(func() {
		r.ch = make(chan T)
		r.wg.Add(1)
		go r.pump(ctx)
	})
	return r.ch
}

func (r *Receiver[T]) pump(ctx context.Context) {
	defer r.wg.Done()
	defer close(r.ch)
	for {
		v, fatal, err := r.recv(ctx)
		if err != nil && fatal {
			r.setErr(err)
			return
		}
		if err != nil {
			continue // a bad message; the stream goes on
		}
		select {
		case r.ch <- v:
		case <-ctx.Done():
			r.setErr(ctx.Err())
			return
		case <-r.done:
			r.setErr(core.ErrClosed)
			return
		}
	}
}

func (r *Receiver[T]) setErr(err error) {
	r.errMu.Lock()
	r.err = err
	r.errMu.Unlock()
}

// Err returns why the channel of [Receiver.C] was closed: nil after a
// clean end of stream or while it is open, otherwise the error.
func (r *Receiver[T]) Err() error {
	r.errMu.Lock()
	defer r.errMu.Unlock()
	if r.err == io.EOF {
		return nil
	}
	return r.err
}

// Close stops receiving: blocked receives return core.ErrClosed; the
// goroutine of [Receiver.C] ends. Messages taken from the server and not
// handed out are not acknowledged, so the next receiver of the channel
// gets them. In JetStream mode Close deletes the Receiver's consumer
// (after the server counted its acknowledgements, waiting up to 3s), so
// that the next [Listen] of the channel succeeds. The stream is kept.
// Close is idempotent.
func (r *Receiver[T]) Close() error {
	var err error
	r.once.Do(func() {
		r.closed.Store(true)
		if r.it != nil {
			r.it.Stop()
			r.mu.Lock() // no receive runs, so r.acked is final
			r.release()
			r.mu.Unlock()
		}
		if r.sub != nil {
			if uerr := r.sub.Unsubscribe(); uerr != nil && !errors.Is(uerr, nats.ErrConnectionClosed) {
				err = fmt.Errorf("natsx: unsubscribe: %w", uerr)
			}
		}
		close(r.done)
	})
	r.wg.Wait()
	return err
}
