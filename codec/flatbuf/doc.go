// Package flatbuf is the FlatBuffers codec: a sender builds a FlatBuffers
// buffer into the frame, and a receiver reads the message in place, as a
// table view over shared memory, with no copy and no allocation. Every
// frame is verified before a view is handed out, so a malformed or
// malicious frame gives an error wrapping codec.ErrInvalid, never a panic
// in a generated accessor.
//
// # Recipe: from a .fbs file to a verified zero-copy receiver
//
// The package sensor (codec/flatbuf/sensor) is this recipe carried out for
// sensor.fbs; copy it for your schema.
//
// 1. Write the schema with a root_type and a file_identifier (4 bytes,
// checked on every frame):
//
//	namespace telemetry;
//	table Sample { id: uint32; values: [double]; label: string; }
//	file_identifier "TLM1";
//	root_type Sample;
//
// 2. Generate the Go code with the object API, and commit it (flatc comes
// from the flatbuffers-compiler package on Debian):
//
//	//go:generate flatc --go --gen-object-api -o .. sample.fbs
//
// 3. Write the verifier: [VerifyRoot] checks the identifier, the root table
// and its vtable; then check every field the accessors you use will
// follow, in schema order (field 0 is the first), with the [Table]
// methods. A field you do not check must not be read.
//
//	func Verify(buf []byte) (flatbuf.Table, error) {
//		t, err := flatbuf.VerifyRoot(buf, "TLM1")
//		if err != nil {
//			return t, err
//		}
//		if err := t.Scalar(0, 4); err != nil { // id: uint32
//			return t, err
//		}
//		if _, err := t.Vector(1, 8); err != nil { // values: [double]
//			return t, err
//		}
//		return t, t.String(2) // label
//	}
//
// 4. Turn the verified table into the generated view type:
//
//	func View(buf []byte) (telemetry.Sample, error) {
//		var s telemetry.Sample
//		t, err := Verify(buf)
//		if err != nil {
//			return s, err
//		}
//		s.Init(buf, t.Pos())
//		return s, nil
//	}
//
// 5. Build the codecs. The name must start with [NamePrefix]; the sender
// writes it into the buffer's metadata and the receiver checks it:
//
//	const name = flatbuf.NamePrefix + "telemetry.Sample"
//	enc, err := flatbuf.NewEncoder(name,
//		func(b *flatbuffers.Builder, s *telemetry.SampleT) flatbuffers.UOffsetT { return s.Pack(b) },
//		flatbuf.WithFileIdentifier("TLM1"))
//	dec, err := flatbuf.NewDecoder(name, View)
//
// 6. Receive in place with typed.ListenView, which accepts only such
// borrowing decoders and offers only scoped receives, so a view cannot
// outlive its frame; send with typed.Dial:
//
//	rx, err := typed.ListenView("telemetry", core.BufferConfig{}, dec)
//	err = rx.RecvFunc(ctx, func(s telemetry.Sample) error {
//		use(s.Id(), s.ValuesLength(), s.Label()) // reads shared memory
//		return nil                              // the frame is released here
//	})
//
//	tx, err := typed.Dial(ctx, "telemetry", enc)
//	err = tx.Send(ctx, &telemetry.SampleT{Id: 1, Values: []float64{0.5}, Label: "a"})
//
// Large messages: a generated Pack writes vectors of scalars one element
// at a time, and the encoder then copies the finished buffer into the
// ring. For speed at kilobytes and up, write such vectors in one copy (see
// float64Vector in sensor/bulk.go) and give the encoder a size bound with
// [WithSizeBound], so that it builds each message in the ring itself; read
// them with one copy or as bytes over the frame (sensor's AppendValues
// and ValuesBytes).
//
// To keep a value beyond its frame, decode into the object type instead
// (see sensor.ObjectDecoder) and use typed.Listen. A fuzz test of the
// verifier (see fuzz_test.go in this package) is the way to check that
// step 3 covers every accessor.
//
// # Caveats
//
// A view (and every string or slice taken from it) aliases shared memory
// and is valid only inside the receive callback. Encoder and Decoder are
// safe for concurrent use.
package flatbuf
