package typed

import "github.com/zerobuffer/zerobuffer-go/core"

// Option configures a [Sender], [Receiver] or [ViewReceiver]. Options that
// do not apply to a side are ignored by it.
type Option func(*options)

type options struct {
	userMetadata []byte
	noCheck      bool
	coreOpts     []core.Option
	chanBuffer   int
	capMsgs      int // WithCapacity: messages
	capMax       int // WithCapacity: bytes per encoded message
}

func buildOptions(opts []Option) options {
	var o options
	for _, fn := range opts {
		if fn != nil {
			fn(&o)
		}
	}
	return o
}

// WithMetadata appends p to the metadata a [Sender] writes after its codec
// header ("zerobuffer-codec=NAME\n"). The receiver's buffer must have room
// for both (core.BufferConfig.MetadataSize). Default: none.
func WithMetadata(p []byte) Option {
	return func(o *options) { o.userMetadata = append([]byte(nil), p...) }
}

// WithoutCodecCheck disables the codec declaration: a [Sender] writes only
// the [WithMetadata] bytes (if any) and a receiver accepts frames whatever
// the metadata says. Use it to talk to peers that do not write the header,
// e.g. C++, C# or Python writers. Default: check.
func WithoutCodecCheck() Option {
	return func(o *options) { o.noCheck = true }
}

// WithCoreOptions passes opts to core.NewReader or core.NewWriter in
// [Listen], [ListenView] and [Dial]. Default: none.
func WithCoreOptions(opts ...core.Option) Option {
	return func(o *options) { o.coreOpts = append(o.coreOpts, opts...) }
}

// WithChanBuffer sets the capacity of the channel returned by
// [Receiver.C]. Default 0 (unbuffered). Negative values count as 0.
func WithChanBuffer(n int) Option {
	return func(o *options) { o.chanBuffer = max(n, 0) }
}

// WithCapacity sizes the ring of [Listen] and [ListenView] in messages, as
// a Go channel is sized: room for n messages of up to maxSize encoded
// bytes each in flight at once (the sender blocks when n such messages
// are unreleased), i.e. a payload ring of n*(maxSize+16) bytes (16 is the
// frame header), and at least 2*(maxSize+16) so that one message of
// maxSize always fits (a frame wraps at the ring's end). It raises
// core.BufferConfig.PayloadSize when that is smaller; a larger
// PayloadSize is kept. Smaller messages fit more. n and maxSize below 1
// count as 1. Default: the BufferConfig as given.
func WithCapacity(n, maxSize int) Option {
	return func(o *options) { o.capMsgs, o.capMax = max(n, 1), max(maxSize, 1) }
}
