package core

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/zerobuffer/zerobuffer-go/internal/logenv"
	"github.com/zerobuffer/zerobuffer-go/platform"
)

// Option configures a [Reader] or a [Writer]. Options that make no sense
// for one side are ignored by it.
type Option func(*options)

type options struct {
	logger        *slog.Logger
	peerInterval  time.Duration
	spin          time.Duration
	idle          IdleStrategy
	mode          os.FileMode
	dirs          platform.Dirs
	flushFraction uint64
	trust         trust         // whose objects a writer accepts; the group a reader shares with (owners.go)
	heldWait      time.Duration // Windows: how long NewReader waits for the old buffer's last holder (reader.go)
}

const (
	defaultPeerInterval = 50 * time.Millisecond
	defaultSpin         = 20 * time.Microsecond
	defaultHeldWait     = 2 * time.Second
	defaultMode         = 0o600
)

// WithLogger sends diagnostics to l. The default is silent unless the
// environment variable ZEROBUFFER_LOG_LEVEL is DEBUG, INFO, WARN (or
// WARNING) or ERROR, which logs to standard error at that level. Nothing is
// logged per frame except at DEBUG.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithPeerCheckInterval sets how often a blocked or streaming side checks
// whether its peer is still alive. The default is 50ms: a writer learns of
// a dead reader within one interval, a reader of a dead writer within one
// interval after its last frame and within four (200ms) when it has been
// idle longer, which keeps an idle reader near 0.3 % of a CPU.
func WithPeerCheckInterval(d time.Duration) Option { return func(o *options) { o.peerInterval = d } }

// WithSpin sets how long a side busy-waits for the peer before it sleeps
// on the semaphore. Spinning avoids a futex round trip for back-to-back
// frames; sleeping keeps an idle side at no CPU. The default is 20µs; 0
// disables spinning.
func WithSpin(d time.Duration) Option { return func(o *options) { o.spin = d } }

// IdleStrategy says how a side spends its CPU while it waits for its peer
// (a reader for a frame, a writer for space). It trades CPU for latency,
// like Aeron's idle strategies; the wire protocol is the same in every
// mode (a writer still posts one sem-w token per frame, so a foreign reader
// sleeping in the semaphore is always woken).
type IdleStrategy int

const (
	// IdleSpinThenSleep, the default, busy-waits for up to the spin time
	// ([WithSpin], 20µs by default), then sleeps in the semaphore (a
	// futex on Linux). Back-to-back traffic is caught by the spin; an idle
	// side costs well under 1 % of a CPU. A frame that arrives after the
	// side fell asleep pays a kernel wake-up (several µs, tens of µs on a
	// loaded machine).
	IdleSpinThenSleep IdleStrategy = iota
	// IdleBusySpin never sleeps while the peer is connected: the waiting
	// side polls shared memory on its CPU, yielding it only to a runnable
	// peer on the same core now and then, and checks the peer's liveness
	// every peer-check interval. It buys the lowest and steadiest latency
	// (no kernel wake-up on the path) for a whole CPU per waiting side;
	// meant for processes pinned to their own cores. A dead peer is still
	// noticed within the peer-check interval, a closed one at once.
	IdleBusySpin
	// IdleLowCPU spins only a few polls (about a microsecond), then
	// sleeps in the semaphore. It saves the spin's CPU on a busy machine
	// at the cost of a kernel wake-up for most frames that do not arrive
	// back to back.
	IdleLowCPU
)

// String returns the strategy's name as used by the command-line tools:
// "spin-then-sleep", "busy-spin" or "low-cpu".
func (s IdleStrategy) String() string {
	switch s {
	case IdleSpinThenSleep:
		return "spin-then-sleep"
	case IdleBusySpin:
		return "busy-spin"
	case IdleLowCPU:
		return "low-cpu"
	}
	return fmt.Sprintf("IdleStrategy(%d)", int(s))
}

// ParseIdleStrategy returns the strategy named s (see [IdleStrategy.String]).
func ParseIdleStrategy(s string) (IdleStrategy, error) {
	for _, k := range []IdleStrategy{IdleSpinThenSleep, IdleBusySpin, IdleLowCPU} {
		if s == k.String() {
			return k, nil
		}
	}
	return 0, fmt.Errorf("zerobuffer: unknown idle strategy %q (have spin-then-sleep, busy-spin, low-cpu)", s)
}

// lowCPUSpin is how long IdleLowCPU polls before it sleeps.
const lowCPUSpin = time.Microsecond

// WithIdleStrategy selects how a waiting side spends its CPU; the default
// is [IdleSpinThenSleep]. The typed and duplex packages pass it through
// their WithCoreOptions options.
func WithIdleStrategy(s IdleStrategy) Option { return func(o *options) { o.idle = s } }

// WithFileMode sets the permission bits of the objects a Reader creates
// (shared memory, semaphores, lock file). The default is 0600; use 0660 or
// 0666 when the peer runs as another user. The mode is applied exactly,
// regardless of the process umask.
func WithFileMode(m os.FileMode) Option { return func(o *options) { o.mode = m } }

// WithDirs places the shared memory and lock files in other directories.
// Only the defaults (/dev/shm and /tmp/zerobuffer) interoperate with
// other ZeroBuffer implementations; other directories are for tests and
// sandboxes.
func WithDirs(shm, lock string) Option {
	return func(o *options) { o.dirs.Shm, o.dirs.Lock = shm, lock }
}

// WithGlobalNamespace (Windows only) names the shared memory and the
// semaphores in the Global\ namespace, for services in session 0 and
// desktop processes that talk to them. Creating a Global\ mapping needs
// the SeCreateGlobalPrivilege. Other systems ignore it.
func WithGlobalNamespace() Option { return func(o *options) { o.dirs.GlobalNamespace = true } }

// withoutHeldWait makes NewReader fail at once, not wait, when the old
// buffer of its name is still held on Windows (fan-in lanes retry later
// instead of stalling their reader).
func withoutHeldWait() Option { return func(o *options) { o.heldWait = 0 } }

func buildOptions(opts []Option) (options, error) {
	o := options{
		peerInterval:  defaultPeerInterval,
		spin:          defaultSpin,
		mode:          defaultMode,
		flushFraction: 8,
		heldWait:      defaultHeldWait,
	}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	switch {
	case o.peerInterval <= 0 || o.peerInterval > time.Minute:
		return o, fmt.Errorf("zerobuffer: peer check interval %v out of range (0, 1m]", o.peerInterval)
	case o.spin < 0 || o.spin > time.Second:
		return o, fmt.Errorf("zerobuffer: spin %v out of range [0, 1s]", o.spin)
	case o.idle < IdleSpinThenSleep || o.idle > IdleLowCPU:
		return o, fmt.Errorf("zerobuffer: unknown idle strategy %d", int(o.idle))
	case o.mode&^os.ModePerm != 0 || o.mode&0o600 != 0o600:
		return o, fmt.Errorf("zerobuffer: file mode %v must be permission bits including 0600", o.mode)
	}
	if o.idle == IdleLowCPU {
		o.spin = min(o.spin, lowCPUSpin)
	}
	if o.logger == nil {
		o.logger = envLogger()
	}
	return o, nil
}

// envLogger is the default logger: ZEROBUFFER_LOG_LEVEL decides, with
// the attribute component=core.
func envLogger() *slog.Logger { return logenv.FromEnv("core") }

func debugEnabled(l *slog.Logger) bool { return l.Enabled(context.Background(), slog.LevelDebug) }
