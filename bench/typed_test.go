package bench

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/zerobuffer/zerobuffer-go/codec"
	"github.com/zerobuffer/zerobuffer-go/codec/msgpack"
	"github.com/zerobuffer/zerobuffer-go/internal/typedmsg"
)

// typedBadAt is the message the test senders below get wrong.
const typedBadAt = 300

func init() {
	// Test-only child roles (the child is this test binary): senders that
	// send a wrong value at message typedBadAt.
	typedRoles["typed-raw-bad"] = func(_ context.Context, j job, ready func(string) error) (sideResult, error) {
		ctx, cancel := childContext(j)
		defer cancel()
		tx, err := dialTyped(ctx, j, codec.Raw{}, ready)
		if err != nil {
			return sideResult{}, err
		}
		defer tx.Close()
		buf := make([]byte, j.Size)
		newMessage(j.Size).fill(buf, 0)
		return sendTyped(ctx, tx, func(seq uint64) []byte {
			stamp(buf, seq)
			switch seq {
			case typedBadAt:
				buf[len(buf)-1]++ // right sequence number, wrong content
			case typedBadAt + 1:
				buf[len(buf)-1]--
			}
			return buf
		})
	}
	typedRoles["typed-tick-bad"] = func(_ context.Context, j job, ready func(string) error) (sideResult, error) {
		ctx, cancel := childContext(j)
		defer cancel()
		tx, err := dialTyped(ctx, j, msgpack.New[typedmsg.Tick](), ready)
		if err != nil {
			return sideResult{}, err
		}
		defer tx.Close()
		return sendTyped(ctx, tx, func(seq uint64) typedmsg.Tick {
			t := makeTick(seq, tickKind)
			if seq == typedBadAt {
				t.Y++
			}
			return t
		})
	}
}

// TestTyped_MismatchFails: a value that differs from what its sequence
// number says fails the case, across processes, for a view receiver (raw)
// and a decoding one (msgpack).
func TestTyped_MismatchFails(t *testing.T) {
	for _, tc := range []struct {
		role  string
		recv  func(string, int, int) (func(context.Context, uint64) error, func() error, error)
		frame int
	}{
		{"typed-raw-bad", rawRecv, 64},
		{"typed-tick-bad", typedCodecs["msgpack-gen"].recv, 64},
	} {
		t.Run(tc.role, func(t *testing.T) {
			_, n, err := typedPairRate(context.Background(), tc.role, 64, tc.frame, 10*time.Second, tc.recv)
			if err == nil || !strings.Contains(err.Error(), "receiving message 300") {
				t.Fatalf("err = %v, want a failure at message %d", err, typedBadAt)
			}
			if n != typedBadAt-1 {
				t.Errorf("%d messages verified, want %d", n, typedBadAt-1)
			}
		})
	}
}

// TestTyped_Chan: the channel reference verifies its values too.
func TestTyped_Chan(t *testing.T) {
	for _, name := range TypedCodecs {
		rate, n, err := typedCodecs[name].chanRate(1<<10, 20*time.Millisecond)
		if err != nil || rate <= 0 || n == 0 {
			t.Errorf("%s: rate %v, %d values, err %v", name, rate, n, err)
		}
	}
	_, n, err := chanTyped(time.Second, 4, func(seq uint64) uint64 { return seq + seq/100 },
		func(seq, v uint64) error {
			if v != seq {
				return codec.ErrInvalid
			}
			return nil
		})
	if err == nil || n != 99 {
		t.Errorf("chanTyped with value 100 wrong: %d verified, err %v", n, err)
	}
}
