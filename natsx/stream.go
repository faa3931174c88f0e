package natsx

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
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
	// core-mode message carries in its reply subject: core NATS has no
	// stream to hold the metadata, and the reply field costs no header
	// encoding or parsing. Both client and server parse the reply byte by
	// byte on every message, so it is kept short (a 12-character id,
	// see newCoreID). Nobody replies to channel messages.
	replyCodec = "_ZB."
	// replyCodecV1 is the longer prefix of earlier versions, still
	// understood on receive.
	replyCodecV1 = "_ZB_CODEC."
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
	// metaKey is the stream configuration metadata key where earlier
	// versions of this package stored the buffer metadata (codec header
	// and user bytes, standard base64); it is still read, never written
	// (see metaBucket).
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
// does not exist. Requests that get no answer (the server is restarting,
// the connection is reconnecting, JetStream is not ready yet) are retried
// until ctx ends, so a Dial or Listen made while the server restarts
// connects once it is back.
func ensureStream(ctx context.Context, js jetstream.JetStream, subject string, o options) (jetstream.Stream, error) {
	name := streamName(subject)
	var st jetstream.Stream
	err := metaAttempt(ctx, func(ctx context.Context) (err error) {
		st, err = js.Stream(ctx, name)
		return err
	})
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
	err = metaAttempt(ctx, func(ctx context.Context) (err error) {
		st, err = js.CreateStream(ctx, cfg)
		if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			// Created by the other side meanwhile, or by an earlier
			// attempt of ours whose answer was lost.
			st, err = js.Stream(ctx, name)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("natsx: create stream %s: %w", name, err)
	}
	return st, nil
}

// The buffer metadata of a JetStream channel lives in a key-value bucket
// (key: the stream name), never in the stream's configuration: updating a
// stream's configuration while a receiver creates its consumer races
// inside nats-server (UpdateConfig against ConsumerStore on the same file
// store), and a channel's configuration is therefore never changed after
// creation. The bucket has the stream's storage and replica count, so the
// metadata survives whatever the stream survives: file storage with one
// replica uses metaBucket, other combinations a bucket of their own (see
// metaBucketName).
//
// A value is the creation time of the stream it belongs to (u64
// big-endian Unix nanoseconds) followed by the metadata. A value whose
// time is not the stream's was left by an earlier stream of the same name
// that was deleted without [Remove]; it counts as absent and is replaced
// (compare-and-swap on its revision), so a new channel never inherits an
// old channel's codec.
const (
	metaBucket    = "ZB_META"
	metaStampSize = 8
	// metaCASTries bounds the compare-and-swap rounds of declareMetadata;
	// each lost round means another declaration was stored meanwhile, which
	// the next round reads.
	metaCASTries = 4
)

// metaBucketName returns the bucket holding the metadata of a stream with
// cfg's storage and replica count.
func metaBucketName(cfg jetstream.StreamConfig) string {
	r := max(cfg.Replicas, 1)
	switch {
	case cfg.Storage == jetstream.FileStorage && r == 1:
		return metaBucket
	case cfg.Storage == jetstream.FileStorage:
		return metaBucket + "_R" + strconv.Itoa(r)
	default:
		return metaBucket + "_MEM_R" + strconv.Itoa(r)
	}
}

// streamStamp returns the creation time of st as stored in a metadata
// value.
func streamStamp(st jetstream.Stream) uint64 {
	return uint64(st.CachedInfo().Created.UnixNano())
}

// metaStore returns the metadata bucket of st, creating it when create is
// set; without create, a missing bucket is (nil, nil).
func metaStore(ctx context.Context, js jetstream.JetStream, st jetstream.Stream, create bool) (jetstream.KeyValue, error) {
	cfg := st.CachedInfo().Config
	name := metaBucketName(cfg)
	var kv jetstream.KeyValue
	err := metaAttempt(ctx, func(ctx context.Context) (err error) {
		kv, err = js.KeyValue(ctx, name)
		return err
	})
	if err == nil {
		return kv, nil
	}
	if !errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil, fmt.Errorf("natsx: metadata bucket %s: %w", name, err)
	}
	if !create {
		return nil, nil
	}
	err = metaAttempt(ctx, func(ctx context.Context) (err error) {
		kv, err = js.CreateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket:      name,
			Description: "zerobuffer natsx channel metadata, key = stream name",
			History:     1,
			Storage:     cfg.Storage,
			Replicas:    max(cfg.Replicas, 1),
		})
		if errors.Is(err, jetstream.ErrBucketExists) {
			kv, err = js.KeyValue(ctx, name) // created by another process meanwhile
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("natsx: create metadata bucket %s: %w", name, err)
	}
	return kv, nil
}

