//go:build !linux

package typed_test

import (
	"errors"
	"os/exec"
)

// dieWithParent is a no-op where the OS has no parent-death signal.
func dieWithParent(*exec.Cmd) {}

// childCloseRace is the child of a Linux-only test (closerace_test.go).
func childCloseRace(string) error { return errors.New("the closerace role runs on Linux only") }
