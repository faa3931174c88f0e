package duplex

import (
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/zerobuffer/zerobuffer-go/codec/msgpack"
	"github.com/zerobuffer/zerobuffer-go/core"
	"github.com/zerobuffer/zerobuffer-go/platform"
)

// TestDefaults_ZeroConfig: a server and a client built without buffer
// options, or with a zero core.BufferConfig, work, and each buffer has the
// documented default size (1 MiB ring, 4 KiB metadata), not 256 MiB.
func TestDefaults_ZeroConfig(t *testing.T) {
	for _, tc := range []struct {
		what string
		opts []Option
	}{
		{"no options", nil},
		{"zero BufferConfig", []Option{WithRequestBuffer(core.BufferConfig{}), WithResponseBuffer(core.BufferConfig{})}},
	} {
		t.Run(tc.what, func(t *testing.T) {
			name := testChannel(t, nil)
			srv, err := NewServer(name, msgpack.New[addReq](), msgpack.New[addResp](), addHandler, tc.opts...)
			typedServer(t, srv, err)
			c, err := Dial(ctxT(t, 10*time.Second), name, msgpack.New[addReq](), msgpack.New[addResp](), tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			resp, err := c.Call(ctxT(t, 30*time.Second), addReq{A: 40, B: 2})
			if err != nil || resp.Sum != 42 {
				t.Fatalf("Call: %+v, %v", resp, err)
			}
			if runtime.GOOS != "linux" {
				return
			}
			const want = 128 + DefaultMetadataSize + DefaultPayloadSize
			for _, b := range []string{RequestName(name), ResponseName(name)} {
				n, err := platform.ObjectNames(b, platform.Dirs{})
				if err != nil {
					t.Fatal(err)
				}
				st, err := os.Stat(n.Shm)
				if err != nil {
					t.Fatal(err)
				}
				if st.Size() != want {
					t.Errorf("%s: %d bytes of shared memory, want %d", b, st.Size(), want)
				}
			}
		})
	}
}
