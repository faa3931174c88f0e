package core

// Spec-literal peers (PROTOCOL.md 5.2 and 5.3, no shortcuts: one sem-w
// token per frame, one sem-r post per release, sem-r waited on one token
// at a time) run against the library's fast paths.

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/zerobuffer/zerobuffer-go/internal/layout"
	"github.com/zerobuffer/zerobuffer-go/platform"
)

// patternBase lets frames be filled and checked with memmove and
// bytes.Equal: frame s of n bytes is patternBase[s%256 : s%256+n].
var patternBase = func() []byte {
	b := make([]byte, 256+(64<<10))
	for i := range b {
		b[i] = byte(i)
	}
	return b
}()

func patternOf(seq uint64, n int) []byte { return patternBase[seq%256 : int(seq%256)+n] }

// foreignPeer maps a buffer the way the C++ implementation does.
type foreignPeer struct {
	v          *view
	semW, semR *platform.Semaphore
}

func openForeign(t *testing.T, name string) *foreignPeer {
	t.Helper()
	names, _ := platform.ObjectNames(name, platform.Dirs{})
	seg, err := platform.OpenSegment(names.Shm, true)
	if err != nil {
		t.Fatal(err)
	}
	head, _ := segmentHead(seg)
	g, err := head.Validate(uint64(len(seg.Bytes())))
	if err != nil {
		t.Fatal(err)
	}
	f := &foreignPeer{v: newView(seg, g)}
	if f.semW, err = platform.OpenSemaphore(names.SemW); err != nil {
		t.Fatal(err)
	}
	if f.semR, err = platform.OpenSemaphore(names.SemR); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.semW.Close(); f.semR.Close(); seg.Close() })
	return f
}

// foreignCount is 10^6 frames, or 10^5 in -short mode and under the race
// detector (CI runs the full count without it).
func foreignCount(t *testing.T) int {
	if testing.Short() || raceEnabled {
		return 100_000
	}
	return 1_000_000
}

// readAll is the C++ reader: one token per frame, positions and free
// bytes updated per frame, one sem-r post per release. At the end, with
// the writer gone, it checks that the OIEB is exactly at rest.
func (f *foreignPeer) readAll(t *testing.T, count int, sizes func() int) {
	p := f.v.p
	readPos, readCount := f.v.load(offReadPos), f.v.load(offReadCount)
	for seq := uint64(1); seq <= uint64(count); seq++ {
		if f.semW.Wait(5*time.Second, 1, nil) != 1 {
			t.Fatalf("frame %d: no token within 5s", seq)
		}
		hdr := func() layout.Header {
			var h [16]byte
			if readPos < p {
				copy(h[:], f.v.ring[readPos:]) // bytes past the ring read as zero, like the page after EOF
			}
			return layout.Header{Size: binary.LittleEndian.Uint64(h[0:]), Sequence: binary.LittleEndian.Uint64(h[8:])}
		}
		if tail := p - readPos; tail > 0 && tail < 16 {
			// The Python reader reads a 16-byte header here and fails.
			t.Fatalf("frame %d: the writer left a %d-byte tail at %d", seq, tail, readPos)
		}
		h := hdr()
		if h.Size == 0 {
			f.v.add(offFree, p-readPos)
			readPos = 0
			readCount++
			h = hdr()
		}
		if h.Sequence != seq || h.Size == 0 || readPos+16+h.Size > p {
			t.Fatalf("frame %d: header %+v at %d", seq, h, readPos)
		}
		n := int(h.Size)
		if want := sizes(); n != want || !bytes.Equal(f.v.ring[readPos+16:readPos+16+h.Size], patternOf(seq, n)) {
			t.Fatalf("frame %d: %d bytes (want %d) or content wrong", seq, n, want)
		}
		readPos += 16 + h.Size
		if readPos >= p {
			readPos -= p
		}
		readCount++
		f.v.store(offReadPos, readPos)
		f.v.store(offReadCount, readCount)
		f.v.add(offFree, 16+h.Size)
		f.semR.Post(1)
	}
	for deadline := time.Now().Add(5 * time.Second); f.v.load(offWriterPID) != 0; {
		if time.Now().After(deadline) {
			t.Fatal("writer did not detach")
		}
		time.Sleep(time.Millisecond)
	}
	o := f.v.snapshot()
	wp := o.PayloadWritePos % p
	if o.PayloadWrittenCount != readCount || wp != readPos || o.PayloadFreeBytes != p || f.semW.Value() != 0 {
		t.Fatalf("OIEB not at rest: %+v (reader pos %d count %d, sem-w %d)", o, readPos, readCount, f.semW.Value())
	}
}

