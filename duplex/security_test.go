//go:build linux

package duplex

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zerobuffer/zerobuffer-go/core"
	"github.com/zerobuffer/zerobuffer-go/internal/testproc"
)

const attackerUID = 65534

func init() { childRoles["sec-client"] = roleSecClient }

// roleSecClient (args: name shm lock) is another user's client: it makes
// its own NAME_response and sends one request.
func roleSecClient(c *testproc.Child, a []string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cl, err := DialRaw(ctx, a[0], WithResponseBuffer(core.BufferConfig{PayloadSize: 64 << 10}),
		WithCoreOptions(core.WithDirs(a[1], a[2]), core.WithFileMode(0o666), core.WithAllowedOwners(0)))
	if err != nil {
		c.Printf("err dial: %v", err)
		return 0
	}
	defer cl.Close()
	cctx, ccancel := context.WithTimeout(ctx, 2*time.Second)
	defer ccancel()
	resp, err := cl.Call(cctx, []byte("question"))
	if err != nil {
		c.Printf("err call: %v", err)
		return 0
	}
	c.Printf("resp %s", resp)
	return 0
}

// sharedDir returns a temporary directory of mode mode.
func sharedDir(t *testing.T, mode os.FileMode) string {
	t.Helper()
	d, err := os.MkdirTemp("", "zbsec")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	if err := os.Chmod(d, mode); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestServer_RefusesForeignResponseBuffer: a server connects back only to
// a NAME_response of its own user (or of users it allows), so another
// user who stands up NAME_response never receives a response.
func TestServer_RefusesForeignResponseBuffer(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skipf("skipped: starting a client as uid %d needs root", attackerUID)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(sharedDir(t, 0o755), "duplex.test")
	if err := os.Link(exe, bin); err != nil {
		t.Skipf("skipped: cannot link the test binary where uid %d can run it: %v", attackerUID, err)
	}
	for _, tc := range []struct {
		label string
		allow []uint32
		want  string
	}{{"default", nil, "err "}, {"allowed", []uint32{attackerUID}, "resp answer"}} {
		t.Run(tc.label, func(t *testing.T) {
			shm, lock := sharedDir(t, 0o777|os.ModeSticky), sharedDir(t, 0o777|os.ModeSticky)
			name := "zbsec-" + tc.label + "-" + strings.ReplaceAll(t.Name(), "/", "-")
			errs := make(chan error, 16)
			srv, err := NewRawServer(name, func(ctx context.Context, req []byte, rw *ResponseWriter) error {
				return rw.Write(ctx, []byte("answer"))
			}, WithRequestBuffer(core.BufferConfig{PayloadSize: 64 << 10}), WithConnectTimeout(2*time.Second),
				WithCoreOptions(core.WithDirs(shm, lock), core.WithFileMode(0o666), core.WithAllowedOwners(tc.allow...)),
				WithOnError(func(err error) { errs <- err }))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			served := make(chan error, 1)
			go func() { served <- srv.Serve(ctx) }()
			defer func() { cancel(); srv.Close(); <-served }()
			p := testproc.StartAs(t, bin, attackerUID, attackerUID, "sec-client", name, shm, lock)
			line := p.Expect("", 30*time.Second)
			if !strings.HasPrefix(line, tc.want) {
				t.Fatalf("other user's client: %q, want %q", line, tc.want)
			}
			if tc.allow != nil {
				return
			}
			select {
			case err := <-errs:
				if !errors.Is(err, core.ErrForeignOwner) {
					t.Errorf("server error %v, want ErrForeignOwner", err)
				}
				t.Logf("server refused: %v", err)
			case <-time.After(10 * time.Second):
				t.Error("the server reported no refusal")
			}
		})
	}
}
