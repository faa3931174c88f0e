package duplex

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zerobuffer/zerobuffer-go/codec"
	"github.com/zerobuffer/zerobuffer-go/codec/msgpack"
)

func dialAdd(t *testing.T, name string, opts ...Option) *Client[addReq, addResp] {
	t.Helper()
	opts = append([]Option{WithResponseBuffer(bufCfg(smallBuf))}, opts...)
	c, err := Dial(ctxT(t, 10*time.Second), name, msgpack.New[addReq](), msgpack.New[addResp](), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func typedServer[Req, Resp any](t *testing.T, s *Server[Req, Resp], err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	serve(t, s)
}

func TestServer_CrossProcess(t *testing.T) {
	name := testChannel(t, nil)
	p := startServerChild(t, name, "typed", smallBuf, 1)
	c := dialAdd(t, name)
	ctx := ctxT(t, 30*time.Second)
	resp, err := c.Call(ctx, addReq{A: 40, B: 2, Note: "answer"})
	if err != nil || resp != (addResp{Sum: 42, Note: "answer"}) {
		t.Fatalf("Call: %+v, %v", resp, err)
	}
	_, err = c.Call(ctx, addReq{A: 1, B: 2, Note: "fail"})
	var he *HandlerError
	if !errors.As(err, &he) || he.Message != "cannot add 1 and 2" {
		t.Fatalf("failing call: %v, want HandlerError \"cannot add 1 and 2\"", err)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 100 {
				r, err := c.Call(ctx, addReq{A: int64(g), B: int64(i)})
				if err != nil || r.Sum != int64(g+i) {
					t.Errorf("goroutine %d call %d: %+v, %v", g, i, r, err)
					return
				}
			}
		})
	}
	wg.Wait()
	stopChild(t, p)
}

func TestServer_CodecCheck(t *testing.T) {
	newAdd := func(name string, opts ...Option) (*Server[addReq, addResp], error) {
		opts = append([]Option{WithRequestBuffer(bufCfg(smallBuf))}, opts...)
		return NewServer(name, msgpack.New[addReq](), msgpack.New[addResp](), addHandler, opts...)
	}
	req, err := codec.Marshal[addReq](msgpack.New[addReq](), addReq{A: 1, B: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("raw client without declaration", func(t *testing.T) {
		name := testChannel(t, nil)
		s, err := newAdd(name)
		typedServer(t, s, err)
		_, err = dial(t, name).Call(ctxT(t, 10*time.Second), req)
		if !errors.Is(err, ErrHandler) || !strings.Contains(err.Error(), codec.ErrMismatch.Error()) {
			t.Errorf("got %v, want an error response naming the codec mismatch", err)
		}
	})
	t.Run("without check", func(t *testing.T) {
		name := testChannel(t, nil)
		user := make(chan string, 1)
		s, err := newAdd(name, WithoutCodecCheck(), WithOnConnect(func(md []byte) { user <- string(md) }))
		typedServer(t, s, err)
		resp, err := dial(t, name, WithMetadata([]byte("foreign"))).Call(ctxT(t, 10*time.Second), req)
		if err != nil {
			t.Fatal(err)
		}
		if r, err := msgpack.New[addResp]().Decode(resp); err != nil || r.Sum != 2 {
			t.Errorf("response %+v, %v", r, err)
		}
		if md := <-user; md != "foreign" {
			t.Errorf("OnConnect got %q", md)
		}
	})
	t.Run("user metadata after the codec header", func(t *testing.T) {
		name := testChannel(t, nil)
		user := make(chan string, 1)
		s, err := newAdd(name, WithOnConnect(func(md []byte) { user <- string(md) }))
		typedServer(t, s, err)
		c := dialAdd(t, name, WithMetadata([]byte("tenant=7")))
		if r, err := c.Call(ctxT(t, 10*time.Second), addReq{A: 2, B: 3}); err != nil || r.Sum != 5 {
			t.Fatalf("call: %+v, %v", r, err)
		}
		if md := <-user; md != "tenant=7" {
			t.Errorf("OnConnect got %q, want the user part", md)
		}
	})
	t.Run("client expects another response codec", func(t *testing.T) {
		name := testChannel(t, nil)
		s, err := newAdd(name)
		typedServer(t, s, err)
		c, err := Dial(ctxT(t, 10*time.Second), name, msgpack.New[addReq](), codec.RawCopy{},
			WithResponseBuffer(bufCfg(smallBuf)))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Call(ctxT(t, 10*time.Second), addReq{A: 1}); !errors.Is(err, codec.ErrMismatch) {
			t.Errorf("got %v, want codec.ErrMismatch", err)
		}
	})
}

func TestNewViewServer_RawViews(t *testing.T) {
	name := testChannel(t, nil)
	upper := func(_ context.Context, req []byte) ([]byte, error) { return bytes.ToUpper(req), nil }
	s, err := NewViewServer(name, codec.Raw{}, codec.Raw{}, upper, WithRequestBuffer(bufCfg(smallBuf)))
	typedServer(t, s, err)
	c, err := Dial(ctxT(t, 10*time.Second), name, codec.Raw{}, codec.RawCopy{}, WithResponseBuffer(bufCfg(smallBuf)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if resp, err := c.Call(ctxT(t, 10*time.Second), []byte("shout")); err != nil || string(resp) != "SHOUT" {
		t.Errorf("got %q, %v", resp, err)
	}
}
