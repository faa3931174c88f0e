package bench

import (
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Transport names accepted in [Config.Transports].
const (
	TransportZBCopy     = "zb-copy"     // zerobuffer, Writer.WriteFrame (copy path)
	TransportZBZeroCopy = "zb-zerocopy" // zerobuffer, Writer.Reserve + Commit
	TransportZBBatch    = "zb-batch"    // zerobuffer, Writer.WriteFrames, Reader.ReadBatch
	TransportChan       = "chan"        // in-process Go channel (the reference)
	TransportPipe       = "pipe"        // os.Pipe between two processes
	TransportUDS        = "uds"         // Unix domain stream socket
	TransportTCP        = "tcp"         // TCP over 127.0.0.1
)

// Transports lists every transport in the order the report shows them.
var Transports = []string{
	TransportZBCopy, TransportZBZeroCopy, TransportZBBatch,
	TransportChan, TransportPipe, TransportUDS, TransportTCP,
}

// DefaultSizes are the message sizes of a default run: 64 B, 1 KiB,
// 64 KiB and 1 MiB.
var DefaultSizes = []int{64, 1 << 10, 64 << 10, 1 << 20}

// Config selects what [Run] measures. The zero value is not useful;
// start from [DefaultConfig].
type Config struct {
	Sizes      []int         // message sizes in bytes, each >= MinSize
	Transports []string      // names from Transports
	Duration   time.Duration // timed length of each case
	Gap        time.Duration // idle gap before each request of the second latency run; 0 skips that run
	IdleCPU    time.Duration // how long the idle reader blocks for its CPU measurement; 0 skips it
	Throughput bool          // run the one-way throughput cases
	Latency    bool          // run the ping-pong cases
	Limits     bool          // measure memcpy, cache-line round trip and the spin-ring ceiling
	// IdleStrategies runs the 64-byte round trip once per zerobuffer idle
	// strategy (and busy-spin with both processes pinned, where the
	// machine has two CPUs or more), beside the in-process channel.
	IdleStrategies bool

	// Progress, if not nil, receives a one-line progress bar that is
	// redrawn with carriage returns (pass os.Stderr only when it is a
	// terminal).
	Progress io.Writer
	// Logger receives a debug line per case; nil discards.
	Logger *slog.Logger
}

// DefaultConfig returns the configuration of `zerobuffer bench` without
// flags: every size and transport, 500 ms per case, a 1 ms idle gap,
// 3 s of idle reader CPU and the machine limits. It finishes in about a
// minute on a 2-core machine. The idle window is long enough that what a
// ReadFrame call spends once, on entry and on return, does not swamp the
// steady cost of a reader that waits (at 1 s it made up about half).
func DefaultConfig() Config {
	return Config{
		Sizes:      slices.Clone(DefaultSizes),
		Transports: slices.Clone(Transports),
		Duration:   500 * time.Millisecond,
		Gap:        time.Millisecond,
		IdleCPU:    3 * time.Second,
		Throughput: true,
		Latency:    true,
		Limits:     true,

		IdleStrategies: true,
	}
}

// Validate reports the first problem with c.
func (c *Config) Validate() error {
	if len(c.Sizes) == 0 {
		return fmt.Errorf("bench: no message sizes")
	}
	for _, s := range c.Sizes {
		if s < MinSize || s > 256<<20 {
			return fmt.Errorf("bench: message size %d out of range [%d, 256 MiB]", s, MinSize)
		}
	}
	for _, t := range c.Transports {
		if !slices.Contains(Transports, t) {
			return fmt.Errorf("bench: unknown transport %q (have %s)", t, strings.Join(Transports, ", "))
		}
	}
	if c.Duration <= 0 {
		return fmt.Errorf("bench: duration %v must be positive", c.Duration)
	}
	if c.Gap < 0 || c.IdleCPU < 0 {
		return fmt.Errorf("bench: negative gap or idle time")
	}
	return nil
}

// ParseSize parses a message size such as "64", "1K", "64KiB" or "1M"
// (powers of two).
func ParseSize(s string) (int, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "B"), "I")
	mult := 1
	switch {
	case strings.HasSuffix(t, "K"):
		mult, t = 1<<10, t[:len(t)-1]
	case strings.HasSuffix(t, "M"):
		mult, t = 1<<20, t[:len(t)-1]
	}
	n, err := strconv.Atoi(t)
	if err != nil || n <= 0 || n > (1<<30)/mult {
		return 0, fmt.Errorf("bench: invalid size %q", s)
	}
	return n * mult, nil
}

// FormatSize renders a byte count the way the report does: "64 B",
// "1 KiB", "1 MiB".
func FormatSize(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.Itoa(n>>20) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.Itoa(n>>10) + " KiB"
	}
	return strconv.Itoa(n) + " B"
}

func roundUp64(n uint64) uint64 { return (n + 63) &^ 63 }

// ringBytes is the payload ring size used for messages of size bytes:
// at least 4 MiB and at least 8 messages.
func ringBytes(size int) int { return int(roundUp64(uint64(max(4<<20, 8*(size+16))))) }

// ringCapacity is how many messages the ring of ringBytes holds, capped
// at 4096; the Go channel reference gets the same capacity.
func ringCapacity(size int) int { return min(4096, max(1, ringBytes(size)/(size+16))) }

// batchLen is how many frames zb-batch passes to each WriteFrames: up to
// 64, and no more than an eighth of the ring.
func batchLen(size int) int { return min(64, max(1, ringBytes(size)/8/(size+16))) }
