//go:build !linux

package bench

import (
	"syscall"
	"time"
)

// childProcAttr returns nil: only Linux can tie a child's life to its
// parent; the child's stdin watcher covers the other systems.
func childProcAttr() *syscall.SysProcAttr { return nil }

// cpuTime is not measured on this system; it returns 0.
func cpuTime() time.Duration { return 0 }
