package metrics

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/zerobuffer/zerobuffer-go/core"
	"github.com/zerobuffer/zerobuffer-go/duplex"
)

// gather returns "name{buffer,side[,kind]}" -> value.
func gather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			k := mf.GetName()
			for _, l := range m.GetLabel() {
				k += "," + l.GetName() + "=" + l.GetValue()
			}
			out[k] = value(mf.GetType(), m)
		}
	}
	return out
}

func value(t dto.MetricType, m *dto.Metric) float64 {
	if t == dto.MetricType_COUNTER {
		return m.GetCounter().GetValue()
	}
	return m.GetGauge().GetValue()
}

// staticSource reports fixed stats.
type staticSource core.Stats

func (s staticSource) Stats() core.Stats { return core.Stats(s) }

func TestCollector_ValuesAndLabels(t *testing.T) {
	c := NewCollector()
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	src := staticSource{Frames: 7, Bytes: 700, RingSize: 4096, RingUsed: 100, RingHighWater: 3000,
		Blocked: 1500 * time.Millisecond, Waiting: true, PeerAlive: true,
		Errors: map[string]uint64{core.ErrorKindBufferFull: 2}}
	if err := c.Add("orders", SideWriter, src); err != nil {
		t.Fatal(err)
	}
	if err := c.Add("orders", SideWriter, src); !errors.Is(err, ErrDuplicate) {
		t.Errorf("second Add: %v, want ErrDuplicate", err)
	}
	m := gather(t, reg)
	l := ",buffer=orders,side=writer"
	for name, want := range map[string]float64{
		"zerobuffer_frames_total" + l:                                        7,
		"zerobuffer_bytes_total" + l:                                         700,
		"zerobuffer_ring_size_bytes" + l:                                     4096,
		"zerobuffer_ring_used_bytes" + l:                                     100,
		"zerobuffer_ring_high_water_bytes" + l:                               3000,
		"zerobuffer_blocked_seconds_total" + l:                               1.5,
		"zerobuffer_waiting" + l:                                             1,
		"zerobuffer_peer_alive" + l:                                          1,
		"zerobuffer_errors_total,buffer=orders,kind=buffer_full,side=writer": 2,
	} {
		if got, ok := m[name]; !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", name, got, ok, want)
		}
	}
	c.Remove("orders", SideWriter)
	if m := gather(t, reg); len(m) != 0 {
		t.Errorf("after Remove: %v", m)
	}
}

// TestCollector_RealSidesAndDuplex exports a real reader and writer and a
// duplex client pair and checks the counts after traffic.
func TestCollector_RealSidesAndDuplex(t *testing.T) {
	name := fmt.Sprintf("zbmetrics-c-%d", os.Getpid())
	r, err := core.NewReader(name, core.BufferConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	w, err := core.NewWriter(name)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	c := NewCollector()
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	if err := errors.Join(c.Add(name, SideReader, r), c.Add(name, SideWriter, w)); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	for range 3 {
		if err := w.WriteFrame(ctx, make([]byte, 10)); err != nil {
			t.Fatal(err)
		}
	}
	f, err := r.ReadFrame(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f.Release()
	m := gather(t, reg)
	for k, want := range map[string]float64{
		"zerobuffer_frames_total,buffer=" + name + ",side=writer":    3,
		"zerobuffer_bytes_total,buffer=" + name + ",side=writer":     30,
		"zerobuffer_frames_total,buffer=" + name + ",side=reader":    1,
		"zerobuffer_ring_size_bytes,buffer=" + name + ",side=reader": core.DefaultPayloadSize,
		"zerobuffer_peer_alive,buffer=" + name + ",side=reader":      1,
	} {
		if m[k] != want {
			t.Errorf("%s = %v, want %v", k, m[k], want)
		}
	}

	ch := name + "-dx"
	srv, err := duplex.NewRawServer(ch, func(ctx context.Context, req []byte, resp *duplex.ResponseWriter) error {
		return resp.Write(ctx, req)
	})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ctx)
	defer srv.Close()
	cl, err := duplex.DialRaw(ctx, ch)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := cl.Call(ctx, []byte("ping")); err != nil {
		t.Fatal(err)
	}
	if err := c.AddDuplex(ch, "client", cl); err != nil {
		t.Fatal(err)
	}
	m = gather(t, reg)
	for _, k := range []string{duplex.RequestName(ch), duplex.ResponseName(ch)} {
		if got := m["zerobuffer_frames_total,buffer="+k+",side=client"]; got != 1 {
			t.Errorf("%s frames = %v, want 1", k, got)
		}
	}
}
