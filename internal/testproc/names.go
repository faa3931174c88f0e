package testproc

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

var nameSeq atomic.Int64

// Name returns a buffer name unique to t and this process:
// prefix-<test name, at most maxBase bytes>-<pid>-<n>.
func Name(t testing.TB, prefix string, maxBase int) string {
	base := strings.NewReplacer("/", "-", " ", "_").Replace(t.Name())
	if len(base) > maxBase {
		base = base[:maxBase]
	}
	return fmt.Sprintf("%s-%s-%d-%d", prefix, base, os.Getpid(), nameSeq.Add(1))
}

// Leftovers lists the objects of buffer name (default Linux locations:
// segment, both semaphores, reader lock, Go writer lock) that still exist.
// The paths are spelled out rather than taken from platform.UnixNames,
// whose own tests use this package.
func Leftovers(name string) []string {
	var out []string
	for _, p := range []string{
		filepath.Join("/dev/shm", name),
		filepath.Join("/dev/shm", "sem.sem-w-"+name),
		filepath.Join("/dev/shm", "sem.sem-r-"+name),
		filepath.Join("/tmp/zerobuffer", name+".lock"),
		filepath.Join("/tmp/zerobuffer/writer", name+".lock"),
	} {
		if _, err := os.Lstat(p); err == nil {
			out = append(out, p)
		}
	}
	return out
}
