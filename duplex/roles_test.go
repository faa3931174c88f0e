package duplex

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/zerobuffer/zerobuffer-go/codec/msgpack"
	"github.com/zerobuffer/zerobuffer-go/internal/testproc"
)

// childRoles are the processes the cross-process tests start.
var childRoles = map[string]testproc.Role{
	"server": roleServer,
	"client": roleClient,
	"bench":  roleBench,
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// Typed test messages.
type addReq struct {
	A, B int64
	Note string
}

type addResp struct {
	Sum  int64
	Note string
}

func addHandler(_ context.Context, r addReq) (addResp, error) {
	if r.Note == "fail" {
		return addResp{}, fmt.Errorf("cannot add %d and %d", r.A, r.B)
	}
	return addResp{Sum: r.A + r.B, Note: r.Note}, nil
}

// server is what roleServer needs of RawServer and Server.
type server interface {
	Serve(ctx context.Context) error
	Shutdown(ctx context.Context) error
	Close() error
}

// roleServer: name mode reqPayload workers. Modes: echo, xor, sleep
// (100ms, then echo), hang (prints "busy", waits for ctx), report (echo,
// prints "answered N" after each response), typed (addReq -> addResp).
// Prints "ready"; the command "shutdown" shuts down gracefully; end of
// input closes.
func roleServer(c *testproc.Child, a []string) int {
	name, mode := a[0], a[1]
	opts := []Option{WithRequestBuffer(bufCfg(atoi(a[2]))), WithWorkers(atoi(a[3]))}
	var srv server
	var err error
	if mode == "typed" {
		srv, err = NewServer(name, msgpack.New[addReq](), msgpack.New[addResp](), addHandler, opts...)
	} else {
		srv, err = NewRawServer(name, childHandler(c, mode), opts...)
	}
	if err != nil {
		c.Printf("fail %v", err)
		return 1
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(context.Background()) }()
	c.Printf("ready")
	for {
		line, ok := c.Next()
		if !ok {
			srv.Close()
			<-errc
			return 0
		}
		if line == "shutdown" {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			err := srv.Shutdown(ctx)
			cancel()
			c.Printf("shutdown %v serve %v", err, <-errc)
			return 0
		}
	}
}

func childHandler(c *testproc.Child, mode string) HandlerFunc {
	var answered atomic.Int64
	return func(ctx context.Context, req []byte, resp *ResponseWriter) error {
		switch mode {
		case "xor":
			b, err := resp.Reserve(ctx, len(req))
			if err != nil {
				return err
			}
			for i, v := range req {
				b[i] = v ^ 0xff
			}
			return resp.Commit()
		case "sleep":
			time.Sleep(100 * time.Millisecond)
		case "hang":
			c.Printf("busy")
			<-ctx.Done()
			return ctx.Err()
		case "report":
			err := echo(ctx, req, resp)
			c.Printf("answered %d", answered.Add(1))
			return err
		}
		return echo(ctx, req, resp)
	}
}

// roleClient: name mode. Modes: hang (sends "hang" and 20 more requests,
// prints "sent", waits for the end of input or a kill), echo N (N checked echo
// calls, prints "ok N", waits for the end of input, closes).
func roleClient(c *testproc.Child, a []string) int {
	name, mode := a[0], a[1]
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := DialRaw(ctx, name, WithResponseBuffer(bufCfg(smallBuf)))
	if err != nil {
		c.Printf("fail dial: %v", err)
		return 1
	}
	defer cl.Close()
	switch mode {
	case "hang":
		for i := range 21 { // "hang", then 20 requests queued behind it
			req := []byte("hang")
			if i > 0 {
				req = payload(uint64(i), 100)
			}
			if err := cl.Send(ctx, req); err != nil {
				c.Printf("fail send: %v", err)
				return 1
			}
		}
		c.Printf("sent")
	case "echo":
		n := atoi(a[2])
		for i, size := range randSizes(uint64(os.Getpid()), n, 4096) {
			req := payload(uint64(i), size)
			resp, err := cl.Call(ctx, req)
			if err != nil {
				c.Printf("fail call %d: %v", i, err)
				return 1
			}
			if !bytes.Equal(resp, req) {
				c.Printf("fail call %d: wrong response of %d bytes", i, len(resp))
				return 1
			}
		}
		c.Printf("ok %d", n)
	}
	for {
		if _, ok := c.Next(); !ok {
			return 0
		}
	}
}

// roleBench: name sockPath. Serves the zero-copy echo on the duplex
// channel and on a Unix domain socket (4-byte length + payload frames),
// prints "ready", and stops at the end of input.
func roleBench(c *testproc.Child, a []string) int {
	name, sock := a[0], a[1]
	srv, err := NewRawServer(name, echo, WithRequestBuffer(bufCfg(bigBuf)))
	if err != nil {
		c.Printf("fail %v", err)
		return 1
	}
	ln, err := net.Listen("unix", sock)
	if err != nil {
		c.Printf("fail %v", err)
		return 1
	}
	go serveUDS(ln)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(context.Background()) }()
	c.Printf("ready")
	for {
		if _, ok := c.Next(); !ok {
			break
		}
	}
	ln.Close()
	srv.Close()
	if err := <-errc; !errors.Is(err, ErrServerClosed) {
		return 1
	}
	return 0
}
