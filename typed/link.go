package typed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
	"sync/atomic"

	"github.com/zerobuffer/zerobuffer-go/codec"
	"github.com/zerobuffer/zerobuffer-go/core"
)

// link is the receive side shared by Receiver and ViewReceiver: it reads
// frames and checks, once per buffer, that the sender declared the
// expected codec.
type link struct {
	r       *core.Reader
	codec   string
	fp      string // expected type fingerprint ("" accepts any); set before first use
	noCheck bool

	checked  atomic.Bool // metadata matched; metadata is write-once
	sameType atomic.Bool // the sender declared fp itself; stored before checked
	mu       sync.Mutex
	mismatch error // sticky codec mismatch
}

func newLink(r *core.Reader, name string, o options) (*link, error) {
	if r == nil {
		return nil, errors.New("zerobuffer: typed: nil reader")
	}
	if err := codec.ValidateName(name); err != nil {
		return nil, err
	}
	return &link{r: r, codec: name, noCheck: o.noCheck}, nil
}

// listenConfig sizes the ring for WithCapacity, then takes the core's
// defaults for what is still zero (core.BufferConfig.WithDefaults), and
// raises cfg.MetadataSize to fit the codec header of name and a type line
// of the longest fingerprint.
func listenConfig(cfg core.BufferConfig, name string, o options) core.BufferConfig {
	if o.capMsgs > 0 {
		frame := min(o.capMax, math.MaxInt/4) + 16 // core's frame header
		ring := math.MaxInt                        // too large for core.NewReader, which says so
		if o.capMsgs <= math.MaxInt/frame {
			ring = o.capMsgs * frame
		}
		cfg.PayloadSize = max(cfg.PayloadSize, ring, 2*frame)
	}
	cfg = cfg.WithDefaults()
	if !o.noCheck {
		typeLine := len(codec.TypePrefix) + codec.MaxNameLen + 1
		cfg.MetadataSize = max(cfg.MetadataSize, 8+codec.MetadataLen(name, typeLine))
	}
	return cfg
}

// next returns the next frame of a sender that declared the expected codec.
// Core errors are returned unchanged.
func (l *link) next(ctx context.Context) (*core.Frame, error) {
	f, err := l.r.ReadFrame(ctx)
	if err != nil {
		return nil, err
	}
	if l.ready() {
		return f, nil
	}
	return l.checkFrame(f)
}

// checkFrame runs the codec check (link.check) on f, a frame that arrived
// before the check passed: it returns f, or releases it and returns the
// mismatch. ViewReceiver.RecvFunc calls it after its own ReadFrame.
func (l *link) checkFrame(f *core.Frame) (*core.Frame, error) {
	if err := l.check(); err != nil {
		f.Release()
		return nil, err
	}
	return f, nil
}

// check compares the buffer metadata with the expected codec. The sender
// writes the metadata before its first frame, so it is visible once a frame
// has arrived.
func (l *link) check() error {
	if l.noCheck || l.checked.Load() {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.mismatch != nil || l.checked.Load() {
		return l.mismatch
	}
	md, err := l.r.Metadata()
	if err != nil {
		return err
	}
	err = codec.CheckMetadata(md, l.codec)
	if err == nil {
		err = codec.CheckType(md, l.codec, l.fp)
	}
	if err != nil {
		l.mismatch = err
		return err
	}
	// Metadata is write-once, so every sender of this buffer declared it.
	l.sameType.Store(codec.DeclaresType(md, l.fp))
	l.checked.Store(true)
	return nil
}

// decodeErr adds the frame's sequence number to a decode error.
func decodeErr(f *core.Frame, err error) error {
	return fmt.Errorf("typed: frame %d: %w", f.Sequence(), err)
}

// releaseErr combines err with the error of releasing f.
func releaseErr(f *core.Frame, err error) error {
	if rerr := f.Release(); rerr != nil && err == nil {
		return rerr
	}
	return err
}

// isEnd reports whether err ends a stream cleanly.
func isEnd(err error) bool { return err == io.EOF }
