//go:build !linux

package testproc

import "syscall"

func sysProcAttr() *syscall.SysProcAttr { return nil }

// SweepDead does nothing here: elsewhere the objects vanish with their
// last handle.
func SweepDead(prefix string) {}
