package core

import (
	"encoding/binary"
	"fmt"

	"github.com/zerobuffer/zerobuffer-go/internal/layout"
)

// SetMetadata writes the buffer's metadata: an 8-byte length prefix and p
// into the metadata block, then metadata_written_bytes last, so a reader
// never sees partial metadata. Metadata is write-once per buffer: a second
// call, or a new writer on a buffer that already has metadata, fails with
// [ErrMetadataAlreadyWritten]. It fails with [ErrMetadataTooLarge] when
// 8+len(p) exceeds the block (always, for a block of size 0).
func (w *Writer) SetMetadata(p []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.usableLocked(); err != nil {
		return err
	}
	if w.metaDone || w.v.load(offMetaWritten) > 0 {
		w.metaDone = true
		return ErrMetadataAlreadyWritten
	}
	m := uint64(len(w.v.meta))
	total := uint64(len(p)) + 8
	if total > m {
		return fmt.Errorf("%w: %d bytes + 8-byte prefix, block holds %d", ErrMetadataTooLarge, len(p), m)
	}
	copy(w.v.meta[8:], p)
	failpointHit("writer.midMetadata")
	binary.LittleEndian.PutUint64(w.v.meta[0:8], uint64(len(p)))
	w.v.store(offMetaFree, m-total)
	w.v.store(offMetaWritten, total) // publish last
	w.metaDone = true
	return nil
}

// Metadata returns a copy of the buffer's metadata, or nil, nil if none
// has been written.
func (w *Writer) Metadata() ([]byte, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closing.Load() || w.v == nil {
		return nil, ErrClosed
	}
	b, ok, err := layout.Metadata(w.v.meta, w.v.load(offMetaWritten))
	if err != nil || !ok {
		return nil, err
	}
	return append([]byte(nil), b...), nil
}
