package testproc

import (
	"syscall"
	"testing"
)

// StartAs is [Start] with the child running as uid and gid (no
// supplementary groups), from exe, a copy of the test binary that user
// can execute. Only root can start it.
func StartAs(t testing.TB, exe string, uid, gid uint32, role string, args ...string) *Proc {
	t.Helper()
	attr := sysProcAttr()
	attr.Credential = &syscall.Credential{Uid: uid, Gid: gid, Groups: []uint32{}}
	return start(t, exe, attr, nil, role, args...)
}
