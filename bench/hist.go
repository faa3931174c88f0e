package bench

import (
	"math"
	"math/bits"
)

// Histogram records non-negative durations in nanoseconds in log-linear
// buckets, like an HDR histogram with a fixed precision: values below 256
// are exact, larger values fall into buckets whose width is at most 1/128
// of their lower bound (under 0.8 % relative error). Recording never
// allocates. Min, max, count and mean are exact.
//
// A Histogram is not safe for concurrent use.
type Histogram struct {
	counts [histBuckets]uint64
	n      uint64
	sum    float64
	min    uint64
	max    uint64
}

const (
	histSubBits = 7
	histSub     = 1 << histSubBits // sub-buckets per power of two
	histBuckets = histSub * (64 - histSubBits + 1)
)

func histIndex(v uint64) int {
	if v < 2*histSub {
		return int(v)
	}
	shift := bits.Len64(v) - 1 - histSubBits
	return histSub + shift*histSub + int(v>>uint(shift)) - histSub
}

// histBounds returns the lowest value of bucket i and the bucket width.
func histBounds(i int) (lo, width uint64) {
	if i < 2*histSub {
		return uint64(i), 1
	}
	shift := (i - histSub) / histSub
	sub := uint64(histSub + (i-histSub)%histSub)
	return sub << uint(shift), 1 << uint(shift)
}

// Record adds one value (negative values count as zero).
func (h *Histogram) Record(ns int64) {
	v := uint64(max(ns, 0))
	h.counts[histIndex(v)]++
	if h.n == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.n++
	h.sum += float64(v)
}

// Count returns the number of recorded values.
func (h *Histogram) Count() uint64 { return h.n }

// Max returns the largest recorded value, 0 if none.
func (h *Histogram) Max() uint64 { return h.max }

// Min returns the smallest recorded value, 0 if none.
func (h *Histogram) Min() uint64 { return h.min }

// Mean returns the arithmetic mean, 0 if empty.
func (h *Histogram) Mean() float64 {
	if h.n == 0 {
		return 0
	}
	return h.sum / float64(h.n)
}

// Quantile returns the value at quantile q in [0, 1]: the midpoint of the
// bucket that holds the ceil(q*count)-th smallest value, clamped to the
// exact min and max. It returns 0 for an empty histogram.
func (h *Histogram) Quantile(q float64) uint64 {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(math.Max(0, math.Min(1, q)) * float64(h.n)))
	rank = max(rank, 1)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if c == 0 || seen < rank {
			continue
		}
		lo, w := histBounds(i)
		return min(max(lo+w/2, h.min), h.max)
	}
	return h.max
}

// CDFPoint is one step of a cumulative distribution: Fraction of the
// recorded values are at most Nanos.
type CDFPoint struct {
	Nanos    float64 `json:"ns"`
	Fraction float64 `json:"fraction"`
}

// CDF returns one point per non-empty bucket, in increasing order, using
// each bucket's upper bound (clamped to the exact maximum).
func (h *Histogram) CDF() []CDFPoint {
	if h.n == 0 {
		return nil
	}
	var out []CDFPoint
	var seen uint64
	for i, c := range h.counts {
		if c == 0 {
			continue
		}
		seen += c
		lo, w := histBounds(i)
		out = append(out, CDFPoint{Nanos: float64(min(lo+w-1, h.max)), Fraction: float64(seen) / float64(h.n)})
	}
	return out
}
