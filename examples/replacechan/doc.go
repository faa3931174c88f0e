// Command replacechan shows how a Go channel between goroutines becomes a
// ZeroBuffer between processes with package typed: the worker function
// that ranges over a <-chan Job is unchanged, and each channel operation
// is replaced by one line.
//
//	before (one process)                  after (two processes)
//	jobs := make(chan Job, 64)            rx, _ := typed.Listen("jobs", cfg, msgpack.New[Job]())   // consumer
//	                                      tx, _ := typed.Dial(ctx, "jobs", msgpack.New[Job]())     // producer
//	jobs <- j                             tx.Send(ctx, j)
//	close(jobs)                           tx.Close()
//	worker(jobs)                          worker(rx.C(ctx)); rx.Err()
//
//	go run ./examples/replacechan
//
// The program runs the "before" pipeline, then the "after" pipeline with
// the producer in a child process (this program re-executed with
// -role producer), and prints both results, which are equal.
//
// # Caveats
//
// A Go channel passes values by reference-sharing; the ZeroBuffer copies
// them through shared memory with a codec, so pointers inside a Job do not
// survive the trip (their targets are encoded). Closing is different too:
// after the producer's Close the consumer drains and its channel closes
// (rx.Err() == nil); a crashed producer closes it with core.ErrWriterDead.
package main