// msgGetResponse is the server's answer to a stream message get.
type msgGetResponse struct {
	Message *struct {
		Seq  uint64 `json:"seq"`
		Hdrs []byte `json:"hdrs"`
		Data []byte `json:"data"`
	} `json:"message"`
	Error *struct {
		Code        int    `json:"code"`
		ErrCode     int    `json:"err_code"`
		Description string `json:"description"`
	} `json:"error"`
}

// The JetStream API of a leader-answered message get: its subject, the
// error codes of a missing stream (bucket) or message (key), and what a
// key-value bucket's names and delete markers look like.
const (
	jsErrStreamNotFound  = 10059
	jsErrNoMessageFound  = 10037
	kvOperationHeader    = "KV-Operation"
	jsAPIMsgGetPrefix    = "$JS.API.STREAM.MSG.GET."
	kvSubjectPrefix      = "$KV."
	kvBucketStreamPrefix = "KV_"
)

// metaEntry reads st's metadata from its bucket: the metadata (nil if
// none), the key's revision (0 if the bucket or key is absent or the key
// deleted) and whether the value belongs to st (false for an earlier
// stream's leftover). It asks the bucket stream's leader (a message get,
// not the key-value "direct get" that any replica may answer with a value
// it has not caught up on), so it sees every declaration stored before
// it was called, from any replica count.
func metaEntry(ctx context.Context, nc *nats.Conn, st jetstream.Stream) (md []byte, rev uint64, ours bool, err error) {
	cfg := st.CachedInfo().Config
	bucket := metaBucketName(cfg)
	req, err := json.Marshal(map[string]string{"last_by_subj": kvSubjectPrefix + bucket + "." + cfg.Name})
	if err != nil {
		return nil, 0, false, fmt.Errorf("natsx: metadata of %s: %w", cfg.Name, err)
	}
	var m *nats.Msg
	err = metaAttempt(ctx, func(ctx context.Context) (err error) {
		m, err = nc.RequestWithContext(ctx, jsAPIMsgGetPrefix+kvBucketStreamPrefix+bucket, req)
		return err
	})
	if err != nil {
		return nil, 0, false, fmt.Errorf("natsx: metadata of %s: %w", cfg.Name, err)
	}
	var resp msgGetResponse
	if err := json.Unmarshal(m.Data, &resp); err != nil {
		return nil, 0, false, fmt.Errorf("%w: metadata of %s: %w", ErrBadMessage, cfg.Name, err)
	}
	switch {
	case resp.Error != nil && (resp.Error.ErrCode == jsErrStreamNotFound || resp.Error.ErrCode == jsErrNoMessageFound):
		return nil, 0, false, nil
	case resp.Error != nil:
		return nil, 0, false, fmt.Errorf("natsx: metadata of %s: server error %d: %s", cfg.Name, resp.Error.ErrCode, resp.Error.Description)
	case resp.Message == nil || resp.Message.Seq == 0:
		return nil, 0, false, fmt.Errorf("%w: metadata of %s: no message in the answer", ErrBadMessage, cfg.Name)
	}
	if len(resp.Message.Hdrs) > 0 {
		h, err := nats.DecodeHeadersMsg(resp.Message.Hdrs)
		if err != nil {
			return nil, 0, false, fmt.Errorf("%w: metadata of %s: %w", ErrBadMessage, cfg.Name, err)
		}
		if h.Get(kvOperationHeader) != "" { // DEL or PURGE marker
			return nil, 0, false, nil
		}
	}
	v := resp.Message.Data
	if len(v) < metaStampSize {
		return nil, 0, false, fmt.Errorf("%w: metadata of %s: %d-byte value", ErrBadMessage, cfg.Name, len(v))
	}
	if binary.BigEndian.Uint64(v) != streamStamp(st) {
		return nil, resp.Message.Seq, false, nil
	}
	return v[metaStampSize:], resp.Message.Seq, true, nil
}

// legacyMetadata returns the metadata that an earlier version of this
// package stored in st's configuration, or nil.
func legacyMetadata(st jetstream.Stream) ([]byte, error) {
	v, ok := st.CachedInfo().Config.Metadata[metaKey]
	if !ok {
		return nil, nil
	}
	md, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return nil, fmt.Errorf("%w: stream metadata: %w", ErrBadMessage, err)
	}
	return md, nil
}

// streamMetadata returns the buffer metadata declared for st's channel,
// or nil. It asks the server, so it sees a sender's declaration made after
// the stream handle was obtained.
func streamMetadata(ctx context.Context, nc *nats.Conn, st jetstream.Stream) ([]byte, error) {
	md, _, ours, err := metaEntry(ctx, nc, st)
	if err != nil || ours {
		return md, err
	}
	return legacyMetadata(st)
}

