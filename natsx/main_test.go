package natsx_test

import (
	"os"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

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
