package natsx

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"github.com/zerobuffer/zerobuffer-go/core"
)

// Header names of this package's messages.
const (
	// hdrCodec carries the codec name of a request or response.
	hdrCodec = "Zb-Codec"
	// replyCodec prefixes the sender id, a '.' and the codec name that a
	// core-mode message carries in its reply subject: core NATS has no stream to hold the metadata,
	// and the reply field costs no header encoding or parsing, so a
	// message costs what a plain publish of its bytes costs. Nobody
	// replies to channel messages.
	replyCodec = "_ZB_CODEC."
	// hdrEOS marks the end-of-stream message a sender's Close publishes;
	// its value is the sender's id (legacy value "1": anonymous, ends the
	// stream at once).
	hdrEOS = "Zb-Eos"
	// hdrHello marks the message a sender publishes at Dial to announce
	// itself; its value is the sender's id. A receiver ends the stream
	// (io.EOF) when every sender it knows of has sent its end-of-stream
	// message (docs: package doc, "Several senders").
	hdrHello = "Zb-Hello"
	// hdrMsgID is the JetStream message id header; its value starts with
	// the sender's id and '-'.
	hdrMsgID = "Nats-Msg-Id"
	// hdrBatch marks a message holding several frames, each a u32
	// little-endian length followed by its bytes (the bridge batches the
	// frames it finds ready in the ring).
	hdrBatch = "Zb-Batch"
	// metaKey is the stream metadata key holding the buffer metadata
	// (codec header and user bytes), standard base64.
	metaKey = "zerobuffer-metadata"
)

// sharedConsumer is the consumer of a channel's competing receivers.
const sharedConsumer = "zerobuffer-shared"

// Server error codes of a second consumer on a work-queue stream's
// subject: how the server refuses a second receiver of a channel.
const (
	jsErrWQNotUnique          jetstream.ErrorCode = 10100
	jsErrWQMultipleUnfiltered jetstream.ErrorCode = 10099
)

// releaseTimeout bounds how long Receiver.Close waits for the server to
// count its last acknowledgement and delete its consumer.
const releaseTimeout = 3 * time.Second

// attemptTimeout bounds one publish attempt; the caller's ctx bounds all.
const attemptTimeout = 2 * time.Second

// ensureStream returns the stream of subject, creating it with o if it
// does not exist. An existing stream keeps its configuration.
func ensureStream(ctx context.Context, js jetstream.JetStream, subject string, o options) (jetstream.Stream, error) {
	name := streamName(subject)
	st, err := js.Stream(ctx, name)
	if err == nil {
		return st, nil
	}
	if !errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, fmt.Errorf("natsx: stream %s: %w", name, err)
	}
	cfg := jetstream.StreamConfig{
		Name:       name,
		Subjects:   []string{subject},
		Retention:  jetstream.WorkQueuePolicy,
		Discard:    jetstream.DiscardNew,
		MaxMsgs:    int64(o.maxPending),
		MaxBytes:   o.maxBytes,
		Storage:    jetstream.FileStorage,
		Replicas:   o.replicas,
		Duplicates: 2 * time.Minute,
	}
	if o.memory {
		cfg.Storage = jetstream.MemoryStorage
	}
	st, err = js.CreateStream(ctx, cfg)
	if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		st, err = js.Stream(ctx, name) // created by the other side meanwhile
	}
	if err != nil {
		return nil, fmt.Errorf("natsx: create stream %s: %w", name, err)
	}
	return st, nil
}

// streamMetadata returns the buffer metadata stored in the stream, or nil.
// It asks the server, so it sees a sender's declaration made after the
// stream handle was obtained.
func streamMetadata(ctx context.Context, st jetstream.Stream) ([]byte, error) {
	info, err := st.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("natsx: stream info: %w", err)
	}
	v, ok := info.Config.Metadata[metaKey]
	if !ok {
		return nil, nil
	}
	md, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return nil, fmt.Errorf("%w: stream metadata: %w", ErrBadMessage, err)
	}
	return md, nil
}

