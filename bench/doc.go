// Package bench is the cross-process benchmark harness of `zerobuffer
// bench`: it measures zerobuffer's three write paths (copy WriteFrame,
// zero-copy Reserve/Commit, batch WriteFrames + ReadBatch) side by side with the
// transports a user would otherwise pick — an in-process Go channel (the
// reference a "drop-in for Go channels" is judged against), os.Pipe, a
// Unix domain socket and TCP over 127.0.0.1 — and with the machine's own
// limits measured in the same run (memcpy bandwidth, the cache-line round
// trip between two processes, and a busy-polling shared-memory ring that
// serves as the ceiling).
//
// For every message size it runs:
//
//   - one-way throughput: the parent sends for [Config.Duration], a child
//     process receives and verifies every message (sequence number plus a
//     checksum over one word of every cache line, so that nothing can be
//     optimised away); the rate is taken at the receiver;
//   - ping-pong round trips, back-to-back and with an idle gap before each
//     request, recorded in a log-linear [Histogram] (p50, p99, p99.9, max);
//   - the CPU each side used (getrusage of each process over its timed
//     window), and the CPU of a reader blocked in ReadFrame with a silent
//     writer.
//
// [Run] returns a [Report], which renders as markdown tables with ratios
// and the project's targets ([Report.Markdown]), as JSON, or as a PNG of
// latency CDFs ([Report.WritePlot]).
//
// Two more sets of cases run on their own: [RunFanIn] (several sender
// processes into one receiver, and duplex clients into one server) and
// [RunTyped] (typed channels per codec and size, each beside an
// in-process chan of the same Go type and the core per-frame path).
//
// # Caveats
//
// The peers are child processes of the running binary: a program that
// calls [Run] must start with `if bench.IsChild() { os.Exit(bench.ChildMain()) }`
// (the command and this package's tests do). Children die with the parent
// (Pdeathsig on Linux, end of stdin elsewhere) and the harness removes the
// shared-memory objects it created, also after a failed case.
//
// The figures are as good as the machine is quiet: on a small VM that runs
// other work, spinning peers and scheduling noise dominate. CPU figures are
// per process, so do not run two [Run] calls at once. The in-process Go
// channel reports the CPU of both goroutines together.
//
// Only the limit benchmarks view shared memory directly (shmview.go, the
// package's only use of unsafe); the zerobuffer transports use the core
// package's public API.
package bench
