package platform

// ObjectStat is what [StatObject] found at a path, without following a
// symbolic link.
type ObjectStat struct {
	Exists  bool
	Regular bool
	Size    int64
	Owner   uint32
	Known   bool // Owner is meaningful (Linux)
}
