// Package memcopy copies frames into the ring with stores that stay in
// the cache.
//
// Go's copy switches to non-temporal stores for 1 MiB and more on amd64
// (runtime/memmove_amd64.s): the bytes bypass the caches on their way to
// memory. That suits a destination nobody reads soon. A ring frame is the
// opposite: the reader, on another core, reads it next, and would then
// wait for memory instead of finding the lines in the shared cache. Copy
// therefore splits large copies into pieces below that threshold.
package memcopy

// piece is the size of each copy of a large copy: well below the 1 MiB at
// which the runtime's copy turns non-temporal.
const piece = 256 << 10

// Copy copies min(len(dst), len(src)) bytes from src to dst, as copy does,
// and returns that count. The slices may overlap when dst starts at or
// before src (a move toward the front, as the pieces go forward); for an
// overlap the other way round use copy.
func Copy(dst, src []byte) int {
	if len(src) <= piece {
		return copy(dst, src)
	}
	return copyPieces(dst, src)
}

func copyPieces(dst, src []byte) int {
	n := min(len(dst), len(src))
	for off := 0; off < n; off += piece {
		end := min(off+piece, n)
		copy(dst[off:end], src[off:end])
	}
	return n
}
