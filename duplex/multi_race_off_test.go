//go:build !race

package duplex

// raceOn: the race detector slows the cross-process tests down.
const raceOn = false
