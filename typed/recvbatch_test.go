package typed_test

import (
	"testing"
)

// TestReceiver_AllBreakKeepsBatch: All decodes committed frames in
// batches; a break in the middle of a batch loses none of the decoded
// messages: the next Recv continues with the one after the break.
func TestReceiver_AllBreakKeepsBatch(t *testing.T) {
	ctx := testCtx(t)
	rx, tx := smallPair(t, 1<<16)
	for i := range 100 {
		if err := tx.Send(ctx, smallMsg(i)); err != nil {
			t.Fatal(err)
		}
	}
	next := 0
	for round := range 5 { // the first All checks the codec on one frame, later ones batch
		for v, err := range rx.All(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			if err := checkSmall(next, v); err != nil {
				t.Fatalf("round %d, message %d: %v", round, next, err)
			}
			next++
			if next%7 == 0 {
				break
			}
		}
		v, err := rx.Recv(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := checkSmall(next, v); err != nil {
			t.Fatalf("Recv after break, message %d: %v", next, err)
		}
		next++
	}
}
