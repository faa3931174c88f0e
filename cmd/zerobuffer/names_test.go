//go:build linux

package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/zerobuffer/zerobuffer-go/core"
	"github.com/zerobuffer/zerobuffer-go/platform"
)

// TestLs_UnusualNamesQuoted: a name with a space is printed quoted, and a
// file whose name carries an escape sequence never reaches the terminal.
func TestLs_UnusualNamesQuoted(t *testing.T) {
	shm, lock := t.TempDir(), t.TempDir()
	name := uniqueName(t) + " spaced"
	r, err := core.NewReader(name, core.BufferConfig{PayloadSize: 4096}, core.WithDirs(shm, lock))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	evil := "\x1b[2J\x1b[31mevil"
	if err := os.WriteFile(filepath.Join(lock, evil+".lock"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(shm, evil), make([]byte, 4096), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"ZEROBUFFER_SHM_DIR=" + shm, "ZEROBUFFER_LOCK_DIR=" + lock}
	out := zbEnv(t, env, "", "ls")
	if strings.ContainsRune(out.stdout+out.stderr, 0x1b) {
		t.Errorf("ls printed an escape character:\n%q", out.stdout)
	}
	if !strings.Contains(out.stdout, strconv.Quote(name)) {
		t.Errorf("ls does not print %s quoted:\n%s", strconv.Quote(name), out.stdout)
	}
	if c := zbEnv(t, env, "", "clean", evil); strings.ContainsRune(c.stdout+c.stderr, 0x1b) || c.code == exitOK {
		t.Errorf("clean of an escape-sequence name: exit %d, %q %q", c.code, c.stdout, c.stderr)
	}
	if c := zbEnv(t, env, "", "clean", "sem.sem-w-"+name); c.code == exitOK {
		t.Errorf("clean of a sem. name: exit %d, %q", c.code, c.stdout)
	}
	if _, err := os.Stat(filepath.Join(shm, "sem.sem-w-"+name)); err != nil {
		t.Errorf("the live semaphore is gone: %v", err)
	}
}

// TestNewReader_SemNameCannotHitAnotherBuffer: a buffer named after another
// buffer's semaphore file is refused and leaves that semaphore alone.
func TestNewReader_SemNameCannotHitAnotherBuffer(t *testing.T) {
	shm, lock := t.TempDir(), t.TempDir()
	victim := uniqueName(t)
	r, err := core.NewReader(victim, core.BufferConfig{PayloadSize: 4096}, core.WithDirs(shm, lock))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	n, _ := platform.ObjectNames(victim, platform.Dirs{Shm: shm, Lock: lock})
	before, err := os.Stat(n.SemW)
	if err != nil {
		t.Fatal(err)
	}
	evil := filepath.Base(n.SemW)
	if r2, err := core.NewReader(evil, core.BufferConfig{PayloadSize: 4096}, core.WithDirs(shm, lock)); err == nil {
		r2.Close()
		t.Fatalf("NewReader(%q) succeeded", evil)
	}
	after, err := os.Stat(n.SemW)
	if err != nil || !os.SameFile(before, after) {
		t.Fatalf("the victim's semaphore was replaced or removed: %v", err)
	}
}
