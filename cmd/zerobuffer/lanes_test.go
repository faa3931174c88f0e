package main

import (
	"slices"
	"testing"
)

func TestFoldLanes(t *testing.T) {
	in := []bufferInfo{
		{Name: "a"}, {Name: "svc.l2"}, {Name: "svc"}, {Name: "svc.fanin"}, {Name: "svc.l1"},
		{Name: "other.l1"}, {Name: "orphan.l3"}, {Name: "orphan.fanin"},
	}
	var got []string
	for _, b := range foldLanes(in) {
		name := b.label
		if name == "" {
			name = b.Name
		}
		got = append(got, name)
	}
	want := []string{"a", "svc [fan-in: 3 lanes]", "  lane 1", "  lane 2", "other.l1", "orphan.l3"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	plain := []bufferInfo{{Name: "x.l1"}, {Name: "x"}}
	if out := foldLanes(plain); len(out) != 2 || out[0].Name != "x.l1" {
		t.Fatalf("no fan-in: %+v", out)
	}
}
