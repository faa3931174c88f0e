//go:build !linux

package platform

// PinProcess is supported on Linux only.
func PinProcess(cpu int) (restore func(), err error) { return nil, ErrNotSupported }
