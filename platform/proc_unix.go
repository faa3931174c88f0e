//go:build unix

package platform

import (
	"errors"

	"golang.org/x/sys/unix"
)

// ProcessAlive reports whether a process with this PID exists. EPERM (the
// process exists but belongs to another user) counts as alive, unlike the
// C++ reference, which treats it as dead (docs/PROTOCOL.md section 10). PIDs of zero,
// negative values and values beyond the kernel's range count as dead.
func ProcessAlive(pid uint64) bool {
	if pid == 0 || pid > 1<<22 {
		return false
	}
	err := unix.Kill(int(pid), 0)
	return err == nil || errors.Is(err, unix.EPERM)
}

// Getpid returns this process's id as stored in the OIEB.
func Getpid() uint64 { return uint64(unix.Getpid()) }
