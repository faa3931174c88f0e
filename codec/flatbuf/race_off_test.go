//go:build !race

package flatbuf_test

const raceEnabled = false
