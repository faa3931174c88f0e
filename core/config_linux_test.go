//go:build linux

package core

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zerobuffer/zerobuffer-go/internal/testproc"
)

func init() {
	childRoles["config-enospc"] = roleConfigENOSPC
}

// TestNewReader_NoSpaceNamesDirAndSize creates a 1 GiB buffer in a 64 MiB
// tmpfs (mounted by a child in its own user and mount namespace, so that
// nothing outlives the test): the error must match ErrNoSpace and
// syscall.ENOSPC, name the directory and the size, and leave nothing behind.
func TestNewReader_NoSpaceNamesDirAndSize(t *testing.T) {
	name := testName(t)
	base := t.TempDir()
	shm, lock := filepath.Join(base, "shm"), filepath.Join(base, "lock")
	for _, d := range []string{shm, lock} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	argv := append(strings.Fields(os.Getenv("ZB_EXEC_PREFIX")), exe, "-test.run=^$")
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), testprocRoleEnv+"=config-enospc", testprocArgsEnv+"="+strings.Join([]string{name, shm, lock}, "\x1f"))
	cmd.SysProcAttr = userNS()
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	t.Logf("child: %q", lines)
	if err != nil && len(lines) == 1 && lines[0] == "" {
		t.Skipf("cannot start a child in a new user+mount namespace (CLONE_NEWUSER|CLONE_NEWNS): %v", err)
	}
	res := parseResults(t, lines, err)
	const size = 128 + 1<<30 // OIEB + ring; no metadata block with an explicit PayloadSize
	for _, want := range []string{"nospace=true", "enospc=true", "dir=true", "size=true"} {
		if !strings.Contains(res["create"], want) {
			t.Errorf("1 GiB buffer in a 64 MiB tmpfs: %s, want %s", res["create"], want)
		}
	}
	if !strings.Contains(res["create"], fmt.Sprintf("%d bytes (1.0 GiB) do not fit in %s", size, shm)) {
		t.Errorf("error text %q does not name the size and the directory %s", res["create"], shm)
	}
	if res["left"] != "[]" {
		t.Errorf("objects left in the full tmpfs: %s", res["left"])
	}
}

// roleConfigENOSPC mounts a 64 MiB tmpfs on the shm directory and asks
// for a 1 GiB buffer in it. Args: name shm lock.
func roleConfigENOSPC(c *testproc.Child, a []string) int {
	name, shm, lock := a[0], a[1], a[2]
	if err := syscall.Mount("none", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		c.Printf("skip making mounts private in the user namespace: %v", err)
		return 0
	}
	if err := syscall.Mount("tmpfs", shm, "tmpfs", 0, "size=64m"); err != nil {
		c.Printf("skip mount a 64 MiB tmpfs on %s in a user namespace: %v", shm, err)
		return 0
	}
	r, err := NewReader(name, BufferConfig{PayloadSize: 1 << 30}, WithDirs(shm, lock))
	if r != nil {
		r.Close()
		c.Printf("create nospace=false err=<nil> (a 1 GiB buffer fit in 64 MiB)")
		return 1
	}
	msg := fmt.Sprint(err)
	c.Printf("create nospace=%v enospc=%v dir=%v size=%v err=%s", errors.Is(err, ErrNoSpace),
		errors.Is(err, syscall.ENOSPC), strings.Contains(msg, shm), strings.Contains(msg, "1.0 GiB"), msg)
	var left []string
	for _, d := range []string{shm, lock} {
		ents, _ := os.ReadDir(d)
		for _, e := range ents {
			left = append(left, e.Name())
		}
	}
	c.Printf("left %q", left)
	return 0
}
