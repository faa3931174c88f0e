//go:build !linux

package platform

// PIDNamespace returns "": this system has no PID namespaces.
func PIDNamespace() string { return "" }
