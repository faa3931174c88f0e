package platform

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// macOS has no /dev/shm: POSIX shared memory and named semaphores live in
// kernel name tables and are reached through the BSD system calls
// shm_open, shm_unlink, sem_open, ... This file and sem_darwin.go issue
// them directly (unix.Syscall traps into the kernel; no cgo, no libSystem
// and no variadic C calls, see docs/PLATFORMS.md section 3). Their numbers
// have been stable since Mac OS X 10.0. The names come from [DarwinNames].

// Segment is a POSIX shared-memory object mapped into this process.
type Segment struct {
	path string // the object name
	data []byte // exactly what mmap returned, kept for munmap
}

// CreateSegment creates the shared-memory object name with O_EXCL, sizes
// it with ftruncate (macOS allows that once per object and rounds it up
// to the page size) and maps size bytes of it. The new segment reads as
// zeros. On error nothing is left behind. An existing name fails with an
// error matching fs.ErrExist.
func CreateSegment(path string, size int64, mode os.FileMode) (*Segment, error) {
	if size <= 0 || uint64(size) > uint64(^uint(0)>>1) {
		return nil, fmt.Errorf("zerobuffer: create %s: invalid size %d", path, size)
	}
	fd, err := shmOpen(path, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL, uint32(mode.Perm()))
	if err != nil {
		return nil, &os.PathError{Op: "shm_open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	_ = unix.Fchmod(fd, uint32(mode.Perm())) // undo the umask where the kernel applies it
	s, err := func() (*Segment, error) {
		if err := unix.Ftruncate(fd, size); err != nil {
			return nil, &os.PathError{Op: "ftruncate", Path: path, Err: err}
		}
		return mapShm(fd, path, int(size), true)
	}()
	if err != nil {
		_ = shmUnlink(path)
		return nil, err
	}
	return s, nil
}

// OpenSegment maps an existing shared-memory object. Its length is the
// size fstat reports at open time, which macOS rounds up to the page size:
// callers take the real size from the data and bounds-check against
// [Segment.Bytes].
func OpenSegment(path string, writable bool) (*Segment, error) {
	flags := unix.O_RDONLY
	if writable {
		flags = unix.O_RDWR
	}
	fd, err := shmOpen(path, flags, 0)
	if err != nil {
		return nil, &os.PathError{Op: "shm_open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, &os.PathError{Op: "fstat", Path: path, Err: err}
	}
	if st.Size <= 0 || uint64(st.Size) > uint64(^uint(0)>>1) {
		return nil, &os.PathError{Op: "mmap", Path: path, Err: ErrEmpty}
	}
	return mapShm(fd, path, int(st.Size), writable)
}

func mapShm(fd int, path string, size int, writable bool) (*Segment, error) {
	prot := unix.PROT_READ
	if writable {
		prot |= unix.PROT_WRITE
	}
	data, err := unix.Mmap(fd, 0, size, prot, unix.MAP_SHARED)
	if err != nil {
		return nil, &os.PathError{Op: "mmap", Path: path, Err: err}
	}
	return &Segment{path: path, data: data}, nil
}

// StillLinked reports whether the name still exists. macOS gives shared
// memory objects no identity (fstat reports no inode), so unlike on Linux
// a replacement of the object under the same name by a new reader is not
// detected here; the callers' lock and PID checks cover that case.
func (s *Segment) StillLinked() bool {
	fd, err := shmOpen(s.path, unix.O_RDONLY, 0)
	if err != nil {
		return errors.Is(err, unix.EACCES)
	}
	unix.Close(fd)
	return true
}

// Remove removes the object named by path, telling the kinds apart by
// the forms [DarwinNames] gives them: a name without '/' is shared
// memory (shm_unlink), a name whose only '/' is its first byte is a
// semaphore (sem_unlink), anything else is a file path (unlink). A
// missing object is not an error.
func Remove(path string) error {
	var err error
	op := "unlink"
	switch i := strings.LastIndexByte(path, '/'); {
	case i < 0:
		op, err = "shm_unlink", shmUnlink(path)
	case i == 0:
		op, err = "sem_unlink", semUnlink(path)
	default:
		err = unix.Unlink(path)
	}
	// Older kernels report a missing shm or semaphore name as EINVAL.
	if err != nil && !errors.Is(err, unix.ENOENT) && !(op != "unlink" && errors.Is(err, unix.EINVAL)) {
		return &os.PathError{Op: op, Path: path, Err: err}
	}
	return nil
}

func shmOpen(name string, flags int, mode uint32) (int, error) {
	p, err := unix.BytePtrFromString(name)
	if err != nil {
		return -1, err
	}
	for {
		r, _, e := unix.Syscall(unix.SYS_SHM_OPEN, uintptr(unsafe.Pointer(p)), uintptr(flags), uintptr(mode))
		switch e {
		case 0:
			return int(r), nil
		case unix.EINTR:
			continue
		default:
			return -1, e
		}
	}
}

func shmUnlink(name string) error { return unlinkName(unix.SYS_SHM_UNLINK, name) }

func semUnlink(name string) error { return unlinkName(unix.SYS_SEM_UNLINK, name) }

func unlinkName(trap uintptr, name string) error {
	p, err := unix.BytePtrFromString(name)
	if err != nil {
		return err
	}
	if _, _, e := unix.Syscall(trap, uintptr(unsafe.Pointer(p)), 0, 0); e != 0 {
		return e
	}
	return nil
}

func (s *Segment) closeFD() {}
