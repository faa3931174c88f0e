package platform

// Win32 and native calls that golang.org/x/sys/windows does not wrap.
// zsyscall_windows.go is generated from the //sys lines below by
// go generate (see generate.go).

//sys	createSemaphore(sa *windows.SecurityAttributes, initial int32, maximum int32, name *uint16) (handle windows.Handle, err error) [failretval==0 || e1==windows.ERROR_ALREADY_EXISTS] = kernel32.CreateSemaphoreW
//sys	openSemaphore(access uint32, inherit bool, name *uint16) (handle windows.Handle, err error) = kernel32.OpenSemaphoreW
//sys	releaseSemaphore(h windows.Handle, count int32, previous *int32) (err error) = kernel32.ReleaseSemaphore
//sys	openFileMapping(access uint32, inherit bool, name *uint16) (handle windows.Handle, err error) = kernel32.OpenFileMappingW
//sys	switchToThread() (switched bool) = kernel32.SwitchToThread
//sys	ntQuerySemaphore(h windows.Handle, class uint32, info *semaphoreBasicInformation, size uint32, retLen *uint32) (ntstatus error) = ntdll.NtQuerySemaphore

// semaphoreBasicInformation is SEMAPHORE_BASIC_INFORMATION, the answer of
// NtQuerySemaphore for class 0 (SemaphoreBasicInformation).
type semaphoreBasicInformation struct {
	CurrentCount int32
	MaximumCount int32
}

// Access rights x/sys/windows does not define.
const (
	semaphoreQueryState = 0x0001 // SEMAPHORE_QUERY_STATE, needed by NtQuerySemaphore
)
