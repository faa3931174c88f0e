package duplex

import (
	"testing"
	"time"

	"github.com/zerobuffer/zerobuffer-go/codec/msgpack"
)

// TestStats_ClientAgainstServerProcess: a client's counters match the
// calls it made to a server in another process; an in-process server's
// counters match its client's.
func TestStats_ClientAgainstServerProcess(t *testing.T) {
	name := testChannel(t, nil)
	p := startServerChild(t, name, "typed", smallBuf, 1)
	c := dialAdd(t, name)
	ctx := ctxT(t, 30*time.Second)
	const calls = 25
	for i := range calls {
		if _, err := c.Call(ctx, addReq{A: int64(i), B: 1}); err != nil {
			t.Fatal(err)
		}
	}
	st := c.Stats()
	if st.Request.Frames != calls || st.Response.Frames != calls || !st.Request.PeerAlive || !st.Response.PeerAlive {
		t.Errorf("client after %d calls: %+v", calls, st)
	}
	if st.Request.Bytes == 0 || st.Response.Bytes == 0 {
		t.Errorf("client counted no bytes: %+v", st)
	}
	stopChild(t, p)
}

func TestStats_ServerInProcess(t *testing.T) {
	name := testChannel(t, nil)
	srv, err := NewServer(name, msgpack.New[addReq](), msgpack.New[addResp](), addHandler, WithRequestBuffer(bufCfg(smallBuf)))
	typedServer(t, srv, err)
	c := dialAdd(t, name)
	ctx := ctxT(t, 30*time.Second)
	for i := range 10 {
		if _, err := c.Call(ctx, addReq{A: int64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	ss, cs := srv.Stats(), c.Stats()
	if ss.Request.Frames != 10 || ss.Response.Frames != 10 {
		t.Errorf("server after 10 calls: %+v", ss)
	}
	if ss.Request.Bytes != cs.Request.Bytes || ss.Response.Bytes != cs.Response.Bytes {
		t.Errorf("server and client disagree on bytes: server %d/%d, client %d/%d",
			ss.Request.Bytes, ss.Response.Bytes, cs.Request.Bytes, cs.Response.Bytes)
	}
}
