package duplex

import (
	"bytes"
	"fmt"
	"log/slog"
	"time"

	"github.com/zerobuffer/zerobuffer-go/core"
	"github.com/zerobuffer/zerobuffer-go/internal/logenv"
)

// Buffer defaults of both directions, used for a zero [core.BufferConfig]:
// the core's defaults (1 MiB ring, 4 KiB metadata). A service pair
// therefore takes about 2 MiB of shared memory, reserved when the buffers
// are created (see core.BufferConfig), and fits a container's default
// 64 MiB /dev/shm many times over. The largest request or response is
// the payload size minus 16 bytes: size the buffers for the largest
// message with [WithRequestBuffer] and [WithResponseBuffer]. (The C++, C#
// and Python clients default to a 256 MiB response ring; sizes need not
// match between peers, each side sizes the buffer it creates.)
const (
	DefaultMetadataSize = core.DefaultMetadataSize
	DefaultPayloadSize  = core.DefaultPayloadSize
)

// MaxNameLen is the longest channel name: the longest buffer name
// (245 bytes on Linux) minus the "_response" suffix.
const MaxNameLen = 236

const (
	defaultConnectTimeout = 5 * time.Second
	maxWorkers            = 1024
)

// Option configures a server or a client. Options that make no sense for
// one side are ignored by it. Options are validated by the constructor
// ([NewRawServer], [NewServer], [DialRaw], [Dial]).
type Option func(*options)

type options struct {
	reqCfg         core.BufferConfig
	respCfg        core.BufferConfig
	coreOpts       []core.Option
	metadata       []byte
	onConnect      func(metadata []byte)
	onError        func(error)
	logger         *slog.Logger
	workers        int
	connectTimeout time.Duration
	noCheck        bool
	stallTimeout   time.Duration // multi server: see WithStallTimeout

	// Set by the typed layer.
	respMeta   []byte                  // server: metadata for each client's response buffer
	acceptMeta func(have []byte) error // client: judge metadata an earlier client wrote
	checkMeta  func(md []byte) error   // multi server: judge a client's lane metadata
}

// WithRequestBuffer sizes the request buffer the server creates (see
// core.BufferConfig); a zero config means [DefaultMetadataSize] and
// [DefaultPayloadSize]. Server only.
func WithRequestBuffer(cfg core.BufferConfig) Option {
	return func(o *options) { o.reqCfg = cfg }
}

// WithResponseBuffer sizes the response buffer the client creates. The
// largest response is the payload size minus 16 bytes. A zero config
// means [DefaultMetadataSize] and [DefaultPayloadSize]. Client only.
func WithResponseBuffer(cfg core.BufferConfig) Option {
	return func(o *options) { o.respCfg = cfg }
}

// WithCoreOptions passes opts to every core.NewReader and core.NewWriter
// call of the server or client (peer-check interval, spin, file mode,
// directories). Default: none.
func WithCoreOptions(opts ...core.Option) Option {
	return func(o *options) { o.coreOpts = append(o.coreOpts, opts...) }
}

// WithMetadata makes the client write p into the request buffer's
// metadata before its first request; the server passes it to its
// [WithOnConnect] hook. Metadata is write-once per buffer, and the request
// buffer lives as long as the server: a later client finds the first
// client's metadata and fails with [ErrMetadataConflict] unless it
// declares the same bytes. Default: none. Client only.
func WithMetadata(p []byte) Option {
	return func(o *options) { o.metadata = bytes.Clone(p) }
}

// WithOnConnect sets a hook the server calls when a new client sends its
// first request, before that request is handled, with the request
// buffer's metadata (nil if none; for a typed [Server], the part after the
// codec header). The slice aliases shared memory that stays valid until
// the server is closed. The hook runs on the serving goroutine: requests
// wait until it returns. Default: none. Server only.
func WithOnConnect(fn func(metadata []byte)) Option {
	return func(o *options) { o.onConnect = fn }
}

