// Package metrics exports the counters of zerobuffer buffers
// (core.Stats) as Prometheus metrics.
//
// It is a module of its own (github.com/zerobuffer/zerobuffer-go/metrics),
// so that programs that do not export metrics do not depend on the
// Prometheus client. Register a [Collector] with a prometheus.Registerer
// and add the readers, writers, typed senders and receivers and duplex
// sides to watch:
//
//	c := metrics.NewCollector()
//	prometheus.MustRegister(c)
//	c.Add("orders", metrics.SideReader, rx) // rx: *typed.Receiver[Order]
//	http.Handle("/metrics", promhttp.Handler())
//
// Every metric carries the labels buffer (the buffer name) and side
// (reader, writer, or what the caller chose); errors add kind
// (core.ErrorKind*):
//
//	zerobuffer_frames_total            counter  frames moved by this side
//	zerobuffer_bytes_total             counter  payload bytes moved by this side
//	zerobuffer_blocked_seconds_total   counter  time the writer waited for ring space
//	zerobuffer_errors_total            counter  failures by kind
//	zerobuffer_ring_size_bytes         gauge    payload ring size
//	zerobuffer_ring_used_bytes         gauge    ring bytes taken now
//	zerobuffer_ring_high_water_bytes   gauge    most ring bytes seen taken
//	zerobuffer_waiting                 gauge    1 while the writer waits for space
//	zerobuffer_peer_alive              gauge    1 while the other side is connected
//
// # Caveats
//
// A scrape calls Stats on every source, which takes each side's lock
// briefly (see core.Writer.Stats for a writer waiting for space). Remove a
// source before closing it, or its last values stay exported (a closed
// side reports zero ring size and no peer).
package metrics
