package bench

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
)

// MinSize is the smallest message size the harness accepts: every
// message carries its sequence number in its first 8 bytes.
const MinSize = 16

// message is the content every transport sends: a fixed pseudo-random
// template whose first 8 bytes are replaced by the message's sequence
// number. Both sides build the same template from the size, so the
// receiver can verify every message without the sender sending a
// checksum.
//
// The check reads the sequence word and one 8-byte word of every 64-byte
// cache line (plus the last 8 bytes), so the receiver pulls every line of
// the message into its cache, as a real consumer would, at a cost small
// next to the transfer itself.
type message struct {
	tmpl   []byte
	fold   uint64 // checksum of tmpl with a zero sequence word
	weight uint64 // factor of the sequence word in the checksum
}

func newMessage(size int) *message {
	r := rand.New(rand.NewPCG(uint64(size), 0x5eed))
	b := make([]byte, size)
	for i := 0; i+8 <= len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], r.Uint64())
	}
	for i := len(b) &^ 7; i < len(b); i++ {
		b[i] = byte(r.Uint32())
	}
	binary.LittleEndian.PutUint64(b, 0)
	// The checksum is linear in the sequence word (its first term):
	// checksum(stamped) = fold + seq*weight, mod 2^64.
	one := make([]byte, size)
	stamp(one, 1)
	return &message{tmpl: b, fold: checksum(b), weight: checksum(one)}
}

// fill copies the template into dst (len(dst) == size) and stamps seq.
func (m *message) fill(dst []byte, seq uint64) {
	copy(dst, m.tmpl)
	binary.LittleEndian.PutUint64(dst, seq)
}

// stamp writes seq into a buffer that already holds the template.
func stamp(dst []byte, seq uint64) { binary.LittleEndian.PutUint64(dst, seq) }

// checksum folds the first word of every 64-byte line and the last word.
func checksum(b []byte) uint64 {
	var s uint64
	for i := 0; i+8 <= len(b); i += 64 {
		s = s*31 + binary.LittleEndian.Uint64(b[i:])
	}
	return s*31 + binary.LittleEndian.Uint64(b[len(b)-8:])
}

// verify checks that b is the template stamped with seq.
func (m *message) verify(b []byte, seq uint64) error {
	if len(b) != len(m.tmpl) {
		return fmt.Errorf("bench: message %d has %d bytes, want %d", seq, len(b), len(m.tmpl))
	}
	got := binary.LittleEndian.Uint64(b)
	if got != seq {
		return fmt.Errorf("bench: message sequence %d, want %d", got, seq)
	}
	if checksum(b) != m.expect(seq) {
		return fmt.Errorf("bench: message %d: checksum mismatch", seq)
	}
	return nil
}

// expect returns checksum(template stamped with seq) without building it.
func (m *message) expect(seq uint64) uint64 { return m.fold + seq*m.weight }
