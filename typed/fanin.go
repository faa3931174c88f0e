package typed

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sync"

	"github.com/zerobuffer/zerobuffer-go/codec"
	"github.com/zerobuffer/zerobuffer-go/core"
)

// ManyReceiver receives values from many sender processes at once: the
// fan-in form of [Receiver]. Each sender gets a ring of its own (a lane,
// see core.FanIn); lane 0 is the plain buffer name, so a single C++, C#
// or Python writer (with [WithoutCodecCheck]) connects as to [Listen].
//
// Values of one sender arrive in that sender's order; across senders in
// arrival order, at most core.FanInConfig.Budget values from one sender
// in a row. A sender that closes or dies ends only its own lane.
//
// End of stream: with the zero core.FanInConfig the stream never ends,
// like a Go channel that many goroutines send to and nobody closes:
// receives wait for senders until ctx ends or Close (then
// core.ErrClosed). With core.FanInConfig.Linger > 0, receives return
// io.EOF once every sender that connected has gone and no new one
// connected for Linger; a later receive continues if one does.
//
// A ManyReceiver is safe for concurrent use; values are delivered one at
// a time.
type ManyReceiver[T any] struct {
	fi      *core.FanIn
	dec     codec.Decoder[T]
	safe    codec.Decoder[T] // codec.Guard(dec)
	same    codec.Decoder[T] // codec.Guard of dec's codec.SameTypeDecoder form, or nil
	fp      string           // dec's type fingerprint, or ""
	noCheck bool

	mu      sync.Mutex
	checked []uint64 // per lane: 1 + the lane's reset count when its metadata matched dec's codec and type
	sameFP  []bool   // per lane: its sender declared fp itself (valid while checked matches)
}

// ListenMany creates the fan-in buffer name (see core.NewFanIn) and
// returns a receiver for it. cfg sizes every lane; cfg.MetadataSize is
// raised to fit the codec header. [WithCoreOptions] are passed to every
// lane's core.NewReader; [WithoutCodecCheck] accepts frames whatever a
// lane's metadata says.
//
// Senders connect with [DialMany]. Each lane checks its sender's codec and
// type fingerprint (as [Receiver] does) on its first message: a sender
// that declared another codec or Go type gets its message refused with
// [ErrCodecMismatch] (the receive returns that error
// and the next receive continues with the other senders) and its lane is
// recreated, which disconnects it (core.ErrReaderDead on its next send).
func ListenMany[T any](name string, cfg core.BufferConfig, fc core.FanInConfig, dec codec.Decoder[T], opts ...Option) (*ManyReceiver[T], error) {
	if dec == nil {
		return nil, errNilDecoder
	}
	if err := codec.ValidateName(dec.Name()); err != nil {
		return nil, err
	}
	o := buildOptions(opts)
	fi, err := core.NewFanIn(name, listenConfig(cfg, dec.Name(), o), fc, o.coreOpts...)
	if err != nil {
		return nil, err
	}
	r := &ManyReceiver[T]{fi: fi, dec: dec, safe: codec.Guard(dec), fp: codec.FingerprintOf(dec), noCheck: o.noCheck}
	if sd, ok := dec.(codec.SameTypeDecoder[T]); ok && r.fp != "" {
		r.same = codec.Guard(sd.ForSameType())
	}
	return r, nil
}

// DialMany connects a sender to the fan-in buffer name: it claims a free
// lane (see core.ClaimLane) and declares enc's codec there, see
// [NewSender]. Against a plain buffer (made by [Listen] or any ZeroBuffer
// reader) it connects like [Dial]. While the buffer does not exist, is
// being created or has no free lane, DialMany retries until ctx ends.
// Every publication of the Sender (Send, SendAll, Close) rings the
// receiver's doorbell when the receiver sleeps; its Close frees the lane.
func DialMany[T any](ctx context.Context, name string, enc codec.Encoder[T], opts ...Option) (*Sender[T], error) {
	if enc == nil {
		return nil, errors.New("zerobuffer: typed: nil encoder")
	}
	o := buildOptions(opts)
	lane, err := core.ClaimLane(ctx, name, o.coreOpts...)
	if err != nil {
		return nil, err
	}
	s, err := NewSender(lane.Writer(), enc, opts...)
	if err != nil {
		return nil, errors.Join(err, lane.Close())
	}
	s.lane = lane
	return s, nil
}

