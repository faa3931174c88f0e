package duplex

import "github.com/zerobuffer/zerobuffer-go/core"

// Stats are the counters of both buffers of a channel, as seen by one
// side (see core.Stats).
type Stats struct {
	// Request is the request buffer: the server's reader, or the
	// client's writer.
	Request core.Stats
	// Response is the response buffer: the server's writer on the
	// current client's buffer (zero while no client is connected; it
	// starts from zero for each client), or the client's reader.
	Response core.Stats
}

// Stats returns the server's counters: requests read (over every client)
// and responses written to the current client. Safe for concurrent use.
func (s *RawServer) Stats() Stats {
	st := Stats{Request: s.req.Stats()}
	if w := s.statsW.Load(); w != nil {
		st.Response = w.Stats()
	}
	return st
}

// Stats returns the counters of the server; see [RawServer.Stats].
func (s *Server[Req, Resp]) Stats() Stats { return s.raw.Stats() }

// Stats returns the client's counters: requests written and responses
// read. Safe for concurrent use.
func (c *RawClient) Stats() Stats {
	return Stats{Request: c.req.Stats(), Response: c.resp.Stats()}
}

// Stats returns the counters of the client; see [RawClient.Stats].
func (c *Client[Req, Resp]) Stats() Stats { return c.raw.Stats() }
