package platform

import "os"

// PIDNamespace identifies this process's PID namespace ("pid:[INODE]"),
// or "" if it cannot be read. A PID means something only together with
// its namespace: in another namespace the same number is another
// process, or none.
func PIDNamespace() string {
	ns, err := os.Readlink("/proc/self/ns/pid")
	if err != nil {
		return ""
	}
	return ns
}
