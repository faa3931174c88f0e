//go:build !zbfailpoint

// Package failpoint lets crash tests stop or kill a process at a named
// point of the protocol. Without the build tag zbfailpoint, Hit is an
// empty function the compiler removes; with it, the environment variable
// ZB_FAILPOINT="name:N:action" triggers action on the N-th hit of name.
// Actions: kill (SIGKILL self), stop (SIGSTOP self), sleep=DURATION, exit.
package failpoint

// Enabled reports whether failpoints are compiled in.
const Enabled = false

// Hit marks a named point; it does nothing in normal builds.
func Hit(name string) {}
