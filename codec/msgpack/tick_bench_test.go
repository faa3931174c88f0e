package msgpack_test

import (
	"context"
	"testing"

	"github.com/zerobuffer/zerobuffer-go/codec"
	"github.com/zerobuffer/zerobuffer-go/codec/msgpack"
	"github.com/zerobuffer/zerobuffer-go/internal/codectest"
	"github.com/zerobuffer/zerobuffer-go/internal/typedmsg"
)

// BenchmarkTick: the codec's own cost per 64-byte message, without a ring:
// encoding into a reservation (codectest.MaxSink) and into scratch memory plus a copy
// (sink), and decoding, for generated and reflection code.
func BenchmarkTick(b *testing.B) {
	ctx := context.Background()
	v := typedmsg.MakeTick(1)
	gen, refl := msgpack.New[typedmsg.Tick](), msgpack.New[typedmsg.TickReflect]()
	frame, _ := codec.Marshal[typedmsg.Tick](gen, v)
	b.Run("encode/gen/reserve", func(b *testing.B) {
		m := &codectest.MaxSink{}
		b.ReportAllocs()
		for b.Loop() {
			m.MaxCalls = 0
			_ = gen.EncodeFrame(ctx, m, v)
		}
	})
	b.Run("encode/gen/scratch", func(b *testing.B) {
		s := &sink{}
		b.ReportAllocs()
		for b.Loop() {
			_ = gen.EncodeFrame(ctx, s, v)
		}
	})
	b.Run("encode/refl/reserve", func(b *testing.B) {
		m := &codectest.MaxSink{}
		b.ReportAllocs()
		for b.Loop() {
			_ = refl.EncodeFrame(ctx, m, typedmsg.TickReflect(v))
		}
	})
	b.Run("encode/refl/scratch", func(b *testing.B) {
		s := &sink{}
		b.ReportAllocs()
		for b.Loop() {
			_ = refl.EncodeFrame(ctx, s, typedmsg.TickReflect(v))
		}
	})
	b.Run("decode/gen", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = gen.Decode(frame)
		}
	})
	b.Run("decode/gen/allow-unknown", func(b *testing.B) {
		lax := msgpack.New[typedmsg.Tick](msgpack.AllowUnknownFields())
		b.ReportAllocs()
		for b.Loop() {
			_, _ = lax.Decode(frame)
		}
	})
	b.Run("decode/gen/same-type", func(b *testing.B) {
		same := gen.ForSameType()
		b.ReportAllocs()
		for b.Loop() {
			_, _ = codec.Decode(same, frame)
		}
	})
	b.Run("decode/gen/same-type-direct", func(b *testing.B) {
		same := gen.ForSameType()
		b.ReportAllocs()
		for b.Loop() {
			_, _ = same.Decode(frame)
		}
	})
	b.Run("decode/gen/same-type-into", func(b *testing.B) {
		same := codec.Guard(gen.ForSameType())
		var t typedmsg.Tick
		b.ReportAllocs()
		for b.Loop() {
			_ = same.DecodeInto(frame, &t)
		}
	})
	b.Run("decode/gen/same-type-exclusive", func(b *testing.B) {
		// What a typed Receiver's batch pays: no pool.
		same := gen.ForSameType().(codec.ExclusiveDecoder[typedmsg.Tick]).Exclusive()
		var t typedmsg.Tick
		b.ReportAllocs()
		for b.Loop() {
			_ = same.DecodeInto(frame, &t)
		}
	})
	b.Run("decode/refl/exclusive", func(b *testing.B) {
		x := refl.Exclusive()
		var t typedmsg.TickReflect
		b.ReportAllocs()
		for b.Loop() {
			_ = x.DecodeInto(frame, &t)
		}
	})
	b.Run("decode/gen/msgp-only", func(b *testing.B) {
		// The floor: the generated method alone, into one reused value.
		var t typedmsg.Tick
		b.ReportAllocs()
		for b.Loop() {
			_, _ = t.UnmarshalMsg(frame)
		}
	})
	b.Run("decode/refl", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = refl.Decode(frame)
		}
	})
}
