package typedmsg

// TickReflect has the fields of [Tick] and no methods: the msgpack codec
// encodes and decodes it by reflection. Its encoding is a map with the
// same keys as Tick's, so the two interoperate in both directions (msgp
// writes integers in their shortest form, vmihailenco/msgpack at fixed
// width; both are valid MessagePack and both decoders accept either).
type TickReflect Tick

// MakeTick returns the i-th message of a test stream.
func MakeTick(i int) Tick {
	kinds := [...]string{"bid", "ask", "trade", "cancel"}
	return Tick{
		Seq:  uint64(i),
		TS:   1_700_000_000_000_000_000 + int64(i)*1000,
		Kind: kinds[i%len(kinds)],
		X:    float64(i) * 0.5,
		Y:    -float64(i) / 3,
	}
}
