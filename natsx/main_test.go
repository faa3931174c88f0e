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
