package main

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/zerobuffer/zerobuffer-go/internal/testproc"
	"github.com/zerobuffer/zerobuffer-go/platform"
)

func TestMain(m *testing.M) {
	// A role runs main() as `quickstart` (receive) or `quickstart send`,
	// on a buffer name of the test's own.
	role := func(args ...string) testproc.Role {
		return func(_ *testproc.Child, a []string) int {
			bufferName = a[0]
			os.Args = append([]string{"quickstart"}, args...)
			main()
			return 0
		}
	}
	testproc.Main(map[string]testproc.Role{"receive": role(), "send": role("send")})
	os.Exit(m.Run())
}

// TestQuickstart_TwoProcesses runs the README's quick start as printed:
// a receiver process, then a sender process, and checks what the receiver
// prints.
func TestQuickstart_TwoProcesses(t *testing.T) {
	name := fmt.Sprintf("zbquickstart-%d", os.Getpid())
	t.Cleanup(func() { removeObjects(t, name) })
	rx := testproc.Start(t, "receive", name)
	tx := testproc.Start(t, "send", name) // Dial waits until the receiver has created the buffer
	for _, want := range []string{"got {0 0}", "got {1 1}", "got {2 4}"} {
		if line := rx.Expect("got", 60*time.Second); line != want {
			t.Fatalf("receiver printed %q, want %q", line, want)
		}
	}
	for who, p := range map[string]*testproc.Proc{"sender": tx, "receiver": rx} {
		if code, err := p.Wait(60 * time.Second); err != nil || code != 0 {
			t.Errorf("%s: exit %d, %v", who, code, err)
		}
	}
}

// TestQuickstart_MatchesREADME keeps the README's quick start and this
// program the same text, so that what a newcomer copies is what the test
// above runs.
func TestQuickstart_MatchesREADME(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)\n## Quick start\n.*?```go\n(.*?)```\n").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README.md has no ```go block under \"## Quick start\"")
	}
	if !bytes.Equal(m[1], src) {
		t.Errorf("README.md's quick start differs from examples/quickstart/main.go:\n--- README\n%s\n--- main.go\n%s", m[1], src)
	}
}

func removeObjects(t *testing.T, name string) {
	n, err := platform.ObjectNames(name, platform.Dirs{})
	if err != nil {
		t.Errorf("names of %q: %v", name, err)
		return
	}
	for _, p := range []string{n.Shm, n.SemW, n.SemR, n.Lock, n.WriterLock} {
		if err := platform.Remove(p); err != nil {
			t.Errorf("remove %s: %v", p, err)
		}
	}
}
