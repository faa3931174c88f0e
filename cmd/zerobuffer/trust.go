package main

import (
	"flag"
	"fmt"
	"strconv"
	"strings"

	"github.com/zerobuffer/zerobuffer-go/core"
)

// trustFlags are the --allow-owner and --group flags of send and recv:
// whose buffers a writer accepts besides its own, and the group a buffer
// is shared with (core.WithAllowedOwners and core.WithGroup).
type trustFlags struct {
	owners []uint32
	group  int
}

func addTrustFlags(f *flag.FlagSet) *trustFlags {
	t := &trustFlags{group: -1}
	f.Func("allow-owner", "also accept a buffer owned by `UID` (comma-separated or repeated; send only)", func(s string) error {
		for _, p := range strings.Split(s, ",") {
			uid, err := strconv.ParseUint(strings.TrimSpace(p), 10, 32)
			if err != nil {
				return fmt.Errorf("not a uid: %q", p)
			}
			t.owners = append(t.owners, uint32(uid))
		}
		return nil
	})
	f.IntVar(&t.group, "group", -1, "share with group `GID`: recv gives the buffer that group and mode 0660, send accepts buffers of that group")
	return t
}

// options returns the core options the flags ask for.
func (t *trustFlags) options() []core.Option {
	var o []core.Option
	if len(t.owners) > 0 {
		o = append(o, core.WithAllowedOwners(t.owners...))
	}
	if t.group >= 0 {
		o = append(o, core.WithGroup(t.group))
	}
	return o
}
