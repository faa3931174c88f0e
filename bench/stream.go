package bench

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"
)

// Kernel stream transports: os.Pipe, Unix domain socket and TCP over
// 127.0.0.1. Every message travels as a 4-byte little-endian length
// followed by the payload, written with one Write call per message (no
// user-space batching: each message is handed to the kernel as soon as it
// exists, as a message-passing API must). The receiver reads through a
// 256 KiB bufio.Reader, which lets it pick up several small messages per
// system call. TCP connections keep Go's default TCP_NODELAY.

const streamPrefix = 4

var sockSeq atomic.Uint64

// streamFrame returns a buffer holding the length prefix and the template.
func streamFrame(m *message) []byte {
	b := make([]byte, streamPrefix+len(m.tmpl))
	binary.LittleEndian.PutUint32(b, uint32(len(m.tmpl)))
	copy(b[streamPrefix:], m.tmpl)
	return b
}

// readStream reads one length-prefixed message into buf (which has room
// for prefix and payload) and returns io.EOF at a clean end of stream.
func readStream(r io.Reader, buf []byte) error {
	if _, err := io.ReadFull(r, buf[:streamPrefix]); err != nil {
		return err // io.EOF only when nothing of a new message was read
	}
	if n := binary.LittleEndian.Uint32(buf); int(n) != len(buf)-streamPrefix {
		return fmt.Errorf("bench: stream message of %d bytes, want %d", n, len(buf)-streamPrefix)
	}
	_, err := io.ReadFull(r, buf[streamPrefix:])
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// streamSetup prepares a stream case: for a pipe it creates the pipes
// (the child's ends are returned as files to pass on, the parent's as
// mine: read end, write end); for sockets it sets the address the child
// listens on in the job.
func streamSetup(kind string, duplex bool) (j job, childFiles []*os.File, mine [2]*os.File, err error) {
	switch kind {
	case TransportPipe:
		r1, w1, err := os.Pipe()
		if err != nil {
			return j, nil, mine, err
		}
		childFiles, mine[1] = []*os.File{r1}, w1
		if duplex {
			r2, w2, err := os.Pipe()
			if err != nil {
				r1.Close()
				w1.Close()
				return j, nil, mine, err
			}
			childFiles, mine[0] = append(childFiles, w2), r2
		}
	case TransportUDS:
		name := "zbbench-" + strconv.Itoa(os.Getpid()) + "-" + strconv.FormatUint(sockSeq.Add(1), 10) + ".sock"
		j.Name = filepath.Join(os.TempDir(), name)
	case TransportTCP:
		j.Name = "127.0.0.1:0"
	default:
		return j, nil, mine, fmt.Errorf("bench: unknown stream transport %q", kind)
	}
	j.Mode = kind
	return j, childFiles, mine, nil
}

// streamConnect starts the child for j and returns the parent's
// connection to it.
func streamConnect(ctx context.Context, j job, childFiles []*os.File, mine [2]*os.File) (*peer, io.ReadWriteCloser, error) {
	p, err := startPeer(j, childFiles...)
	for _, f := range childFiles {
		f.Close()
	}
	if err != nil {
		closeAll(mine[:])
		return nil, nil, err
	}
	addr, err := p.ready(ctx)
	if err != nil {
		closeAll(mine[:])
		p.kill()
		return nil, nil, err
	}
	if j.Mode == TransportPipe {
		return p, pipePair{r: mine[0], w: mine[1]}, nil
	}
	network := map[string]string{TransportUDS: "unix", TransportTCP: "tcp"}[j.Mode]
	c, err := (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, network, addr)
	if err != nil {
		p.kill()
		return nil, nil, err
	}
	return p, c, nil
}

func closeAll(fs []*os.File) {
	for _, f := range fs {
		if f != nil {
			f.Close()
		}
	}
}

// pipePair joins the two pipe ends one side keeps.
type pipePair struct{ r, w *os.File }

// Read reads from the read end.
func (p pipePair) Read(b []byte) (int, error) { return p.r.Read(b) }

// Write writes to the write end.
func (p pipePair) Write(b []byte) (int, error) { return p.w.Write(b) }

// Close closes both ends.
func (p pipePair) Close() error { closeAll([]*os.File{p.r, p.w}); return nil }

// streamThroughput sends messages to a child receiver for d.
func streamThroughput(ctx context.Context, kind string, size int, d time.Duration) (sideResult, sideResult, error) {
	j, files, mine, err := streamSetup(kind, false)
	if err != nil {
		return sideResult{}, sideResult{}, err
	}
	j.Role, j.Size = "stream-recv", size
	p, conn, err := streamConnect(ctx, j, files, mine)
	if err != nil {
		return sideResult{}, sideResult{}, err
	}
	defer p.stop()
	buf := streamFrame(newMessage(size))
	send, err := sendLoop(ctx, size, d, func(seq uint64) error {
		stamp(buf[streamPrefix:], seq)
		_, err := conn.Write(buf)
		return err
	})
	conn.Close()
	if err != nil {
		p.kill()
		return send, sideResult{}, err
	}
	recv, err := p.result(ctx, resultTimeout(d))
	return send, recv, err
}

// streamRTT measures request/reply round trips with a child echo server.
func streamRTT(ctx context.Context, kind string, size int, d, gap time.Duration) (*Histogram, sideResult, sideResult, error) {
	j, files, mine, err := streamSetup(kind, true)
	if err != nil {
		return nil, sideResult{}, sideResult{}, err
	}
	j.Role, j.Size = "stream-echo", size
	p, conn, err := streamConnect(ctx, j, files, mine)
	if err != nil {
		return nil, sideResult{}, sideResult{}, err
	}
	defer p.stop()
	m := newMessage(size)
	out, in := streamFrame(m), make([]byte, streamPrefix+size)
	h, client, err := rttLoop(ctx, d, gap, func(seq uint64) error {
		stamp(out[streamPrefix:], seq)
		if _, err := conn.Write(out); err != nil {
			return err
		}
		if err := readStream(conn, in); err != nil {
			return err
		}
		return m.verify(in[streamPrefix:], seq)
	})
	conn.Close()
	if err != nil {
		p.kill()
		return h, client, sideResult{}, err
	}
	server, err := p.result(ctx, resultTimeout(d))
	return h, client, server, err
}

// childStream opens the child's end: the inherited pipe descriptors or
// the first connection accepted on the socket it listens on.
func childStream(j job, ready func(addr string) error) (io.ReadWriteCloser, error) {
	if j.Mode == TransportPipe {
		rw := pipePair{r: os.NewFile(3, "pipe-in")}
		if j.Role == "stream-echo" {
			rw.w = os.NewFile(4, "pipe-out")
		}
		return rw, ready("")
	}
	network := map[string]string{TransportUDS: "unix", TransportTCP: "tcp"}[j.Mode]
	ln, err := net.Listen(network, j.Name)
	if err != nil {
		return nil, err
	}
	defer ln.Close()
	if err := ready(ln.Addr().String()); err != nil {
		return nil, err
	}
	return ln.Accept()
}

func streamRecvChild(_ context.Context, j job, ready func(addr string) error) (sideResult, error) {
	conn, err := childStream(j, ready)
	if err != nil {
		return sideResult{}, err
	}
	defer conn.Close()
	m := newMessage(j.Size)
	br := bufio.NewReaderSize(conn, 256<<10)
	buf := make([]byte, streamPrefix+j.Size)
	return recvLoop(j.Size, func(seq uint64) error {
		if err := readStream(br, buf); err != nil {
			return err
		}
		return m.verify(buf[streamPrefix:], seq)
	})
}

func streamEchoChild(_ context.Context, j job, ready func(addr string) error) (sideResult, error) {
	conn, err := childStream(j, ready)
	if err != nil {
		return sideResult{}, err
	}
	defer conn.Close()
	buf := make([]byte, streamPrefix+j.Size)
	return echoLoop(func(uint64) error {
		if err := readStream(conn, buf); err != nil {
			return err
		}
		_, err := conn.Write(buf)
		return err
	})
}

// resultTimeout is how long the parent waits for a child's result after
// the timed part of a case.
func resultTimeout(d time.Duration) time.Duration { return 30*time.Second + 4*d }
