package natsx_test

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/zerobuffer/zerobuffer-go/internal/testproc"
	"github.com/zerobuffer/zerobuffer-go/natsx"
)

func TestMain(m *testing.M) {
	testproc.Main(roles)
	code := m.Run()
	if shared != nil {
		shared.Close()
	}
	os.Exit(code)
}

var (
	sharedOnce sync.Once
	shared     *natsx.Embedded
	sharedErr  error
)

// server returns the package's embedded server, started on first use.
func server(t testing.TB) *natsx.Embedded {
	t.Helper()
	sharedOnce.Do(func() { shared, sharedErr = natsx.StartEmbedded(natsx.EmbeddedConfig{}) })
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return shared
}

// connectTimeout bounds a test client's connection to a server; nats.go's
// default (2 s) ran out in a child process on the loaded 2-core machine.
const connectTimeout = 20 * time.Second

// connect opens a client connection to url, closed at cleanup.
func connect(t testing.TB, url string, opts ...nats.Option) *nats.Conn {
	t.Helper()
	opts = append([]nats.Option{nats.Timeout(connectTimeout), nats.MaxReconnects(-1), nats.ReconnectWait(50 * time.Millisecond)}, opts...)
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// subject returns a channel subject unique to t.
func subject(t testing.TB) string {
	return "t." + testproc.Name(t, "zb", 40)
}

// testChannel is the setup of a test on one channel: a context that ends
// after d, the package's server URL, a connection to it and a subject
// unique to the test, whose stream and metadata are removed when the test
// ends.
func testChannel(t *testing.T, d time.Duration) (ctx context.Context, url string, nc *nats.Conn, subj string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	url = server(t).URL()
	nc = connect(t, url)
	subj = subject(t)
	t.Cleanup(func() {
		cancel()
		_ = natsx.Remove(context.Background(), nc, subj)
	})
	return ctx, url, nc, subj
}

// jsContext is jetstream.New(nc) that fails the test on error.
func jsContext(t *testing.T, nc *nats.Conn) jetstream.JetStream {
	t.Helper()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// restartable is an embedded server with a store of its own, which a test
// stops and starts again on the same port and store (a server restart).
type restartable struct {
	t     testing.TB
	store string
	port  int
	e     *natsx.Embedded
}

// startRestartable starts a restartable server; the running one is
// closed at cleanup.
func startRestartable(t testing.TB) *restartable {
	t.Helper()
	r := &restartable{t: t, store: t.TempDir()}
	r.start()
	r.port = r.e.Port()
	t.Cleanup(func() { r.e.Close() })
	return r
}

// start starts the server (again), on the first start's port.
func (r *restartable) start() {
	r.t.Helper()
	e, err := natsx.StartEmbedded(natsx.EmbeddedConfig{StoreDir: r.store, Port: r.port})
	if err != nil {
		r.t.Fatal(err)
	}
	r.e = e
}

// stop closes the server.
func (r *restartable) stop() { r.e.Close() }

// URL returns the server's client URL.
func (r *restartable) URL() string { return r.e.URL() }
