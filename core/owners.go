package core

import (
	"fmt"
	"slices"

	"github.com/zerobuffer/zerobuffer-go/platform"
)

// trust says whose objects a Writer connects to and which group a Reader
// shares its objects with.
type trust struct {
	owners   []uint32 // uids accepted besides this process's euid
	group    int      // with groupSet: the group of shared objects
	groupSet bool
}

// WithAllowedOwners lets a [Writer] (and a duplex server connecting back
// to a client's response buffer) connect to a buffer whose shared memory,
// semaphores and reader lock belong to one of uids. By default a writer
// accepts only objects owned by its own effective uid, so that another
// local user cannot stand up a look-alike buffer and receive what this
// process writes. Readers ignore it. Owners are checked on Linux; other
// systems have no owners this package can read.
func WithAllowedOwners(uids ...uint32) Option {
	return func(o *options) { o.trust.owners = append(o.trust.owners, uids...) }
}

// WithGroup shares buffers deliberately with the members of group gid. A
// [Reader] gives its shared memory, semaphores and lock file that group
// and adds group read and write permission (mode 0660 with the default
// 0600). A [Writer] also accepts objects of any owner whose group is gid.
// Linux only; elsewhere a Reader fails with platform.ErrNotSupported.
func WithGroup(gid int) Option {
	return func(o *options) { o.trust.group, o.trust.groupSet = gid, true }
}

// checkOwner refuses an object whose owner this process does not trust.
// Unknown owners (systems without them) are accepted.
func (t trust) checkOwner(what, path string, uid, gid uint32, known bool) error {
	euid, ok := platform.Euid()
	if !known || !ok || uid == euid || slices.Contains(t.owners, uid) || (t.groupSet && int(gid) == t.group) {
		return nil
	}
	return fmt.Errorf("%w: %s %s belongs to uid %d (this process is uid %d; see WithAllowedOwners)", ErrForeignOwner, what, path, uid, euid)
}

// shareWithGroup gives the objects a Reader created the configured group.
func (r *Reader) shareWithGroup() error {
	if !r.opts.trust.groupSet {
		return nil
	}
	gid := r.opts.trust.group
	for _, p := range []string{r.names.Shm, r.names.SemW, r.names.SemR} {
		if err := platform.SetGroup(p, gid); err != nil {
			return fmt.Errorf("zerobuffer: share %q with group %d: %w", r.name, gid, err)
		}
	}
	if err := r.lock.SetGroup(gid); err != nil {
		return fmt.Errorf("zerobuffer: share %q with group %d: %w", r.name, gid, err)
	}
	return nil
}
