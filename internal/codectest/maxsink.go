// Package codectest holds test doubles shared by the codec packages' tests.
package codectest

import (
	"bytes"
	"context"
	"errors"
)

// MaxSink is a codec.MaxFrameWriter over one in-memory frame that records
// how an encoder used it. Its ring has Size bytes (4096 if Size is 0);
// the reserved slice is clipped to the reservation, as a real ring slot's
// contents beyond it belong to other frames.
type MaxSink struct {
	Size      int    // bytes of the ring; 0 means 4096
	Ring      []byte // the ring; reservations start at its first byte
	Frame     []byte // a copy of the last published frame
	Reserved  int    // size of the open reservation, 0 if none
	MaxCalls  int    // ReserveMax calls
	Exact     int    // Reserve calls
	Aborts    int    // Abort calls
	RefuseMax bool   // ReserveMax fails, as for a bound beyond the ring
}

// ErrTooLarge is what MaxSink's reservations fail with beyond its ring.
var ErrTooLarge = errors.New("codectest: frame too large")

func (m *MaxSink) slot(n int) ([]byte, error) {
	if m.Ring == nil {
		m.Ring = make([]byte, max(m.Size, 4096))
	}
	if m.Reserved != 0 {
		return nil, errors.New("codectest: a reservation is already open")
	}
	if n > len(m.Ring) || n < 0 {
		return nil, ErrTooLarge
	}
	m.Reserved = n
	return m.Ring[:n:n], nil
}

// ReserveMax returns the first max bytes of the ring.
func (m *MaxSink) ReserveMax(_ context.Context, max int) ([]byte, error) {
	m.MaxCalls++
	if m.RefuseMax {
		return nil, ErrTooLarge
	}
	return m.slot(max)
}

// Reserve returns the first n bytes of the ring.
func (m *MaxSink) Reserve(_ context.Context, n int) ([]byte, error) {
	m.Exact++
	return m.slot(n)
}

// CommitN publishes the first n bytes of the reservation as Frame.
func (m *MaxSink) CommitN(n int) error {
	if m.Reserved == 0 || n > m.Reserved || n < 0 {
		return errors.New("codectest: commit beyond the reservation")
	}
	m.Frame, m.Reserved = bytes.Clone(m.Ring[:n]), 0
	return nil
}

// Commit publishes the whole reservation.
func (m *MaxSink) Commit() error { return m.CommitN(m.Reserved) }

// Abort drops the reservation.
func (m *MaxSink) Abort() error { m.Reserved = 0; m.Aborts++; return nil }

// CopySink is a MaxSink that also takes whole frames, as *core.Writer
// does (codec.CopyFrameWriter); Writes counts WriteFrame calls.
type CopySink struct {
	MaxSink
	Writes int
}

// WriteFrame publishes a copy of p as Frame.
func (s *CopySink) WriteFrame(_ context.Context, p []byte) error {
	if s.Reserved != 0 {
		return errors.New("codectest: a reservation is already open")
	}
	s.Writes++
	s.Frame = bytes.Clone(p)
	return nil
}