// writeAll is the C++ writer: free_bytes checked per frame, sem-r waited
// on one token at a time (100ms slices), markers only when 16 bytes
// remain, so it leaves the 1..15-byte tails of docs/PROTOCOL.md section 5.5.
func (f *foreignPeer) writeAll(t *testing.T, count int, sizes func() int) {
	p := f.v.p
	writePos, written := f.v.load(offWritePos), f.v.load(offWrittenCount)
	f.v.store(offWriterPID, platform.Getpid())
	defer f.v.store(offWriterPID, 0)
	for seq := uint64(1); seq <= uint64(count); seq++ {
		n := uint64(sizes())
		tot := 16 + n
		e := p - writePos
		need := tot
		if e < tot {
			need = e + tot
		}
		for deadline := time.Now().Add(5 * time.Second); f.v.load(offFree) < need; {
			if f.v.load(offReaderPID) == 0 || time.Now().After(deadline) {
				t.Fatalf("frame %d: no space (free %d, need %d)", seq, f.v.load(offFree), need)
			}
			f.semR.Wait(100*time.Millisecond, 1, nil)
		}
		if e < tot {
			if e >= 16 {
				layout.PutHeader(f.v.ring[writePos:], layout.Header{})
				written++
			}
			f.v.sub(offFree, e)
			writePos = 0
		}
		layout.PutHeader(f.v.ring[writePos:], layout.Header{Size: n, Sequence: seq})
		copy(f.v.ring[writePos+16:], patternOf(seq, int(n)))
		writePos += tot
		f.v.store(offWritePos, writePos)
		f.v.sub(offFree, tot)
		written++
		f.v.store(offWrittenCount, written)
		f.semW.Post(1)
		if writePos == p {
			writePos = p // the C++ writer keeps P here
		}
	}
}

// TestForeign_ReaderWithFastWriter: the library's writer, per frame (a
// copy, or Reserve/Commit in place) and batched (AppendFrame/Flush and
// WriteFrames), feeding a spec-literal reader.
func TestForeign_ReaderWithFastWriter(t *testing.T) {
	for _, mode := range []string{"copy", "reserve", "batch", "frames"} {
		t.Run(mode, func(t *testing.T) {
			count := foreignCount(t)
			name := testName(t)
			mustReader(t, name, 0, 64<<10) // owns the objects; the foreign reader consumes
			w := mustWriter(t, name)
			f := openForeign(t, name)
			done := make(chan struct{}) // the test ends after the writer's Close, not during it
			defer func() {
				if t.Failed() {
					w.Close() // wakes a writer blocked on a reader that gave up
				}
				<-done
			}()
			go func() {
				defer close(done)
				next := frameSizes(5, 3000)
				ctx := context.Background()
				var pending [][]byte
				for seq := uint64(1); seq <= uint64(count); seq++ {
					b := patternOf(seq, next())
					var err error
					if mode == "frames" {
						if pending = append(pending, b); len(pending) == int(seq%16)+1 || seq == uint64(count) {
							_, err = w.WriteFrames(ctx, pending)
							pending = pending[:0]
						}
					} else if mode == "reserve" {
						var buf []byte
						if buf, err = w.Reserve(ctx, len(b)); err == nil {
							copy(buf, b)
							err = w.Commit()
						}
					} else if mode == "batch" {
						err = w.AppendFrame(ctx, b)
						if err == nil && seq%7 == 0 {
							err = w.Flush()
						}
					} else {
						err = w.WriteFrame(ctx, b)
					}
					if err != nil {
						t.Errorf("write %d: %v", seq, err)
						return
					}
				}
				w.Close()
			}()
			f.readAll(t, count, frameSizes(5, 3000))
		})
	}
}

// TestForeign_WriterWithFastReader: a spec-literal writer (with its
// 1..15-byte tails) feeding the library's reader, through ReadFrame and
// through ReadBatch, which batch their releases; a blocked foreign writer
// must still be served.
func TestForeign_WriterWithFastReader(t *testing.T) {
	for _, mode := range []string{"frame", "batch"} {
		t.Run(mode, func(t *testing.T) {
			count := foreignCount(t)
			name := testName(t)
			r := mustReader(t, name, 0, 64<<10)
			f := openForeign(t, name)
			done := make(chan struct{})
			go func() {
				defer close(done)
				f.writeAll(t, count, frameSizes(9, 3000))
			}()
			next := frameSizes(9, 3000)
			ctx := ctxT(t, 5*time.Minute)
			check := func(data []byte, seq, want uint64) {
				if seq != want || !bytes.Equal(data, patternOf(seq, next())) {
					t.Fatalf("frame %d: seq %d len %d", want, seq, len(data))
				}
			}
			for seq := uint64(1); seq <= uint64(count); {
				if mode == "batch" {
					_, err := r.ReadBatch(ctx, 0, func(data []byte, s uint64) error {
						check(data, s, seq)
						seq++
						return nil
					})
					if err != nil {
						t.Fatalf("frame %d: %v", seq, err)
					}
					continue
				}
				fr, err := r.ReadFrame(ctx)
				if err != nil {
					t.Fatalf("frame %d: %v", seq, err)
				}
				check(fr.Data(), fr.Sequence(), seq)
				fr.Release()
				seq++
			}
			<-done
			if _, err := r.ReadFrame(ctx); !errors.Is(err, io.EOF) {
				t.Fatalf("after the foreign writer detached: %v", err)
			}
			assertRestState(t, r)
		})
	}
}