// Recv waits for the next value of any sender. Errors: the ctx error,
// core.ErrClosed after Close, io.EOF at the end of the stream (only with
// core.FanInConfig.Linger), and, for one message only (the next Recv
// continues), a decode error wrapping codec.ErrInvalid or
// [ErrCodecMismatch] for a sender of another codec.
func (r *ManyReceiver[T]) Recv(ctx context.Context) (T, error) {
	v, _, _, err := r.recv(ctx)
	return v, err
}

// RecvFrom is [ManyReceiver.Recv] that also returns the index of the lane
// the value came from (one sender at a time per lane; see
// [ManyReceiver.Lanes] for its PID).
func (r *ManyReceiver[T]) RecvFrom(ctx context.Context) (T, int, error) {
	v, lane, _, err := r.recv(ctx)
	return v, lane, err
}

func (r *ManyReceiver[T]) recv(ctx context.Context) (v T, lane int, fatal bool, err error) {
	f, lane, err := r.fi.ReadFrame(ctx)
	if err != nil {
		return v, lane, true, err
	}
	same, err := r.check(lane)
	if err != nil {
		f.Release()
		_ = r.fi.ResetLane(lane, err)
		return v, lane, false, fmt.Errorf("typed: lane %d: %w", lane, err)
	}
	dec := r.safe
	if same && r.same != nil {
		dec = r.same
	}
	v, err = dec.Decode(f.Data())
	if err != nil {
		var zero T
		return zero, lane, false, releaseErr(f, decodeErr(f, err))
	}
	return v, lane, false, releaseErr(f, nil)
}

// check verifies lane k's codec and type declarations once per lane and
// lane reset (a reset lane has empty metadata again), and reports whether
// the lane's sender declared the receiver's own type fingerprint. The
// sender writes its metadata before its first frame, so it is visible now.
func (r *ManyReceiver[T]) check(k int) (same bool, err error) {
	if r.noCheck {
		return false, nil
	}
	gen := r.fi.LaneResets(k) + 1
	r.mu.Lock()
	defer r.mu.Unlock()
	if k < len(r.checked) && r.checked[k] == gen {
		return r.sameFP[k], nil
	}
	md, err := r.fi.LaneMetadata(k)
	if err != nil {
		return false, err
	}
	if err := codec.CheckMetadata(md, r.dec.Name()); err != nil {
		return false, err
	}
	if err := codec.CheckType(md, r.dec.Name(), r.fp); err != nil {
		return false, err
	}
	for len(r.checked) <= k {
		r.checked = append(r.checked, 0)
		r.sameFP = append(r.sameFP, false)
	}
	r.checked[k] = gen
	r.sameFP[k] = codec.DeclaresType(md, r.fp)
	return r.sameFP[k], nil
}

// All returns an iterator over the values of all senders. io.EOF ends the
// sequence without an error; a per-message error (decode, codec mismatch)
// is yielded with the zero T and the loop may continue; any other error is
// yielded once and ends the sequence.
func (r *ManyReceiver[T]) All(ctx context.Context) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for {
			v, _, fatal, err := r.recv(ctx)
			if fatal {
				if !isEnd(err) {
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

// Lanes describes the lanes and their senders (see core.FanIn.Lanes).
func (r *ManyReceiver[T]) Lanes() []core.LaneInfo { return r.fi.Lanes() }

// FanIn returns the underlying fan-in reader. Reading frames from it
// directly bypasses the codec.
func (r *ManyReceiver[T]) FanIn() *core.FanIn { return r.fi }

// Close closes the fan-in reader, removing every lane. Senders get
// core.ErrReaderDead; blocked receives return core.ErrClosed. Close is
// idempotent.
func (r *ManyReceiver[T]) Close() error { return r.fi.Close() }
