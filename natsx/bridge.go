package natsx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/zerobuffer/zerobuffer-go/codec"
	"github.com/zerobuffer/zerobuffer-go/core"
)

// Bridge limits: a batch message holds the frames found ready in the ring
// at once, up to these bounds (and the server's max_payload).
const (
	bridgeBatchFrames = 1024
	bridgeBatchBytes  = 64 << 10
)

// bridgeMetadataSize is the least metadata room of a bridged buffer, so
// that a typed sender's codec header and some user bytes fit.
const bridgeMetadataSize = 1024

var errBatchFull = errors.New("batch full")

// BridgeToNATS forwards the shared-memory buffer name to the JetStream
// channel subject until ctx ends. The bridge is the buffer's reader: it
// creates the buffer with cfg (see core.NewReader; MetadataSize is raised
// to at least 1024 bytes) and a local producer —
// a Go typed.Sender or a C++, C# or Python ZeroBuffer writer — writes to
// it unchanged. A natsx.Receiver (or a BridgeFromNATS on another host)
// receives the frames as messages.
//
//   - Order: each NATS message is stored (acknowledged by the server)
//     before the next one is published, so the stream holds the frames in
//     ring order. Frames ready in the ring at once travel in one message
//     (a batch, split again by the receiver); a lone frame travels alone.
//   - Metadata crosses once: the buffer's metadata is stored as the
//     channel's metadata before the first frame is published.
//   - A NATS server restart: publishes are retried, with the same message
//     id, until the server stores them; the server's duplicate window
//     drops the copies of a retry. While it retries the bridge reads
//     nothing more, so the ring fills and the local writer blocks.
//   - A local producer restart: when the writer closes (io.EOF) the bridge
//     forwards the end of stream; when it dies the bridge forwards
//     nothing; either way it then waits for the next writer and goes on.
//
// It returns the ctx error after ctx ends, or the first error it cannot
// retry (a frame above the server's max_payload, a closed connection).
func BridgeToNATS(ctx context.Context, name string, cfg core.BufferConfig, nc *nats.Conn, subject string, opts ...Option) error {
	if err := validSubject(subject); err != nil {
		return err
	}
	o := buildOptions(opts)
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("natsx: %w", err)
	}
	st, err := ensureStream(ctx, js, subject, o)
	if err != nil {
		return err
	}
	cfg.MetadataSize = max(cfg.MetadataSize, bridgeMetadataSize)
	r, err := core.NewReader(name, cfg)
	if err != nil {
		return fmt.Errorf("natsx: bridge: %w", err)
	}
	defer r.Close()
	b := &toNATS{r: r, js: js, st: st, pub: newPublisher(nc, js, subject, o), subject: subject}
	return b.run(ctx)
}

type toNATS struct {
	r       *core.Reader
	js      jetstream.JetStream
	st      jetstream.Stream
	pub     *publisher
	subject string
	metaOK  bool
	arena   []byte
	frames  [][]byte
}

func (b *toNATS) run(ctx context.Context) error {
	for gen := 1; ; gen++ {
		if err := b.r.WaitWriter(ctx); err != nil {
			return fmt.Errorf("natsx: bridge: %w", err)
		}
		slog.Debug("natsx: bridge: writer connected", "buffer", b.subject, "generation", gen)
		// Announce the bridge as a sender of the channel (see hdrHello).
		hello := &nats.Msg{Subject: b.subject, Header: nats.Header{hdrHello: []string{b.pub.id}}}
		if err := b.pub.publish(ctx, hello, b.pub.prefix+strconv.Itoa(gen)+"-hello"); err != nil {
			return err
		}
		for {
			b.arena, b.frames = b.arena[:0], b.frames[:0]
			var first uint64
			_, err := b.r.ReadBatch(ctx, bridgeBatchFrames, func(data []byte, seq uint64) error {
				if len(b.frames) == 0 {
					first = seq
				}
				start := len(b.arena)
				b.arena = append(b.arena, data...)
				b.frames = append(b.frames, b.arena[start:len(b.arena):len(b.arena)])
				if len(b.arena) >= bridgeBatchBytes {
					return errBatchFull
				}
				return nil
			})
			if errors.Is(err, errBatchFull) {
				err = nil
			}
			if len(b.frames) > 0 {
				if perr := b.forward(ctx, gen, first); perr != nil {
					return perr
				}
			}
			switch {
			case err == nil:
				continue
			case err == io.EOF:
				id := b.pub.prefix + strconv.Itoa(gen) + "-eos"
				if perr := b.pub.publish(ctx, &nats.Msg{Subject: b.subject, Header: nats.Header{hdrEOS: []string{b.pub.id}}}, id); perr != nil {
					return perr
				}
			case errors.Is(err, core.ErrWriterDead):
				slog.Debug("natsx: bridge: writer died", "buffer", b.subject)
			default:
				return fmt.Errorf("natsx: bridge: %w", err)
			}
			break
		}
	}
}

