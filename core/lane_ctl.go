package core

import (
	"fmt"
	"sync/atomic"
	"unsafe"

	"github.com/zerobuffer/zerobuffer-go/platform"
)

// laneCtl is the fan-in control block NAME.fanin (see lane.go). It is the
// only place besides view.go that turns shared memory into pointers. Every
// word is 8-aligned (the mapping is page aligned, the offsets multiples of
// 8) and accessed with sync/atomic; the block is written by the receiver
// and by every sender, so nothing read from it is trusted: lane counts are
// clamped to MaxLanes and the other words are only compared.
type laneCtl struct {
	seg  *platform.Segment
	base unsafe.Pointer
}

const (
	ctlMagic    = uintptr(0)   // "ZBFANIN1", stored last by the receiver
	ctlPID      = uintptr(8)   // the receiver's PID
	ctlLanes    = uintptr(16)  // lanes created so far (0..MaxLanes)
	ctlClaims   = uintptr(24)  // incremented by every sender that claims a lane
	ctlSleeping = uintptr(64)  // 1 while the receiver sleeps on the doorbell (own cache line)
	ctlRingers  = uintptr(128) // one word per lane: PID of the Go sender that rings for it
	ctlSize     = 4096

	ctlMagicWord = uint64(0x314e494e4146425a) // "ZBFANIN1" as a little-endian word
)

func newLaneCtl(seg *platform.Segment) (*laneCtl, error) {
	b := seg.Bytes()
	if len(b) < int(ctlRingers)+8*MaxLanes {
		return nil, fmt.Errorf("%w: fan-in control block is %d bytes", ErrNotReady, len(b))
	}
	return &laneCtl{seg: seg, base: unsafe.Pointer(&b[0])}, nil
}

func (c *laneCtl) word(off uintptr) *uint64 { return (*uint64)(unsafe.Add(c.base, off)) }

func (c *laneCtl) load(off uintptr) uint64     { return atomic.LoadUint64(c.word(off)) }
func (c *laneCtl) store(off uintptr, x uint64) { atomic.StoreUint64(c.word(off), x) }
func (c *laneCtl) add(off uintptr, x uint64)   { atomic.AddUint64(c.word(off), x) }
func (c *laneCtl) cas(off uintptr, old, x uint64) bool {
	return atomic.CompareAndSwapUint64(c.word(off), old, x)
}

// ringer returns the offset of lane k's ringer word; k < MaxLanes.
func ringer(k int) uintptr { return ctlRingers + 8*uintptr(k) }

// lanes returns the published lane count, clamped to MaxLanes.
func (c *laneCtl) lanes() int { return int(min(c.load(ctlLanes), MaxLanes)) }
