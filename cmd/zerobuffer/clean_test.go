//go:build linux

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/zerobuffer/zerobuffer-go/platform"
)

func TestClean_RefusesLiveBuffer(t *testing.T) {
	name := uniqueName(t)
	_, res := startRecv(t, nil, platform.Dirs{}, name)
	r := zb(t, "", "clean", name)
	if r.code != exitError || !strings.Contains(r.stderr, "live reader") {
		t.Errorf("clean of a live buffer: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	r = zb(t, "", "clean", "--stale", name)
	if r.code != exitOK || !strings.Contains(r.stdout, "skipped") {
		t.Errorf("clean --stale of a live buffer: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	r = zb(t, "", "clean", "--dry-run", name)
	if r.code != exitError {
		t.Errorf("clean --dry-run of a live buffer: exit %d, stdout %q", r.code, r.stdout)
	}
	if left := objectsLeft(t, name, platform.Dirs{}); len(left) != 4 {
		t.Fatalf("clean touched a live buffer: only %v left", left)
	}
	// The buffer still works end to end.
	if s := zb(t, "still here\n", "send", name); s.code != exitOK {
		t.Fatalf("send after refused clean: exit %d, %q", s.code, s.stderr)
	}
	if r := wait(t, res); r.code != exitOK || r.stdout != "still here\n" {
		t.Fatalf("recv: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

// killedReader leaves a stale buffer behind: a recv process SIGKILLed
// after creating it.
func killedReader(t *testing.T, env []string, d platform.Dirs, name string) {
	t.Helper()
	cmd, res := startRecv(t, env, d, name)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if r := wait(t, res); r.code != -1 {
		t.Fatalf("killed recv: exit %d", r.code)
	}
}

func TestClean_StaleAfterSIGKILL(t *testing.T) {
	name := uniqueName(t)
	killedReader(t, nil, platform.Dirs{}, name)
	if left := objectsLeft(t, name, platform.Dirs{}); len(left) != 4 {
		t.Fatalf("a SIGKILLed reader should leave 4 objects, found %v", left)
	}
	r := zb(t, "", "ls", "--json")
	var bufs []bufferInfo
	if err := json.Unmarshal([]byte(r.stdout), &bufs); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, b := range bufs {
		if b.Name == name {
			found = true
			if !b.Stale || b.ReaderAlive || b.ReaderLock != "free" {
				t.Errorf("ls of a killed reader's buffer: %+v", b)
			}
		}
	}
	if !found {
		t.Fatalf("ls does not list %s", name)
	}
	r = zb(t, "", "clean", "--stale", "--dry-run", name)
	if r.code != exitOK || !strings.Contains(r.stdout, "would remove "+name) || len(objectsLeft(t, name, platform.Dirs{})) != 4 {
		t.Fatalf("dry run: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	r = zb(t, "", "clean", "--stale", name)
	if r.code != exitOK || !strings.Contains(r.stdout, "removed "+name) {
		t.Fatalf("clean --stale: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if left := objectsLeft(t, name, platform.Dirs{}); len(left) > 0 {
		t.Fatalf("clean --stale left %v", left)
	}
	if r := zb(t, "", "inspect", name); r.code != exitNotFound {
		t.Errorf("inspect after clean: exit %d", r.code)
	}
}

// TestClean_StaleEverywhere cleans every stale buffer of a private
// directory pair, so that it cannot touch other programs' buffers.
func TestClean_StaleEverywhere(t *testing.T) {
	root := t.TempDir()
	d := platform.Dirs{Shm: filepath.Join(root, "shm"), Lock: filepath.Join(root, "lock")}
	if err := os.MkdirAll(d.Shm, 0o700); err != nil {
		t.Fatal(err)
	}
	env := []string{"ZEROBUFFER_SHM_DIR=" + d.Shm, "ZEROBUFFER_LOCK_DIR=" + d.Lock}
	stale, live := "zbcli-stale", "zbcli-live"
	killedReader(t, env, d, stale)
	_, res := startRecv(t, env, d, live)
	r := zbEnv(t, env, "", "clean", "--stale")
	if r.code != exitOK || !strings.Contains(r.stdout, "removed "+stale) || strings.Contains(r.stdout, live) {
		t.Fatalf("clean --stale: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if left := objectsLeft(t, stale, d); len(left) > 0 {
		t.Errorf("stale objects left: %v", left)
	}
	if left := objectsLeft(t, live, d); len(left) != 4 {
		t.Errorf("live buffer damaged: %v", left)
	}
	if s := zbEnv(t, env, "ok\n", "send", live); s.code != exitOK {
		t.Fatalf("send: %d %q", s.code, s.stderr)
	}
	if r := wait(t, res); r.code != exitOK || r.stdout != "ok\n" {
		t.Fatalf("recv: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}
