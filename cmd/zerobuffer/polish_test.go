//go:build linux

package main

import (
	"bufio"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/zerobuffer/zerobuffer-go/platform"
)

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int{"4096": 4096, "64K": 64 << 10, "64k": 64 << 10, "4M": 4 << 20, "4MiB": 4 << 20,
		"1G": 1 << 30, "512KB": 512 << 10, "0": 0} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "K", "-1", "1.5M", "4X", "99999999T"} {
		if _, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) accepted", in)
		}
	}
	for n, want := range map[int]string{4 << 20: "4M", 64 << 10: "64K", 1000: "1000", 0: "0"} {
		if got := formatSize(n); got != want {
			t.Errorf("formatSize(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestUsageError_OneLine: a command-line mistake prints one line that
// points to --help, not the whole usage.
func TestUsageError_OneLine(t *testing.T) {
	for _, args := range [][]string{nil, {"frobnicate"}, {"ls", "--bogus"}, {"recv", "x", "--payload-size", "lots"}, {"inspect"}} {
		r := zbInProcess(args...)
		lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
		if r.code != exitUsage || len(lines) != 1 || !strings.Contains(lines[0], "--help") || r.stdout != "" {
			t.Errorf("zerobuffer %q: exit %d, stderr %q, stdout %q; want exit 2 and one line pointing to --help",
				args, r.code, r.stderr, r.stdout)
		}
	}
}

// TestSizeSuffixes_Recv: recv's size flags take suffixes; the buffer has
// the sizes asked for.
func TestSizeSuffixes_Recv(t *testing.T) {
	name := uniqueName(t)
	_, res := startRecv(t, nil, platform.Dirs{}, name, "--payload-size", "64K", "--metadata-size", "4K", "--count", "1", "--delim", "none")
	b, err := probe(name, platform.Dirs{})
	if err != nil {
		t.Fatal(err)
	}
	if b.PayloadSize != 64<<10 || b.MetadataSize != 4<<10 {
		t.Errorf("recv --payload-size 64K --metadata-size 4K: payload %d, metadata %d", b.PayloadSize, b.MetadataSize)
	}
	s := zb(t, "abc", "send", name, "--delim", "none", "--chunk", "1K")
	if r := wait(t, res); r.code != exitOK || r.stdout != "abc" || s.code != exitOK {
		t.Errorf("send --chunk 1K into recv: recv exit %d %q %q, send exit %d %q", r.code, r.stdout, r.stderr, s.code, s.stderr)
	}
}

var snakeKey = regexp.MustCompile(`^[a-z0-9]+(_[a-z0-9]+)*$`)

// checkSnake fails for every key of v (decoded JSON) that is not snake_case.
func checkSnake(t *testing.T, what string, v any) {
	t.Helper()
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if !snakeKey.MatchString(k) {
				t.Errorf("%s: key %q is not snake_case", what, k)
			}
			checkSnake(t, what, e)
		}
	case []any:
		for _, e := range x {
			checkSnake(t, what, e)
		}
	}
}

// TestJSON_SnakeCaseAndWatchLines: ls, inspect and watch --json use
// snake_case keys; watch --json prints one object per line.
func TestJSON_SnakeCaseAndWatchLines(t *testing.T) {
	name := uniqueName(t)
	newReader(t, name, 4096)
	for _, args := range [][]string{{"ls", "--json"}, {"inspect", name, "--json"}} {
		res := zb(t, "", args...)
		if res.code != exitOK {
			t.Fatalf("zerobuffer %q: exit %d, %s", args, res.code, res.stderr)
		}
		var v any
		if err := json.Unmarshal([]byte(res.stdout), &v); err != nil {
			t.Fatalf("zerobuffer %q: %v", args, err)
		}
		checkSnake(t, strings.Join(args, " "), v)
	}
	res := zb(t, "", "watch", name, "--json", "--count", "3", "--interval", "20ms")
	if res.code != exitOK {
		t.Fatalf("watch --json: exit %d, %s", res.code, res.stderr)
	}
	sc := bufio.NewScanner(strings.NewReader(res.stdout))
	n := 0
	for sc.Scan() {
		var v map[string]any
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("watch --json line %q: %v", sc.Text(), err)
		}
		checkSnake(t, "watch --json", v)
		if v["name"] != name || v["payload_size"] != float64(4096) || v["reader_alive"] != true {
			t.Errorf("watch --json line %q", sc.Text())
		}
		n++
	}
	if n != 3 {
		t.Errorf("watch --json --count 3 printed %d lines: %q", n, res.stdout)
	}
}
