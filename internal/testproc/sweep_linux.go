package testproc

import (
	"os"
	"strconv"
	"strings"
	"syscall"
)

// SweepDead removes the objects of buffers named prefix + "<pid>-..."
// whose process no longer exists. A fuzz worker that the fuzzing engine
// stops in the middle of an input cannot clean up after it; the next run
// calls this first.
func SweepDead(prefix string) {
	entries, err := os.ReadDir("/dev/shm")
	if err != nil {
		return
	}
	for _, e := range entries {
		name, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok {
			continue
		}
		pidText, _, _ := strings.Cut(name, "-")
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid <= 0 || syscall.Kill(pid, 0) != syscall.ESRCH {
			continue
		}
		for _, p := range Leftovers(e.Name()) {
			_ = os.Remove(p)
		}
	}
}
