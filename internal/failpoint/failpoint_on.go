//go:build zbfailpoint

// Package failpoint lets crash tests stop or kill a process at a named
// point of the protocol. Without the build tag zbfailpoint, Hit is an
// empty function the compiler removes; with it, the environment variable
// ZB_FAILPOINT="name:N:action" triggers action on the N-th hit of name.
// Actions: kill (SIGKILL self), stop (SIGSTOP self), sleep=DURATION, exit.
package failpoint

import (
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// Enabled reports whether failpoints are compiled in.
const Enabled = true

var (
	point  string
	nth    int64
	action string
	hits   atomic.Int64
)

func init() {
	spec := os.Getenv("ZB_FAILPOINT")
	parts := strings.SplitN(spec, ":", 3)
	if len(parts) != 3 {
		return
	}
	n, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || n < 1 {
		return
	}
	point, nth, action = parts[0], n, parts[2]
}

// Hit triggers the configured action on the configured hit of name.
func Hit(name string) {
	if name != point || hits.Add(1) != nth {
		return
	}
	switch {
	case action == "kill":
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	case action == "stop":
		_ = syscall.Kill(os.Getpid(), syscall.SIGSTOP)
	case action == "exit":
		os.Exit(3)
	case strings.HasPrefix(action, "sleep="):
		if d, err := time.ParseDuration(strings.TrimPrefix(action, "sleep=")); err == nil {
			time.Sleep(d)
		}
	}
}
