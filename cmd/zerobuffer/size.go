package main

import (
	"flag"
	"fmt"
	"strconv"
	"strings"
)

// sizeValue is a flag of a size in bytes that accepts binary suffixes:
// 4096, 64K, 4M, 1G (also 64KiB, 64kb; K = 1024).
type sizeValue struct{ n *int }

func (s sizeValue) String() string {
	if s.n == nil {
		return ""
	}
	return formatSize(*s.n)
}

func (s sizeValue) Set(v string) error {
	n, err := parseSize(v)
	if err != nil {
		return err
	}
	*s.n = n
	return nil
}

// sizeFlag defines a size flag with binary suffixes on f.
func sizeFlag(f *flag.FlagSet, name string, def int, usage string) *int {
	n := def
	f.Var(sizeValue{&n}, name, usage+" (suffixes K, M, G)")
	return &n
}

// parseSize parses a non-negative size with an optional K, M or G suffix
// (binary: K = 1024), with or without a trailing "B" or "iB".
func parseSize(s string) (int, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "B"), "I")
	shift := 0
	if k := len(t) - 1; k >= 0 {
		switch t[k] {
		case 'K':
			shift, t = 10, t[:k]
		case 'M':
			shift, t = 20, t[:k]
		case 'G':
			shift, t = 30, t[:k]
		}
	}
	n, err := strconv.ParseUint(strings.TrimSpace(t), 10, 63)
	if err != nil || n > (1<<40)>>shift {
		return 0, fmt.Errorf("invalid size %q (want a number of bytes, optionally with K, M or G)", s)
	}
	return int(n << shift), nil
}

// formatSize renders n with the largest suffix that divides it: 4M, 64K, 100.
func formatSize(n int) string {
	for _, u := range []struct {
		shift  uint
		suffix string
	}{{30, "G"}, {20, "M"}, {10, "K"}} {
		if n != 0 && n%(1<<u.shift) == 0 {
			return strconv.Itoa(n>>u.shift) + u.suffix
		}
	}
	return strconv.Itoa(n)
}
