package platform

import "encoding/binary"

// Layout of a glibc named semaphore file (docs/PROTOCOL.md section 7): a 32-byte file
// whose first 8 bytes are the 64-bit "data" word (low 32 bits: value,
// high 32 bits: number of registered waiters), followed by the i32
// "private" field, which sem_open sets to 128 (LLL_SHARED: futex calls
// without FUTEX_PRIVATE_FLAG).
const (
	SemFileSize   = 32
	SemValueMax   = 0x7fffffff // SEM_VALUE_MAX
	semShared     = 128
	semWaiterUnit = uint64(1) << 32
)

// SemImage returns the 32 bytes sem_open writes for a new semaphore with
// the given value.
func SemImage(value uint32) []byte {
	b := make([]byte, SemFileSize)
	binary.LittleEndian.PutUint64(b[0:8], uint64(value))
	binary.LittleEndian.PutUint32(b[8:12], semShared)
	return b
}
