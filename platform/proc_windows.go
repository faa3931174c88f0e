package platform

import "golang.org/x/sys/windows"

// ProcessAlive reports whether the process with this PID is running:
// OpenProcess(SYNCHRONIZE|PROCESS_QUERY_LIMITED_INFORMATION) and a
// zero-timeout wait on it. A process that is signalled (exited) counts as
// dead even while handles keep its PID reserved; ERROR_INVALID_PARAMETER
// (no such PID) counts as dead; ERROR_ACCESS_DENIED (a process of another
// user or a protected process) counts as alive, unlike the C++ and C#
// references, which treat it as dead (docs/PLATFORMS.md). PIDs of zero
// and beyond 32 bits count as dead.
func ProcessAlive(pid uint64) bool {
	if pid == 0 || pid > 0xFFFFFFFF {
		return false
	}
	h, err := windows.OpenProcess(windows.SYNCHRONIZE|windows.PROCESS_QUERY_LIMITED_INFORMATION, false, uint32(pid))
	if err != nil {
		return err == windows.ERROR_ACCESS_DENIED
	}
	defer windows.CloseHandle(h)
	ev, err := windows.WaitForSingleObject(h, 0)
	if err != nil {
		const stillActive = 259 // STILL_ACTIVE
		var code uint32
		return windows.GetExitCodeProcess(h, &code) == nil && code == stillActive
	}
	return ev == uint32(windows.WAIT_TIMEOUT)
}

// Getpid returns this process's id as stored in the OIEB.
func Getpid() uint64 { return uint64(windows.GetCurrentProcessId()) }
