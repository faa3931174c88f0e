package core

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func ExampleInspect() {
	shm, _ := os.MkdirTemp("", "zbshm")
	lock, _ := os.MkdirTemp("", "zblock")
	defer os.RemoveAll(shm)
	defer os.RemoveAll(lock)
	dirs := WithDirs(shm, lock)
	r, err := NewReader("inspected", BufferConfig{PayloadSize: 4096}, dirs)
	if err != nil {
		fmt.Println(err)
		return
	}
	b, err := Inspect("inspected", dirs)
	fmt.Println(b.Valid, b.PayloadSize, b.ReaderAlive, b.Stale, b.ReaderLock, err)
	r.Close()
	_, err = Inspect("inspected", dirs)
	fmt.Println(errors.Is(err, ErrNotFound))
	// Output:
	// true 4096 true false held <nil>
	// true
}

// TestRemove_Rules: Remove and RemoveStale refuse a live buffer; only
// Remove takes leftovers that are not a complete buffer; List finds both.
func TestRemove_Rules(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the leftover is a Unix semaphore file; Windows semaphores are kernel objects, not files")
	}
	shm, lock := t.TempDir(), t.TempDir()
	dirs := WithDirs(shm, lock)
	live := testName(t)
	r := mustReader(t, live, 0, 4096, dirs)
	for _, remove := range []func(string, bool, ...Option) error{Remove, RemoveStale} {
		if err := remove(live, true, dirs); !errors.Is(err, ErrReaderExists) {
			t.Errorf("removing a live buffer: %v, want ErrReaderExists", err)
		}
	}
	leftover := testName(t)
	if err := os.WriteFile(filepath.Join(shm, "sem.sem-w-"+leftover), make([]byte, 32), 0o600); err != nil {
		t.Fatal(err)
	}
	all, err := List(dirs)
	if err != nil || len(all) != 2 || all[0].Name == all[1].Name {
		t.Fatalf("List = %+v, %v; want the live buffer and the leftover", all, err)
	}
	if err := RemoveStale(leftover, false, dirs); !errors.Is(err, ErrIncomplete) {
		t.Errorf("RemoveStale of a lone semaphore: %v, want ErrIncomplete", err)
	}
	if err := Remove(leftover, false, dirs); err != nil {
		t.Errorf("Remove of a lone semaphore: %v", err)
	}
	if _, err := Inspect(leftover, dirs); !errors.Is(err, ErrNotFound) {
		t.Errorf("Inspect after Remove: %v", err)
	}
	if b, err := Inspect(live, dirs); err != nil || !b.ReaderAlive || !b.SemaphoresValid {
		t.Errorf("the live buffer after removals: %+v, %v", b, err)
	}
	r.Close()
}
