package platform

import "testing"

// FuzzSemWord runs an op stream over an in-memory semaphore whose data word
// starts as an arbitrary 64-bit value, as a corrupted or hostile peer could
// leave it. The glibc layout must hold throughout: the value is the low 32
// bits, the waiter count the high 32. Post never lowers the value and
// never raises it past SemValueMax; TryTake and Wait take exactly
// min(value, max); neither changes the waiter count except for Wait's own
// register/deregister pair, which cancels out; nothing panics.
func FuzzSemWord(f *testing.F) {
	f.Add(uint64(0), []byte{0, 1, 1, 1, 2, 1})
	f.Add(uint64(3)|1<<32, []byte{1, 2, 0, 5, 2, 9})
	f.Add(uint64(SemValueMax), []byte{0, 255})
	f.Add(^uint64(0), []byte{0, 1, 1, 255, 2, 1, 0, 3})
	f.Fuzz(func(t *testing.T, word uint64, ops []byte) {
		w := new(uint64)
		*w = word
		s := &Semaphore{word: w}
		for i := 0; i+1 < len(ops); i += 2 {
			before := *w
			v, waiters := uint32(before), uint32(before>>32)
			if s.Value() != v || s.Waiters() != waiters || s.RawWord() != before {
				t.Fatalf("decode of %#x: value %d waiters %d", before, s.Value(), s.Waiters())
			}
			arg := uint32(ops[i+1])
			if ops[i+1] == 255 {
				arg = ^uint32(0)
			}
			var want uint32
			switch ops[i] % 3 {
			case 0: // post
				s.Post(arg)
				want = v
				if v < SemValueMax {
					want = uint32(min(uint64(v)+uint64(arg), SemValueMax))
				}
			case 1: // trywait for up to arg
				got := s.TryTake(arg)
				if got != min(v, arg) {
					t.Fatalf("TryTake(%d) from %d took %d", arg, v, got)
				}
				want = v - got
			case 2: // timed wait that cannot sleep
				got := s.Wait(0, arg, nil)
				if e := min(v, max(arg, 1)); got != e {
					t.Fatalf("Wait(0, %d) from %d took %d, want %d", arg, v, got, e)
				}
				want = v - got
			}
			if after := *w; uint32(after) != want || uint32(after>>32) != waiters {
				t.Fatalf("op %d arg %d on %#x gave %#x, want value %d waiters %d", ops[i]%3, arg, before, after, want, waiters)
			}
		}
	})
}
