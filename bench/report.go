package bench

import (
	"time"
)

// Report is everything one [Run] measured. It marshals to the JSON that
// `zerobuffer bench --json` prints; [Report.Markdown] renders the tables.
type Report struct {
	Started    time.Time    `json:"started"`
	Seconds    float64      `json:"seconds"` // wall time of the whole run
	Machine    Machine      `json:"machine"`
	Config     ConfigInfo   `json:"config"`
	Limits     *Limits      `json:"limits,omitempty"`
	Throughput []Throughput `json:"throughput"`
	Latency    []Latency    `json:"latency"`
	// IdleLatency is the 64-byte back-to-back round trip of zb-copy per
	// idle strategy (core.IdleStrategy), busy-spin also pinned, beside
	// the in-process channel of the same run.
	IdleLatency []Latency `json:"idle_latency,omitempty"`
	// IdleReaderCPU is the CPU, in percent of one core, that a reader
	// blocked in ReadFrame used; negative when not measured.
	IdleReaderCPU float64  `json:"idle_reader_cpu_pct"`
	IdleError     string   `json:"idle_error,omitempty"`
	Targets       []Target `json:"targets"`
	// FastTargets are the goals of the fast-path work: per-frame and
	// batch rates, round trips, idle CPU.
	FastTargets []Target `json:"fast_targets"`
}

// Machine describes where the run happened.
type Machine struct {
	GOOS      string `json:"goos"`
	GOARCH    string `json:"goarch"`
	NumCPU    int    `json:"num_cpu"`
	GoVersion string `json:"go_version"`
	CPUModel  string `json:"cpu_model,omitempty"`
}

// ConfigInfo is the part of [Config] that shapes the numbers.
type ConfigInfo struct {
	Sizes      []int         `json:"sizes"`
	Transports []string      `json:"transports"`
	Duration   time.Duration `json:"duration_ns"`
	Gap        time.Duration `json:"gap_ns"`
	IdleCPU    time.Duration `json:"idle_cpu_ns"`
}

// Limits are the machine's own limits measured in the run.
type Limits struct {
	Memcpy1MiB     float64 `json:"memcpy_1mib_gbps"`  // GB/s (1e9 bytes)
	Memcpy64MiB    float64 `json:"memcpy_64mib_gbps"` // GB/s
	CacheLineRTTNs float64 `json:"cacheline_rtt_ns"`  // one round trip between two processes; 0 on error
	CacheLineError string  `json:"cacheline_error,omitempty"`
	// Ceiling holds the spin-ring throughput per size (Transport "ceiling").
	Ceiling []Throughput `json:"ceiling"`
}

// Throughput is one one-way streaming case.
type Throughput struct {
	Transport  string  `json:"transport"`
	Size       int     `json:"size"`
	Messages   uint64  `json:"messages"` // verified by the receiver
	MsgsPerSec float64 `json:"msgs_per_sec"`
	GBPerSec   float64 `json:"gb_per_sec"` // payload bytes, 1e9 bytes per second
	// SendCPU and RecvCPU are CPU time over wall time of each side, in
	// percent of one core. For the in-process channel both goroutines
	// share one process: SendCPU holds the total and InProcess is set.
	SendCPU   float64 `json:"send_cpu_pct"`
	RecvCPU   float64 `json:"recv_cpu_pct"`
	InProcess bool    `json:"in_process,omitempty"`
	Err       string  `json:"error,omitempty"`
}

// Latency is one ping-pong case.
type Latency struct {
	Transport string        `json:"transport"`
	Size      int           `json:"size"`
	Gap       time.Duration `json:"gap_ns"` // idle time before each request
	Samples   uint64        `json:"samples"`
	P50       float64       `json:"p50_ns"`
	P99       float64       `json:"p99_ns"`
	P999      float64       `json:"p999_ns"`
	Max       float64       `json:"max_ns"`
	ClientCPU float64       `json:"client_cpu_pct"` // whole process for the in-process channel
	ServerCPU float64       `json:"server_cpu_pct"`
	InProcess bool          `json:"in_process,omitempty"`
	// Idle is the zerobuffer idle strategy of both sides ("" = default)
	// and Pinned whether each process was pinned to its own CPU; set only
	// in IdleLatency.
	Idle   string `json:"idle,omitempty"`
	Pinned bool   `json:"pinned,omitempty"`
	Err    string `json:"error,omitempty"`
	// CDF is the round-trip distribution, one point per histogram bucket.
	CDF []CDFPoint `json:"cdf,omitempty"`
}

// Target is one pass/fail goal of the issue that asked for this harness.
type Target struct {
	Name     string `json:"name"`
	Goal     string `json:"goal"`
	Measured string `json:"measured"`
	// Result is "pass", "fail" or "n/a" (not measured in this run).
	Result string `json:"result"`
}

func (r *Report) throughput(transport string, size int) *Throughput {
	for i := range r.Throughput {
		t := &r.Throughput[i]
		if t.Transport == transport && t.Size == size && t.Err == "" {
			return t
		}
	}
	if r.Limits != nil && transport == "ceiling" {
		for i := range r.Limits.Ceiling {
			if t := &r.Limits.Ceiling[i]; t.Size == size && t.Err == "" {
				return t
			}
		}
	}
	return nil
}

func (r *Report) latency(transport string, size int, gap time.Duration) *Latency {
	for i := range r.Latency {
		l := &r.Latency[i]
		if l.Transport == transport && l.Size == size && l.Gap == gap && l.Err == "" && l.Samples > 0 {
			return l
		}
	}
	return nil
}

func isZB(t string) bool {
	return t == TransportZBCopy || t == TransportZBZeroCopy || t == TransportZBBatch
}

func isKernel(t string) bool { return t == TransportPipe || t == TransportUDS || t == TransportTCP }

// bestKernel returns the fastest kernel transport measured at size.
func (r *Report) bestKernel(size int) *Throughput {
	var best *Throughput
	for _, k := range []string{TransportPipe, TransportUDS, TransportTCP} {
		if t := r.throughput(k, size); t != nil && (best == nil || t.MsgsPerSec > best.MsgsPerSec) {
			best = t
		}
	}
	return best
}

// bestKernelLatency returns the kernel transport with the lowest p50.
func (r *Report) bestKernelLatency(size int, gap time.Duration) *Latency {
	var best *Latency
	for _, k := range []string{TransportPipe, TransportUDS, TransportTCP} {
		if l := r.latency(k, size, gap); l != nil && (best == nil || l.P50 < best.P50) {
			best = l
		}
	}
	return best
}

// bestZB returns the zerobuffer path with the highest msgs/s at size.
func (r *Report) bestZB(size int) *Throughput {
	var best *Throughput
	for _, z := range []string{TransportZBCopy, TransportZBZeroCopy, TransportZBBatch} {
		if t := r.throughput(z, size); t != nil && (best == nil || t.MsgsPerSec > best.MsgsPerSec) {
			best = t
		}
	}
	return best
}

// bestZBLatency returns the zerobuffer path with the lowest p50.
func (r *Report) bestZBLatency(size int, gap time.Duration) *Latency {
	var best *Latency
	for _, z := range []string{TransportZBCopy, TransportZBZeroCopy, TransportZBBatch} {
		if l := r.latency(z, size, gap); l != nil && (best == nil || l.P50 < best.P50) {
			best = l
		}
	}
	return best
}
