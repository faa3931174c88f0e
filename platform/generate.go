package platform

// The directive lives in a file without build constraints so that it runs
// on any host: go generate skips files built for other systems.

//go:generate go run golang.org/x/sys/windows/mkwinsyscall -output zsyscall_windows.go syscall_windows.go
