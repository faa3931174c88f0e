package typed_test

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/zerobuffer/zerobuffer-go/codec"
	"github.com/zerobuffer/zerobuffer-go/codec/msgpack"
	"github.com/zerobuffer/zerobuffer-go/core"
	"github.com/zerobuffer/zerobuffer-go/typed"
)

// soloCodec is the msgpack codec of Small whose exclusive decoders
// (codec.ExclusiveDecoder) count their calls and record any two that
// overlap.
type soloCodec struct {
	*msgpack.Codec[Small]
	made    atomic.Int32
	calls   atomic.Int64
	overlap atomic.Int64
}

// ForSameType returns c: the Receiver's decoder after the type check is
// then c's exclusive decoder too.
func (c *soloCodec) ForSameType() codec.Decoder[Small] { return c }

func (c *soloCodec) Exclusive() codec.IntoDecoder[Small] {
	c.made.Add(1)
	return &soloDecoder{IntoDecoder: c.Codec.Exclusive(), c: c}
}

type soloDecoder struct {
	codec.IntoDecoder[Small]
	c    *soloCodec
	busy atomic.Bool
}

func (*soloDecoder) RecoversPanics() {}

func (d *soloDecoder) DecodeInto(frame []byte, dst *Small) error {
	if !d.busy.CompareAndSwap(false, true) {
		d.c.overlap.Add(1)
	}
	defer d.busy.Store(false)
	d.c.calls.Add(1)
	return d.IntoDecoder.DecodeInto(frame, dst)
}

// TestReceiver_ExclusiveDecoder: a Receiver decodes its batches with the
// codec's exclusive decoder, and never from two goroutines at once, even
// with several goroutines receiving and the C goroutine running; every
// message arrives exactly once.
func TestReceiver_ExclusiveDecoder(t *testing.T) {
	ctx := testCtx(t)
	name := bufferName(t)
	sc := &soloCodec{Codec: msgpack.New[Small]()}
	rx, err := typed.Listen[Small](name, core.BufferConfig{PayloadSize: 1 << 12}, sc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rx.Close() })
	tx, err := typed.Dial(ctx, name, msgpack.New[Small]())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tx.Close() })
	const n = 20000
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range n {
			if err := tx.Send(ctx, smallMsg(i)); err != nil {
				t.Error(err)
				return
			}
		}
	})
	seen := make([]atomic.Int32, n)
	var got atomic.Int64
	all := make(chan struct{})
	take := func(v Small) {
		i := int(v.Seq)
		if i < 0 || i >= n || checkSmall(i, v) != nil {
			t.Errorf("unexpected message %+v", v)
			return
		}
		seen[i].Add(1)
		if got.Add(1) == n {
			close(all)
		}
	}
	for range 3 {
		wg.Go(func() {
			for got.Load() < n && ctx.Err() == nil {
				v, err := rx.Recv(ctx)
				if err != nil {
					return
				}
				take(v)
			}
		})
	}
	wg.Go(func() {
		for v := range rx.C(ctx) {
			take(v)
			if got.Load() >= n {
				return
			}
		}
	})
	select {
	case <-all:
	case <-ctx.Done():
		t.Errorf("%d of %d messages arrived before the deadline", got.Load(), n)
	}
	rx.Close() // ends the Recvs still waiting, the C goroutine and a stuck sender
	wg.Wait()
	for i := range seen {
		if c := seen[i].Load(); c != 1 {
			t.Fatalf("message %d arrived %d times", i, c)
		}
	}
	if sc.made.Load() == 0 || sc.calls.Load() == 0 {
		t.Fatalf("the exclusive decoder was not used: %d made, %d calls", sc.made.Load(), sc.calls.Load())
	}
	if o := sc.overlap.Load(); o != 0 {
		t.Fatalf("%d exclusive decodes overlapped", o)
	}
	t.Logf("%d of %d messages decoded by the exclusive decoders", sc.calls.Load(), n)
}
