package typed_test

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the child process get SIGKILL when the test dies.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
