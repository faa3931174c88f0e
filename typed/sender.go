package typed

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/zerobuffer/zerobuffer-go/codec"
	"github.com/zerobuffer/zerobuffer-go/core"
)

// dialPoll is how often Dial retries while the buffer does not exist yet.
const dialPoll = 10 * time.Millisecond

// Sender sends values of type T over a buffer: each [Sender.Send] encodes
// one value with its [codec.Encoder] into exactly one frame. It owns its
// *core.Writer.
//
// A Sender is safe for concurrent use; concurrent Sends are serialised by
// the writer, each message being one frame.
type Sender[T any] struct {
	w    *core.Writer
	enc  codec.Encoder[T]
	lane *core.Lane // set by DialMany (fanin.go); its writer rings the fan-in doorbell
	// raw is set for the raw codec (codec.Raw or RawCopy, see
	// codec.IsRaw): Send writes a []byte value as the frame with
	// core.Writer.WriteFrame, one lock and one in-line copy, instead of
	// the codec's Reserve and Commit. The result is the codec's (an empty
	// value: core.ErrInvalidFrameSize).
	raw bool
}

// NewSender wraps w and declares enc's codec in the buffer metadata
// ("zerobuffer-codec=NAME\n", then "zerobuffer-type=FINGERPRINT\n" if enc
// implements codec.Fingerprinter, then the [WithMetadata] bytes). If the
// buffer already has metadata (an earlier writer declared it; metadata is
// write-once), NewSender accepts it when it declares the same codec and
// fails with [ErrCodecMismatch] otherwise. With [WithoutCodecCheck] only the
// WithMetadata bytes are written, if any.
//
// On success the Sender owns w: [Sender.Close] closes it. On failure w is
// left open.
func NewSender[T any](w *core.Writer, enc codec.Encoder[T], opts ...Option) (*Sender[T], error) {
	if w == nil || enc == nil {
		return nil, errors.New("zerobuffer: typed: nil writer or encoder")
	}
	o := buildOptions(opts)
	if err := declare(w, enc.Name(), codec.FingerprintOf(enc), o); err != nil {
		return nil, err
	}
	return &Sender[T]{w: w, enc: enc, raw: codec.IsRaw(enc)}, nil
}

func declare(w *core.Writer, name, fp string, o options) error {
	md := o.userMetadata
	if !o.noCheck {
		user := o.userMetadata
		if fp != "" {
			typ, err := codec.AppendType(nil, fp)
			if err != nil {
				return err
			}
			user = append(typ, user...)
		}
		var err error
		if md, err = codec.AppendMetadata(nil, name, user); err != nil {
			return err
		}
	}
	if len(md) == 0 {
		return nil
	}
	err := w.SetMetadata(md)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, core.ErrMetadataAlreadyWritten) && !o.noCheck:
		have, err := w.Metadata()
		if err != nil {
			return fmt.Errorf("typed: read metadata: %w", err)
		}
		if err := codec.CheckMetadata(have, name); err != nil {
			return err
		}
		return codec.CheckType(have, name, fp)
	default:
		return fmt.Errorf("typed: declare codec %q: %w", name, err)
	}
}

// Dial connects to the buffer name (created by a receiver with [Listen] or
// any ZeroBuffer reader) and returns a Sender for it, see [NewSender]. While
// the buffer does not exist yet or is still being created, Dial retries
// every 10ms until ctx ends; other connection errors (another writer is
// connected, the reader is dead) are returned at once, unchanged.
// [WithCoreOptions] are passed to core.NewWriter.
func Dial[T any](ctx context.Context, name string, enc codec.Encoder[T], opts ...Option) (*Sender[T], error) {
	o := buildOptions(opts)
	w, err := dialWriter(ctx, name, o.coreOpts)
	if err != nil {
		return nil, err
	}
	s, err := NewSender(w, enc, opts...)
	if err != nil {
		return nil, errors.Join(err, w.Close())
	}
	return s, nil
}

func dialWriter(ctx context.Context, name string, opts []core.Option) (*core.Writer, error) {
	t := time.NewTicker(dialPoll)
	defer t.Stop()
	for {
		w, err := core.NewWriter(name, opts...)
		if err == nil || !(errors.Is(err, core.ErrNotFound) || errors.Is(err, core.ErrNotReady)) {
			return w, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("typed: dial %q: %w (last error: %w)", name, ctx.Err(), err)
		case <-t.C:
		}
	}
}

// Send encodes v into one frame and publishes it. It blocks while the ring
// is full (back-pressure) until the receiver frees space, ctx ends, the
// receiver dies or the Sender is closed. Errors of the core (ctx errors,
// core.ErrReaderDead, core.ErrClosed, core.ErrFrameTooLarge, ...) are
// returned unchanged; an encoding failure wraps [codec.ErrEncode] and
// sends nothing.
func (s *Sender[T]) Send(ctx context.Context, v T) error {
	if s.raw {
		// A direct call: T is []byte whenever the assertion holds (a
		// named byte-slice type fails it and takes the codec's path).
		if b, ok := any(v).([]byte); ok {
			return s.w.WriteFrame(ctx, b)
		}
	}
	return s.enc.EncodeFrame(ctx, s.w, v)
}

// Close closes the writer: the receiver reads every message already sent
// and then gets io.EOF. A Send blocked for space returns core.ErrClosed.
// Close is idempotent.
func (s *Sender[T]) Close() error {
	if s.lane != nil {
		return s.lane.Close()
	}
	return s.w.Close()
}

// Writer returns the underlying writer, e.g. for MaxFrameSize or
// ReaderConnected. Writing frames to it directly bypasses the codec.
func (s *Sender[T]) Writer() *core.Writer { return s.w }