// declareMetadata stores md in the stream unless it already holds
// metadata (write-once, like a buffer's), and returns what the stream
// holds afterwards.
func declareMetadata(ctx context.Context, js jetstream.JetStream, st jetstream.Stream, md []byte) ([]byte, error) {
	info, err := st.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("natsx: stream info: %w", err)
	}
	if v, ok := info.Config.Metadata[metaKey]; ok {
		have, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			return nil, fmt.Errorf("%w: stream metadata: %w", ErrBadMessage, err)
		}
		return have, nil
	}
	cfg := info.Config
	m := make(map[string]string, len(cfg.Metadata)+1)
	for k, v := range cfg.Metadata {
		m[k] = v
	}
	m[metaKey] = base64.StdEncoding.EncodeToString(md)
	cfg.Metadata = m
	if _, err := js.UpdateStream(ctx, cfg); err != nil {
		return nil, fmt.Errorf("natsx: declare metadata: %w", err)
	}
	return md, nil
}

// publisher publishes to a JetStream subject with a message id per
// message, retrying while the channel is full or the server unreachable;
// the id lets the server drop the copies a retry creates.
type publisher struct {
	js       jetstream.JetStream
	nc       *nats.Conn
	subject  string
	id       string // the sender's id: a nuid, no '-' or '.'
	prefix   string // id + "-"
	seq      atomic.Uint64
	retryMax time.Duration
}

func newPublisher(nc *nats.Conn, js jetstream.JetStream, subject string, o options) *publisher {
	id := nuid.Next()
	return &publisher{js: js, nc: nc, subject: subject, id: id, prefix: id + "-", retryMax: o.retryMax}
}

// nextID returns a message id unique to this publisher.
func (p *publisher) nextID() string {
	return p.prefix + strconv.FormatUint(p.seq.Add(1), 10)
}

// publish stores one message and returns when the server acknowledged it.
// While the stream is full or the server cannot answer, it retries with
// the same id until ctx ends.
func (p *publisher) publish(ctx context.Context, m *nats.Msg, id string) error {
	if mp := p.nc.MaxPayload(); mp > 0 && int64(len(m.Data)+headerLen(m.Header)) > mp {
		return fmt.Errorf("natsx: %d-byte message, server max_payload %d: %w", len(m.Data), mp, core.ErrFrameTooLarge)
	}
	backoff := time.Millisecond
	for {
		actx, cancel := context.WithTimeout(ctx, attemptTimeout)
		_, err := p.js.PublishMsg(actx, m, jetstream.WithMsgID(id))
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			if isFull(err) {
				return fmt.Errorf("natsx: send: %w: %w", ErrFull, ctx.Err())
			}
			return fmt.Errorf("natsx: send: %w (last error: %w)", ctx.Err(), err)
		}
		if !retryable(err) {
			return fmt.Errorf("natsx: send: %w", err)
		}
		t := time.NewTimer(backoff/2 + rand.N(backoff/2+1))
		select {
		case <-ctx.Done():
			t.Stop()
			if isFull(err) {
				return fmt.Errorf("natsx: send: %w: %w", ErrFull, ctx.Err())
			}
			return fmt.Errorf("natsx: send: %w (last error: %w)", ctx.Err(), err)
		case <-t.C:
		}
		backoff = min(2*backoff, p.retryMax)
	}
}

func headerLen(h nats.Header) int {
	n := 0
	for k, vs := range h {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	if n > 0 {
		n += 12 // "NATS/1.0\r\n" and the closing "\r\n"
	}
	return n
}

// isFull reports whether the server refused a message because the stream
// holds its bound (discard-new policy).
func isFull(err error) bool {
	var ae *jetstream.APIError
	if errors.As(err, &ae) {
		d := ae.Description
		return strings.Contains(d, "maximum messages exceeded") || strings.Contains(d, "maximum bytes exceeded")
	}
	return false
}

// retryable reports whether a publish may succeed if tried again: the
// stream is full, the server or cluster is (re)starting, the connection
// is reconnecting, or the attempt timed out. Errors that a retry cannot
// change are not: a closed connection, a payload over the limit, a
// missing stream, a malformed request.
func retryable(err error) bool {
	switch {
	case errors.Is(err, nats.ErrConnectionClosed), errors.Is(err, nats.ErrMaxPayload),
		errors.Is(err, nats.ErrBadSubject), errors.Is(err, jetstream.ErrStreamNotFound):
		return false
	}
	var ae *jetstream.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode {
		case jetstream.JSErrCodeStreamNotFound, jetstream.JSErrCodeBadRequest,
			jetstream.JSErrCodeStreamMessageExceedsMaximum:
			return false
		}
	}
	return true
}
