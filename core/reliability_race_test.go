//go:build linux

package core

// Reliability matrix rows C10 and C11: processes racing for the one
// reader and the one writer slot of a name.

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zerobuffer/zerobuffer-go/internal/testproc"
)

// raceIterations is the number of races per configuration: 100, or 30
// in -short mode and under the race detector (a race costs about 15ms, most
// of it the losers' lock retries). ZB_RACE_ITERS=200 gives the count of
// RELIABILITY.md for nightly runs.
func raceIterations() int {
	if n, err := strconv.Atoi(os.Getenv("ZB_RACE_ITERS")); err == nil && n > 0 {
		return n
	}
	if testing.Short() || raceEnabled {
		return 30
	}
	return 100
}

// racers starts n children in role.
func racers(t *testing.T, role string, n int) []*testproc.Proc {
	procs := make([]*testproc.Proc, n)
	for i := range procs {
		procs[i] = testproc.Start(t, role)
	}
	return procs
}

// race makes every racer try at the same moment (a few milliseconds from
// now) and returns each one's report.
func race(t *testing.T, procs []*testproc.Proc, name string) []string {
	t.Helper()
	at := time.Now().Add(3*time.Millisecond + time.Duration(len(procs))*500*time.Microsecond).UnixNano()
	for _, p := range procs {
		p.Send(fmt.Sprintf("go %s %d", name, at))
	}
	out := make([]string, len(procs))
	for i, p := range procs {
		out[i] = p.Expect("", 20*time.Second)
		if strings.HasPrefix(out[i], "fail") {
			t.Fatalf("racer %d: %s", i, out[i])
		}
	}
	return out
}

// winnerOf checks that exactly one report says "won" and every other one
// lost with an error matching the sentinel (exist=true).
func winnerOf(t *testing.T, iter int, reports []string) int {
	t.Helper()
	winner := -1
	for i, l := range reports {
		switch {
		case strings.HasPrefix(l, "won"):
			if winner >= 0 {
				t.Fatalf("iteration %d: racers %d and %d both won: %q", iter, winner, i, reports)
			}
			winner = i
		case strings.HasPrefix(l, "lost true"):
		default:
			t.Fatalf("iteration %d: racer %d: %q, want won or a lost with the exists error", iter, i, l)
		}
	}
	if winner < 0 {
		t.Fatalf("iteration %d: nobody won: %q", iter, reports)
	}
	return winner
}

// TestCrash_C10_ReadersRace: of N processes creating the same buffer at
// the same moment exactly one succeeds (and finds a consistent fresh
// buffer); the others get ErrReaderExists, matching fs.ErrExist.
func TestCrash_C10_ReadersRace(t *testing.T) {
	for _, n := range []int{2, 8} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			name := testName(t)
			t.Cleanup(func() { reclaim(name) })
			procs := racers(t, "rel-race-reader", n)
			iters := raceIterations()
			wins := make([]int, n)
			for iter := range iters {
				reports := race(t, procs, name)
				w := winnerOf(t, iter, reports)
				if reports[w] != "won ok" {
					t.Fatalf("iteration %d: winner's check: %s", iter, reports[w])
				}
				wins[w]++
				procs[w].Send("close")
				procs[w].Expect("closed", 10*time.Second)
				if l := testproc.Leftovers(name); len(l) != 0 {
					t.Fatalf("iteration %d: after the winner's Close: %v", iter, l)
				}
			}
			t.Logf("%d races, wins per racer %v", iters, wins)
		})
	}
}

// TestCrash_C11_WritersRace: of N processes connecting as writer at the
// same moment exactly one succeeds, the others get ErrWriterExists fast;
// after the winner is SIGKILLed a new writer connects at once.
func TestCrash_C11_WritersRace(t *testing.T) {
	for _, n := range []int{2, 8} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			name := testName(t)
			r := mustReader(t, name, 0, 4096, fastPeer)
			procs := racers(t, "rel-race-writer", n)
			iters := raceIterations()
			var slowest time.Duration
			for iter := range iters {
				reports := race(t, procs, name)
				w := winnerOf(t, iter, reports)
				for i, l := range reports {
					if i == w {
						continue
					}
					f := strings.Fields(l) // lost true <N>us ...
					us, _ := strconv.Atoi(strings.TrimSuffix(f[2], "us"))
					slowest = max(slowest, time.Duration(us)*time.Microsecond)
				}
				if iter == iters-1 {
					procs[w].Kill()
					break
				}
				procs[w].Send("close")
				procs[w].Expect("closed", 10*time.Second)
			}
			t.Logf("%d races; slowest ErrWriterExists after %v (target 50ms)", iters, slowest)
			if slowest > hardBound {
				t.Errorf("a losing writer waited %v for ErrWriterExists", slowest)
			}
			start := time.Now()
			w, err := NewWriter(name, fastPeer)
			if err != nil {
				t.Fatalf("NewWriter after the winner was killed: %v", err)
			}
			t.Logf("new writer connected %v after the kill", time.Since(start))
			w.Close()
			if !r.WriterConnected() && r.v.load(offWriterPID) != 0 {
				t.Error("writer_pid not cleared by Close")
			}
		})
	}
}
