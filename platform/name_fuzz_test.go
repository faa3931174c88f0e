package platform

import (
	"path"
	"strings"
	"testing"
)

func FuzzName(f *testing.F) {
	for _, s := range []string{"golden", "test_buffer-123", "a/b", "..", "", strings.Repeat("x", 246), "x\x00y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		n, err := UnixNames(name, Dirs{})
		if err != nil {
			return
		}
		if path.Dir(n.Shm) != DefaultShmDir || path.Base(n.Shm) != name {
			t.Fatalf("%q maps to %q, not one component of %s", name, n.Shm, DefaultShmDir)
		}
		if len("sem.sem-w-"+name) > 255 || path.Dir(n.Lock) != DefaultLockDir {
			t.Fatalf("%q: unusable names %+v", name, n)
		}
	})
}
