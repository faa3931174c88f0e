//go:build linux

package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/zerobuffer/zerobuffer-go/core"
)

// TestLs_FanIn: a live fan-in buffer is one entry with its lanes, and its
// control block is not listed as a broken buffer.
func TestLs_FanIn(t *testing.T) {
	name := uniqueName(t)
	fi, err := core.NewFanIn(name, core.BufferConfig{PayloadSize: 4096}, core.FanInConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer fi.Close()
	r := zb(t, "", "ls")
	if r.code != exitOK {
		t.Fatalf("ls: exit %d, stderr %q", r.code, r.stderr)
	}
	if !regexp.MustCompile(regexp.QuoteMeta(name+" [fan-in: 2 lanes]") + `.*live\n\s+lane 1\s.*live\n`).MatchString(r.stdout) {
		t.Errorf("ls does not show %s as one fan-in entry:\n%s", name, r.stdout)
	}
	if strings.Contains(r.stdout, name+".fanin") {
		t.Errorf("control block listed:\n%s", r.stdout)
	}
}