// declareMetadata stores md as the metadata of st's channel unless one is
// declared already (write-once, like a buffer's), and returns what is
// declared afterwards. It never changes the stream's configuration.
func declareMetadata(ctx context.Context, nc *nats.Conn, js jetstream.JetStream, st jetstream.Stream, md []byte) ([]byte, error) {
	if have, err := legacyMetadata(st); have != nil || err != nil {
		return have, err
	}
	kv, err := metaStore(ctx, js, st, true)
	if err != nil {
		return nil, err
	}
	name := st.CachedInfo().Config.Name
	v := binary.BigEndian.AppendUint64(make([]byte, 0, metaStampSize+len(md)), streamStamp(st))
	v = append(v, md...)
	for range metaCASTries {
		have, rev, ours, err := metaEntry(ctx, nc, st)
		if err != nil || ours {
			return have, err
		}
		// A write whose answer was lost and that is retried fails with
		// ErrKeyExists; the next round then reads it as ours.
		err = metaAttempt(ctx, func(ctx context.Context) (err error) {
			if rev == 0 {
				_, err = kv.Create(ctx, name, v)
			} else {
				_, err = kv.Update(ctx, name, v, rev) // an earlier stream's leftover
			}
			return err
		})
		if err == nil {
			return md, nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) && !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			return nil, fmt.Errorf("natsx: declare metadata of %s: %w", name, err)
		}
		// Another sender declared first: read its declaration.
	}
	return nil, fmt.Errorf("natsx: declare metadata of %s: %d conflicting writes", name, metaCASTries)
}

// forgetMetadata deletes the metadata of st's channel.
func forgetMetadata(ctx context.Context, js jetstream.JetStream, st jetstream.Stream) error {
	kv, err := metaStore(ctx, js, st, false)
	if err != nil || kv == nil {
		return err
	}
	name := st.CachedInfo().Config.Name
	err = metaAttempt(ctx, func(ctx context.Context) error { return kv.Delete(ctx, name) })
	if err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("natsx: delete metadata of %s: %w", name, err)
	}
	return nil
}

// metaAttempt runs op in attempts of at most attemptTimeout each until it
// succeeds, fails for a reason a retry cannot change, or ctx ends: a
// JetStream API request sent while the group that answers it (the bucket's
// stream, the cluster's meta group) elects a leader gets no answer, and a
// later attempt reaches the new leader.
func metaAttempt(ctx context.Context, op func(context.Context) error) error {
	backoff := 50 * time.Millisecond
	for {
		actx, cancel := context.WithTimeout(ctx, attemptTimeout)
		err := op(actx)
		cancel()
		if err == nil || ctx.Err() != nil || !unanswered(err) {
			return err
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		backoff = min(2*backoff, time.Second)
	}
}

// unanswered reports whether a JetStream API request got no answer or a
// "try again" one: it timed out, nobody listened, or the cluster said it
// is unavailable (HTTP-like code 503).
func unanswered(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) ||
		errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrNoStreamResponse) ||
		errors.Is(err, nats.ErrConnectionReconnecting) || errors.Is(err, nats.ErrDisconnected) {
		return true
	}
	var ae *jetstream.APIError
	return errors.As(err, &ae) && ae.Code == 503
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
	var prev error         // the previous attempt's answer
	var lastLook time.Time // when publish last asked whether the stream exists
	for {
		actx, cancel := context.WithTimeout(ctx, attemptTimeout)
		_, err := p.js.PublishMsg(actx, m, jetstream.WithMsgID(id))
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			// An attempt cut short by ctx says nothing of the channel:
			// report the previous answer (ErrFull if the channel was full).
			if prev != nil && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)) {
				err = prev
			}
			if isFull(err) {
				return fmt.Errorf("natsx: send: %w: %w", ErrFull, ctx.Err())
			}
			return fmt.Errorf("natsx: send: %w (last error: %w)", ctx.Err(), err)
		}
		if !retryable(err) {
			return fmt.Errorf("natsx: send: %w", err)
		}
		if noResponders(err) && time.Since(lastLook) >= streamLookGap {
			// Nobody stores the subject: the server is restarting, or
			// the channel was removed. Only the second is final.
			lastLook = time.Now()
			if p.removed(ctx) {
				return fmt.Errorf("natsx: send: %w (%w)", ErrRemoved, err)
			}
		}
		prev = err
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

// streamLookGap spaces out publish's questions whether its stream still
// exists, asked while publishes find no responder.
const streamLookGap = 250 * time.Millisecond

// noResponders reports whether a publish found nobody storing its subject.
func noResponders(err error) bool {
	return errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrNoStreamResponse)
}

// removed reports whether the server says that p's stream does not exist.
// Any other answer, or none (a server that is restarting), is false.
func (p *publisher) removed(ctx context.Context) bool {
	actx, cancel := context.WithTimeout(ctx, attemptTimeout)
	defer cancel()
	_, err := p.js.Stream(actx, streamName(p.subject))
	return errors.Is(err, jetstream.ErrStreamNotFound)
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
