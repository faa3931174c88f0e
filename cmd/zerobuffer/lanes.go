package main

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// faninSuffix names the control block of a fan-in buffer (core/lane.go).
const faninSuffix = ".fanin"

// foldLanes presents a fan-in buffer (a typed.ListenMany receiver or the
// request side of a duplex multi-client server) as one entry, lane 0
// (NAME, marked "[fan-in: N lanes]"), followed by its other lanes
// (NAME.l1, NAME.l2, ... shown as "  lane K"), and hides the control
// block NAME.fanin, which is not a buffer. Other entries are unchanged.
func foldLanes(bufs []bufferInfo) []bufferInfo {
	fanin := map[string]bool{}
	for _, b := range bufs {
		if base, ok := strings.CutSuffix(b.Name, faninSuffix); ok && base != "" {
			fanin[base] = true
		}
	}
	if len(fanin) == 0 {
		return bufs
	}
	type lane struct {
		k int
		b bufferInfo
	}
	lanes := map[string][]lane{}
	var rest []bufferInfo
	for _, b := range bufs {
		if base, ok := strings.CutSuffix(b.Name, faninSuffix); ok && fanin[base] {
			continue
		}
		if i := strings.LastIndex(b.Name, ".l"); i > 0 && fanin[b.Name[:i]] {
			if k, err := strconv.Atoi(b.Name[i+2:]); err == nil && k > 0 {
				lanes[b.Name[:i]] = append(lanes[b.Name[:i]], lane{k, b})
				continue
			}
		}
		rest = append(rest, b)
	}
	out := make([]bufferInfo, 0, len(bufs))
	for _, b := range rest {
		if !fanin[b.Name] {
			out = append(out, b)
			continue
		}
		base, ls := b.Name, lanes[b.Name]
		delete(lanes, base)
		sort.Slice(ls, func(i, j int) bool { return ls[i].k < ls[j].k })
		b.label = fmt.Sprintf("%s [fan-in: %d lanes]", displayName(base), 1+len(ls))
		out = append(out, b)
		for _, l := range ls {
			l.b.label = fmt.Sprintf("  lane %d", l.k)
			out = append(out, l.b)
		}
	}
	for _, ls := range lanes { // lanes whose lane 0 is gone: shown as they are
		for _, l := range ls {
			out = append(out, l.b)
		}
	}
	return out
}
