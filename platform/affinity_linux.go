package platform

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// PinProcess restricts every thread of this process, and the threads it
// creates later, to CPU cpu (what `taskset -c cpu` does at exec time), for
// latency measurements with each peer on its own core. restore gives each
// thread that existed at the call its previous CPU set back (threads
// created in between keep the pin).
func PinProcess(cpu int) (restore func(), err error) {
	if cpu < 0 || cpu >= 1024 {
		return nil, fmt.Errorf("zerobuffer: pin to CPU %d: out of range", cpu)
	}
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return nil, err
	}
	var pin unix.CPUSet
	pin.Set(cpu)
	type saved struct {
		tid int
		set unix.CPUSet
	}
	var old []saved
	restore = func() {
		for _, s := range old {
			_ = unix.SchedSetaffinity(s.tid, &s.set)
		}
	}
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		var set unix.CPUSet
		if err := unix.SchedGetaffinity(tid, &set); err != nil {
			continue // the thread has exited
		}
		if err := unix.SchedSetaffinity(tid, &pin); err != nil {
			restore()
			return nil, os.NewSyscallError("sched_setaffinity", err)
		}
		old = append(old, saved{tid, set})
	}
	return restore, nil
}
