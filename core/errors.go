package core

import (
	"fmt"
	"io/fs"
	"os"

	"github.com/zerobuffer/zerobuffer-go/internal/layout"
	"github.com/zerobuffer/zerobuffer-go/platform"
)

// ErrZeroBuffer is matched (errors.Is) by every error this package returns
// except context errors and io.EOF.
var ErrZeroBuffer = layout.ErrBase

// Sentinel errors. Each also matches [ErrZeroBuffer]; some match a standard
// library error as noted.
var (
	// ErrWriterDead: the writer process died (or disappeared) and every
	// frame it committed has been read.
	ErrWriterDead = newSentinel("zerobuffer: writer process is dead", nil)
	// ErrReaderDead: the reader closed or died; frames written now would
	// never be read.
	ErrReaderDead = newSentinel("zerobuffer: reader process is dead", nil)
	// ErrBufferFull: a write gave up waiting for space because its ctx
	// ended; the error also matches the ctx error.
	ErrBufferFull = newSentinel("zerobuffer: buffer is full", nil)
	// ErrFrameTooLarge: the frame can never fit the ring at its current
	// position (see [Writer.MaxFrameSize]).
	ErrFrameTooLarge = newSentinel("zerobuffer: frame too large", nil)
	// ErrInvalidFrameSize: a zero-length frame or a negative size.
	ErrInvalidFrameSize = newSentinel("zerobuffer: invalid frame size", nil)
	// ErrSequence: a frame arrived with an unexpected sequence number; see
	// [SequenceError]. It is sticky.
	ErrSequence = newSentinel("zerobuffer: sequence error", nil)
	// ErrMetadataAlreadyWritten: metadata is write-once per buffer.
	ErrMetadataAlreadyWritten = newSentinel("zerobuffer: metadata already written", nil)
	// ErrMetadataTooLarge: 8 + len(metadata) exceeds the metadata block.
	ErrMetadataTooLarge = newSentinel("zerobuffer: metadata too large for buffer", nil)
	// ErrWriterExists: another live writer is connected. Matches fs.ErrExist.
	ErrWriterExists = newSentinel("zerobuffer: another writer is already connected", fs.ErrExist)
	// ErrReaderExists: another live reader owns the name. Matches fs.ErrExist.
	ErrReaderExists = newSentinel("zerobuffer: another reader already owns the buffer", fs.ErrExist)
	// ErrNotFound: no buffer of that name. Matches fs.ErrNotExist.
	ErrNotFound = newSentinel("zerobuffer: no such buffer", fs.ErrNotExist)
	// ErrNotReady: the buffer exists but its reader has not finished
	// creating it; retry shortly.
	ErrNotReady = newSentinel("zerobuffer: buffer not ready", nil)
	// ErrClosed: the Reader or Writer was closed. Matches os.ErrClosed.
	ErrClosed = newSentinel("zerobuffer: closed", os.ErrClosed)
	// ErrNoReservation: Commit without a preceding Reserve.
	ErrNoReservation = newSentinel("zerobuffer: commit without reserve", nil)
	// ErrInvalidName: the name is empty, too long or contains '/'.
	ErrInvalidName = platform.ErrInvalidName
	// ErrCorrupt: shared memory holds impossible values; see
	// [CorruptError]. It is sticky for a Reader.
	ErrCorrupt = layout.ErrCorrupt
	// ErrVersion: the buffer speaks another major protocol version.
	ErrVersion = layout.ErrVersion
	// ErrNoSpace: the shared-memory directory (/dev/shm) has no room for a
	// new buffer of the size asked for. The error also matches
	// syscall.ENOSPC and names the directory and the size.
	ErrNoSpace = newSentinel("zerobuffer: no space for the buffer", nil)
	// ErrForeignOwner: a buffer's segment, semaphore or lock file belongs
	// to a user this side was not told to trust (see [WithAllowedOwners]
	// and [WithGroup]). Matches fs.ErrPermission.
	ErrForeignOwner = newSentinel("zerobuffer: buffer object owned by an untrusted user", fs.ErrPermission)
	// ErrUnsafePath: a lock directory or lock file another user could
	// control (symbolic link, foreign owner, unsafe mode, FIFO, hard link).
	ErrUnsafePath = platform.ErrUnsafePath
	// ErrIncomplete: the objects of a name do not form a complete buffer
	// (no valid segment, semaphores missing or of the wrong size), so
	// [RemoveStale] leaves them alone.
	ErrIncomplete = newSentinel("zerobuffer: not a complete buffer", nil)
)

// CorruptError names the field of shared memory that held an impossible
// value. It matches [ErrCorrupt].
type CorruptError = layout.CorruptError

// SequenceError reports a frame whose sequence number was not the one
// expected. It matches [ErrSequence].
type SequenceError struct {
	Expected, Got uint64
}

func (e *SequenceError) Error() string {
	return fmt.Sprintf("zerobuffer: sequence error: expected %d, got %d", e.Expected, e.Got)
}

// Is reports whether target is ErrSequence or ErrZeroBuffer.
func (e *SequenceError) Is(target error) bool {
	return target == ErrSequence || target == ErrZeroBuffer
}

type sentinel struct {
	msg  string
	also error
}

func newSentinel(msg string, also error) error { return &sentinel{msg: msg, also: also} }

func (e *sentinel) Error() string { return e.msg }

func (e *sentinel) Is(target error) bool {
	return target == ErrZeroBuffer || (e.also != nil && target == e.also)
}
