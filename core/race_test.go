//go:build race

package core

// raceEnabled shortens the longest tests under the race detector; CI runs
// them at full length without it.
const raceEnabled = true
