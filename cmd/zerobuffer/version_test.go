package main

import (
	"runtime"
	"strings"
	"testing"

	zerobuffer "github.com/zerobuffer/zerobuffer-go"
)

func TestVersion_PrintsModuleVersion(t *testing.T) {
	want := "zerobuffer " + zerobuffer.Version + " (" + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + ")\n"
	for _, args := range [][]string{{"version"}, {"--version"}} {
		var out, errb strings.Builder
		code := run(&env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb}, args)
		if code != exitOK || out.String() != want || errb.Len() != 0 {
			t.Errorf("zerobuffer %q: exit %d, stdout %q (want %q), stderr %q", args, code, out.String(), want, errb.String())
		}
	}
	var out, errb strings.Builder
	if code := run(&env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb}, []string{"version", "extra"}); code != exitUsage {
		t.Errorf("zerobuffer version extra: exit %d, want %d", code, exitUsage)
	}
}
