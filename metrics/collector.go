package metrics

import (
	"errors"
	"fmt"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/zerobuffer/zerobuffer-go/core"
	"github.com/zerobuffer/zerobuffer-go/duplex"
)

// Sides of a buffer, for the side label.
const (
	SideReader = "reader"
	SideWriter = "writer"
)

// ErrDuplicate is returned by [Collector.Add] for a buffer and side that
// are already registered.
var ErrDuplicate = errors.New("zerobuffer: metrics: buffer and side already added")

// Source is anything with the counters of one side of a buffer:
// *core.Reader, *core.Writer, *typed.Sender, *typed.Receiver,
// *typed.ViewReceiver, or a [StatsFunc].
type Source interface {
	Stats() core.Stats
}

// StatsFunc adapts a function to [Source], for example one half of a
// duplex side's stats; see [Collector.AddDuplex].
type StatsFunc func() core.Stats

// Stats calls f.
func (f StatsFunc) Stats() core.Stats { return f() }

type key struct{ buffer, side string }

// Collector is a prometheus.Collector over the sources added to it. Its
// methods are safe for concurrent use; the zero value is not usable, use
// [NewCollector].
type Collector struct {
	mu      sync.Mutex
	sources map[key]Source
}

// NewCollector returns an empty Collector.
func NewCollector() *Collector { return &Collector{sources: make(map[key]Source)} }

// Add exports the counters of s under the labels buffer and side. It
// fails with [ErrDuplicate] if that pair is already exported.
func (c *Collector) Add(buffer, side string, s Source) error {
	if s == nil {
		return errors.New("zerobuffer: metrics: nil source")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	k := key{buffer, side}
	if _, ok := c.sources[k]; ok {
		return fmt.Errorf("%w: buffer %q, side %q", ErrDuplicate, buffer, side)
	}
	c.sources[k] = s
	return nil
}

// DuplexSource is a duplex server or client: *duplex.Server,
// *duplex.RawServer, *duplex.Client or *duplex.RawClient.
type DuplexSource interface {
	Stats() duplex.Stats
}

// AddDuplex exports both buffers of a duplex channel as seen by one side
// (side is typically "server" or "client"): NAME_request and
// NAME_response.
func (c *Collector) AddDuplex(channel, side string, d DuplexSource) error {
	if d == nil {
		return errors.New("zerobuffer: metrics: nil source")
	}
	req := StatsFunc(func() core.Stats { return d.Stats().Request })
	resp := StatsFunc(func() core.Stats { return d.Stats().Response })
	if err := c.Add(duplex.RequestName(channel), side, req); err != nil {
		return err
	}
	if err := c.Add(duplex.ResponseName(channel), side, resp); err != nil {
		c.Remove(duplex.RequestName(channel), side)
		return err
	}
	return nil
}

// Remove stops exporting buffer and side. Removing what is not there does
// nothing.
func (c *Collector) Remove(buffer, side string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.sources, key{buffer, side})
}

var (
	labels      = []string{"buffer", "side"}
	descFrames  = prometheus.NewDesc("zerobuffer_frames_total", "Frames moved by this side of the buffer.", labels, nil)
	descBytes   = prometheus.NewDesc("zerobuffer_bytes_total", "Payload bytes moved by this side of the buffer, headers excluded.", labels, nil)
	descBlocked = prometheus.NewDesc("zerobuffer_blocked_seconds_total", "Time the writer waited for ring space (back-pressure).", labels, nil)
	descErrors  = prometheus.NewDesc("zerobuffer_errors_total", "Failures by kind.", append(labels, "kind"), nil)
	descSize    = prometheus.NewDesc("zerobuffer_ring_size_bytes", "Size of the payload ring.", labels, nil)
	descUsed    = prometheus.NewDesc("zerobuffer_ring_used_bytes", "Ring bytes taken now (unreleased frames and wrap waste).", labels, nil)
	descHigh    = prometheus.NewDesc("zerobuffer_ring_high_water_bytes", "Most ring bytes this side saw taken.", labels, nil)
	descWaiting = prometheus.NewDesc("zerobuffer_waiting", "1 while the writer waits for ring space.", labels, nil)
	descPeer    = prometheus.NewDesc("zerobuffer_peer_alive", "1 while the other side is connected and alive.", labels, nil)
	allDescs    = []*prometheus.Desc{descFrames, descBytes, descBlocked, descErrors, descSize, descUsed, descHigh, descWaiting, descPeer}
)

// Describe sends the descriptors of every metric the Collector exports.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range allDescs {
		ch <- d
	}
}

// Collect reads the stats of every source and sends them as metrics.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	srcs := make(map[key]Source, len(c.sources))
	for k, s := range c.sources {
		srcs[k] = s
	}
	c.mu.Unlock()
	for k, s := range srcs {
		st := s.Stats()
		l := []string{k.buffer, k.side}
		ch <- prometheus.MustNewConstMetric(descFrames, prometheus.CounterValue, float64(st.Frames), l...)
		ch <- prometheus.MustNewConstMetric(descBytes, prometheus.CounterValue, float64(st.Bytes), l...)
		ch <- prometheus.MustNewConstMetric(descBlocked, prometheus.CounterValue, st.Blocked.Seconds(), l...)
		ch <- prometheus.MustNewConstMetric(descSize, prometheus.GaugeValue, float64(st.RingSize), l...)
		ch <- prometheus.MustNewConstMetric(descUsed, prometheus.GaugeValue, float64(st.RingUsed), l...)
		ch <- prometheus.MustNewConstMetric(descHigh, prometheus.GaugeValue, float64(st.RingHighWater), l...)
		ch <- prometheus.MustNewConstMetric(descWaiting, prometheus.GaugeValue, b2f(st.Waiting), l...)
		ch <- prometheus.MustNewConstMetric(descPeer, prometheus.GaugeValue, b2f(st.PeerAlive), l...)
		for kind, n := range st.Errors {
			ch <- prometheus.MustNewConstMetric(descErrors, prometheus.CounterValue, float64(n), k.buffer, k.side, kind)
		}
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
