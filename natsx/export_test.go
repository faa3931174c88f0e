package natsx

import "time"

// StreamName exposes streamName to the external tests.
var StreamName = streamName

// StallFlusher keeps the core-mode sender s from starting its flusher
// goroutine: the values it sends stay queued (up to a batch) until
// Sender.Flush, Sender.Close or a value that does not fit publishes them.
func StallFlusher[T any](s *Sender[T]) {
	s.co.mu.Lock()
	s.co.running = true
	s.co.mu.Unlock()
}

// CoalesceLimit is the payload bound of a coalesced message.
const CoalesceLimit = coalesceLimit

// SetPullHeartbeat sets the idle heartbeat of JetStream receivers created
// from now on and returns the previous value.
func SetPullHeartbeat(d time.Duration) time.Duration {
	old := pullHeartbeat
	pullHeartbeat = d
	return old
}
