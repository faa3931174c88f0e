package typed

import "github.com/zerobuffer/zerobuffer-go/core"

// Stats returns the counters of the sender's writer (see core.Writer.Stats):
// messages sent as frames and bytes, blocked time, ring use and whether
// the receiver is alive. Safe for concurrent use.
func (s *Sender[T]) Stats() core.Stats { return s.w.Stats() }

// Stats returns the counters of the receiver's reader (see
// core.Reader.Stats): messages received as frames and bytes, ring use and
// whether a sender is connected. Safe for concurrent use.
func (r *Receiver[T]) Stats() core.Stats { return r.l.r.Stats() }

// Stats returns the counters of the receiver's reader; see
// [Receiver.Stats].
func (r *ViewReceiver[T]) Stats() core.Stats { return r.l.r.Stats() }