// WithOnError sets a hook the server calls for errors that no caller can
// receive: handler errors (the client gets them as error responses),
// failures to connect back to a client or to write a response, a client
// that died. Calls are serialised. Default: none; errors are still logged,
// see [WithLogger]. Server only.
func WithOnError(fn func(error)) Option {
	return func(o *options) { o.onError = fn }
}

// WithLogger logs the server's errors at level WARN and client
// connections at INFO to l, and passes l to the core. Default: standard
// error at the level of ZEROBUFFER_LOG_LEVEL (DEBUG, INFO, WARN, ERROR)
// with the attribute component=duplex, silent when it is unset. Server
// only.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.logger = l }
}

// WithWorkers makes the server run up to n handlers at once. Requests are
// still answered in request order: an in-order sequencer writes each
// response when every earlier one is written. With n > 1 each response is
// built in heap memory and copied into the ring once (the request is
// still read in place). Default 1: one request at a time on the serving
// goroutine, responses written straight into the ring. Server only.
func WithWorkers(n int) Option {
	return func(o *options) { o.workers = n }
}

// WithConnectTimeout sets how long the server keeps trying to connect to
// a new client's response buffer (the client creates it before it
// connects to the request buffer, so normally the first attempt works).
// Requests of a client the server cannot reach are dropped. Default 5s,
// as in the C++ server. Server only.
func WithConnectTimeout(d time.Duration) Option {
	return func(o *options) { o.connectTimeout = d }
}

// WithoutCodecCheck disables the codec declaration of the typed [Server]
// and [Client]: nothing is written into the metadata and the peer's
// metadata is not checked. Use it with peers that do not write the
// "zerobuffer-codec=" header, such as the C++, C# and Python
// implementations. Default: check.
func WithoutCodecCheck() Option {
	return func(o *options) { o.noCheck = true }
}

func buildOptions(opts []Option) (options, error) {
	def := core.BufferConfig{MetadataSize: DefaultMetadataSize, PayloadSize: DefaultPayloadSize}
	o := options{reqCfg: def, respCfg: def, workers: 1, connectTimeout: defaultConnectTimeout}
	for _, fn := range opts {
		if fn != nil {
			fn(&o)
		}
	}
	switch {
	case o.workers < 1 || o.workers > maxWorkers:
		return o, fmt.Errorf("zerobuffer: duplex: workers %d out of range [1, %d]", o.workers, maxWorkers)
	case o.connectTimeout <= 0:
		return o, fmt.Errorf("zerobuffer: duplex: connect timeout %v must be positive", o.connectTimeout)
	case o.reqCfg.PayloadSize < 0 || o.reqCfg.MetadataSize < 0:
		return o, fmt.Errorf("zerobuffer: duplex: invalid request buffer config %+v", o.reqCfg)
	case o.respCfg.PayloadSize < 0 || o.respCfg.MetadataSize < 0:
		return o, fmt.Errorf("zerobuffer: duplex: invalid response buffer config %+v", o.respCfg)
	}
	o.reqCfg, o.respCfg = withDefaults(o.reqCfg), withDefaults(o.respCfg)
	if o.logger == nil {
		o.logger = logenv.FromEnv("duplex") // silent unless ZEROBUFFER_LOG_LEVEL is set
	} else {
		o.coreOpts = append([]core.Option{core.WithLogger(o.logger)}, o.coreOpts...)
	}
	return o, nil
}

// withDefaults fills the zero sizes of cfg as the core would
// (core.BufferConfig.WithDefaults), so that the typed layer's metadata
// check sees the real block size.
func withDefaults(cfg core.BufferConfig) core.BufferConfig { return cfg.WithDefaults() }

// RequestName returns the name of the request buffer of channel name
// ("NAME_request"): created by the server, written by the client.
func RequestName(name string) string { return name + "_request" }

// ResponseName returns the name of the response buffer of channel name
// ("NAME_response"): created by the client, written by the server.
func ResponseName(name string) string { return name + "_response" }

func validateName(name string) error {
	if name == "" || len(name) > MaxNameLen {
		return fmt.Errorf("%w: channel name of %d bytes, want 1..%d", core.ErrInvalidName, len(name), MaxNameLen)
	}
	return nil
}
