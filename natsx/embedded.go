package natsx

import (
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// EmbeddedConfig configures [StartEmbedded]. The zero value is a
// JetStream-enabled server on 127.0.0.1 at a random port with its store in
// a new temporary directory that Close removes.
type EmbeddedConfig struct {
	// Host to listen on. It must be a loopback address (127.0.0.0/8, ::1,
	// or "localhost"); anything else fails with [ErrNotLoopback]. Default
	// "127.0.0.1".
	Host string
	// Port to listen on; 0 picks a free port.
	Port int
	// StoreDir is the JetStream store. Empty: a new temporary directory,
	// removed by Close. A directory given here is kept, so a server started
	// again on it finds its streams and messages.
	StoreDir string
	// ServerName, ClusterName, ClusterPort and Routes form a JetStream
	// cluster of embedded servers (all on loopback). Leave them empty for a
	// single server.
	ServerName  string
	ClusterName string
	ClusterPort int
	Routes      []string
	// ReadyTimeout bounds the wait for the server to accept clients.
	// Default 10s.
	ReadyTimeout time.Duration
}

// Embedded is an in-process nats-server with JetStream on, listening on
// loopback only. It is what examples, tests and the CLI use when no NATS
// URL is given.
type Embedded struct {
	s       *server.Server
	tempDir string
}

// StartEmbedded starts an in-process nats-server and waits until it
// accepts clients.
func StartEmbedded(cfg EmbeddedConfig) (*Embedded, error) {
	host := cfg.Host
	if host == "" {
		host = "127.0.0.1"
	}
	if err := checkLoopback(host); err != nil {
		return nil, err
	}
	e := &Embedded{}
	dir := cfg.StoreDir
	if dir == "" {
		d, err := os.MkdirTemp("", "zerobuffer-nats-")
		if err != nil {
			return nil, fmt.Errorf("natsx: embedded store: %w", err)
		}
		dir, e.tempDir = d, d
	}
	port := cfg.Port
	if port == 0 {
		port = server.RANDOM_PORT
	}
	opts := &server.Options{
		ServerName: cfg.ServerName,
		Host:       host,
		Port:       port,
		JetStream:  true,
		StoreDir:   dir,
		NoSigs:     true,
		NoLog:      true,
		// No HTTP monitoring, no leaf nodes, no websocket: only the client
		// port (and the cluster port if asked) are opened.
	}
	if cfg.ClusterName != "" {
		opts.Cluster.Name = cfg.ClusterName
		opts.Cluster.Host = host
		opts.Cluster.Port = cfg.ClusterPort
		for _, r := range cfg.Routes {
			u := server.RoutesFromStr(r)
			if len(u) == 0 {
				return nil, e.fail(fmt.Errorf("%w: route %q", ErrBadURL, r))
			}
			if err := checkLoopback(u[0].Hostname()); err != nil {
				return nil, e.fail(err)
			}
			opts.Routes = append(opts.Routes, u...)
		}
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, e.fail(fmt.Errorf("natsx: embedded server: %w", err))
	}
	e.s = s
	s.Start()
	wait := cfg.ReadyTimeout
	if wait <= 0 {
		wait = 10 * time.Second
	}
	if !s.ReadyForConnections(wait) {
		s.Shutdown()
		return nil, e.fail(errors.New("natsx: embedded server not ready in time"))
	}
	return e, nil
}

func (e *Embedded) fail(err error) error {
	if e.tempDir != "" {
		os.RemoveAll(e.tempDir)
	}
	return err
}

// checkLoopback refuses every host that is not a loopback address.
func checkLoopback(host string) error {
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%w: %q", ErrNotLoopback, host)
	}
	return nil
}

// URL returns the client URL, e.g. "nats://127.0.0.1:40123".
func (e *Embedded) URL() string { return e.s.ClientURL() }

// Port returns the client port the server listens on.
func (e *Embedded) Port() int {
	if a, ok := e.s.Addr().(*net.TCPAddr); ok {
		return a.Port
	}
	return 0
}

// Server returns the underlying nats-server, e.g. for its monitoring
// calls.
func (e *Embedded) Server() *server.Server { return e.s }

// Close shuts the server down, waits for it, and removes the store
// directory if StartEmbedded created it. Close is idempotent.
func (e *Embedded) Close() error {
	e.s.Shutdown()
	e.s.WaitForShutdown()
	if e.tempDir != "" {
		err := os.RemoveAll(e.tempDir)
		e.tempDir = ""
		return err
	}
	return nil
}
