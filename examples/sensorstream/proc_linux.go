package main

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the child process get SIGKILL when this process dies.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