// forward publishes b.frames (ring sequences first, first+1, ...) as few
// messages as max_payload allows, in order, each stored before the next.
func (b *toNATS) forward(ctx context.Context, gen int, first uint64) error {
	if !b.metaOK {
		md, err := b.r.Metadata()
		if err != nil {
			return fmt.Errorf("natsx: bridge: metadata: %w", err)
		}
		if len(md) > 0 {
			if _, err := declareMetadata(ctx, b.pub.nc, b.js, b.st, md); err != nil {
				return err
			}
		}
		b.metaOK = true
	}
	limit := int(b.pub.nc.MaxPayload()) - 256 // room for the headers
	frames := b.frames
	for len(frames) > 0 {
		n, size := 0, 0
		for n < len(frames) && (n == 0 || size+4+len(frames[n]) <= limit) {
			size += 4 + len(frames[n])
			n++
		}
		id := b.pub.prefix + strconv.Itoa(gen) + "-" + strconv.FormatUint(first, 10)
		m := &nats.Msg{Subject: b.subject}
		if n == 1 {
			m.Data = frames[0]
		} else {
			payload := make([]byte, 0, size)
			for _, f := range frames[:n] {
				payload = appendFrame(payload, f)
			}
			m.Data = payload
			m.Header = nats.Header{hdrBatch: []string{strconv.Itoa(n)}}
		}
		if err := b.pub.publish(ctx, m, id); err != nil {
			return err
		}
		frames = frames[n:]
		first += uint64(n)
	}
	return nil
}

// BridgeFromNATS forwards the JetStream channel subject to the
// shared-memory buffer name until ctx ends or the channel's sender closes
// (then it closes the buffer's writer and returns nil). The bridge is the
// buffer's writer: it connects to the buffer a local reader created
// (waiting for it), writes the channel's metadata into it once, and writes
// each message (each frame of a batch) as one frame. A message is
// acknowledged to the server only after its frames are committed to the
// ring, so a bridge that stops resumes, next time, from the first message
// not acknowledged: at least once, in order. When the local reader dies
// or restarts, the bridge connects to the new buffer and goes on with the
// frame it could not write.
func BridgeFromNATS(ctx context.Context, nc *nats.Conn, subject, name string, opts ...Option) error {
	o := buildOptions(opts)
	rx, err := Listen(ctx, nc, subject, passthrough{}, append(opts, WithoutCodecCheck(), WithMode(JetStream))...)
	if err != nil {
		return err
	}
	defer rx.Close()
	rx.deferAck = true
	_ = o
	var w *core.Writer
	defer func() {
		if w != nil {
			w.Close()
		}
	}()
	for {
		v, err := rx.Recv(ctx)
		if err == io.EOF {
			rx.ackPending()
			return nil
		}
		if err != nil {
			return fmt.Errorf("natsx: bridge: %w", err)
		}
		for {
			if w == nil {
				if w, err = dialWriter(ctx, name); err != nil {
					return err
				}
				md, err := streamMetadata(ctx, rx.nc, rx.st)
				if err != nil {
					return err
				}
				if len(md) > 0 {
					if err := w.SetMetadata(md); err != nil && !errors.Is(err, core.ErrMetadataAlreadyWritten) {
						return fmt.Errorf("natsx: bridge: metadata: %w", err)
					}
				}
			}
			err = w.WriteFrame(ctx, v)
			if err == nil {
				break
			}
			if errors.Is(err, core.ErrReaderDead) {
				slog.Debug("natsx: bridge: reader gone, reconnecting", "buffer", name)
				w.Close()
				w = nil
				continue
			}
			return fmt.Errorf("natsx: bridge: write %q: %w", name, err)
		}
	}
}

// dialWriter connects to buffer name, retrying while it does not exist.
func dialWriter(ctx context.Context, name string) (*core.Writer, error) {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		w, err := core.NewWriter(name)
		if err == nil || !(errors.Is(err, core.ErrNotFound) || errors.Is(err, core.ErrNotReady) || errors.Is(err, core.ErrReaderDead)) {
			if err != nil {
				return nil, fmt.Errorf("natsx: bridge: connect %q: %w", name, err)
			}
			return w, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("natsx: bridge: connect %q: %w (last error: %w)", name, ctx.Err(), err)
		case <-t.C:
		}
	}
}

// passthrough hands a message's bytes on as they are; the bridge writes
// them into a frame without decoding.
type passthrough struct{}

func (passthrough) Name() string                        { return codec.RawName }
func (passthrough) Decode(frame []byte) ([]byte, error) { return frame, nil }
