package platform

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/zerobuffer/zerobuffer-go/internal/testproc"
)

func TestMain(m *testing.M) {
	testproc.Main(childRoles)
	os.Exit(m.Run())
}

var nameSeq atomic.Int64

// testObjects returns the object names of a buffer name unique to this
// test and process, with the Linux files in a temporary directory, and
// removes whatever is left of them when the test ends.
func testObjects(t testing.TB) Names {
	t.Helper()
	base := strings.NewReplacer("/", "-", " ", "_").Replace(t.Name())
	name := fmt.Sprintf("zbp-%.40s-%d-%d", base, os.Getpid(), nameSeq.Add(1))
	n, err := ObjectNames(name, Dirs{Shm: tempDir(t), Lock: tempDir(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, p := range []string{n.Shm, n.SemW, n.SemR, n.Lock, n.WriterLock} {
			_ = Remove(p)
		}
	})
	return n
}

// segmentWord returns the first 4 bytes of a segment as a word for
// sync/atomic (mappings are page aligned).
func segmentWord(s *Segment) *uint32 { return (*uint32)(unsafe.Pointer(&s.Bytes()[0])) }

// tempDir is t.TempDir, except on Windows, where it removes the directory
// with os.Remove: under wine 8, os.RemoveAll (and so t.TempDir's cleanup)
// fails with "Invalid function", as Go 1.24+ deletes through
// NtSetInformationFile(FileDispositionInformationEx), which wine lacks.
// The tests leave only empty directories behind on Windows (lock files
// delete themselves on close).
func tempDir(t testing.TB) string {
	t.Helper()
	if runtime.GOOS != "windows" {
		return t.TempDir()
	}
	d, err := os.MkdirTemp("", "zbp-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = os.Remove(filepath.Join(d, "writer"))
		if err := os.Remove(d); err != nil {
			t.Errorf("remove temporary directory: %v", err)
		}
	})
	return d
}

// childRoles are the helper processes of the cross-process tests. Each
// prints one status line when it is ready, then obeys the parent.
var childRoles = map[string]testproc.Role{
	// hold-lock PATH: hold the lock until stdin closes.
	"hold-lock": func(c *testproc.Child, args []string) int {
		l, err := AcquireLock(args[0], 0o600)
		if err != nil {
			c.Printf("error %v", err)
			return 1
		}
		_ = l.SetContent([]byte(strconv.FormatUint(Getpid(), 10) + "\n"))
		c.Printf("locked %d", Getpid())
		c.Next()
		return 0
	},
	// write-segment NAME TEXT: write TEXT at offset 0, wait for stdin EOF.
	"write-segment": func(c *testproc.Child, args []string) int {
		s, err := OpenSegment(args[0], true)
		if err != nil {
			c.Printf("error %v", err)
			return 1
		}
		copy(s.Bytes(), args[1])
		c.Printf("written %d", len(s.Bytes()))
		c.Next()
		return 0
	},
	// post SEM N: post N tokens.
	"post": func(c *testproc.Child, args []string) int {
		s, err := OpenSemaphore(args[0])
		if err != nil {
			c.Printf("error %v", err)
			return 1
		}
		n, _ := strconv.Atoi(args[1])
		s.Post(uint32(n))
		c.Printf("posted")
		c.Next()
		return 0
	},
	// wait SEM SEGMENT: wait up to 20s for a token, stopping as soon as
	// byte 0 of SEGMENT is non-zero; report what happened.
	"wait": func(c *testproc.Child, args []string) int {
		s, err := OpenSemaphore(args[0])
		if err != nil {
			c.Printf("error %v", err)
			return 1
		}
		seg, err := OpenSegment(args[1], false)
		if err != nil {
			c.Printf("error %v", err)
			return 1
		}
		flag := segmentWord(seg)
		c.Printf("waiting")
		start := time.Now()
		n := s.Wait(20*time.Second, 10, func() bool { return atomic.LoadUint32(flag) != 0 })
		c.Printf("took %d after %dms", n, time.Since(start).Milliseconds())
		c.Next()
		return 0
	},
	// idle: do nothing until stdin closes.
	"idle": func(c *testproc.Child, args []string) int {
		c.Printf("pid %d", Getpid())
		c.Next()
		return 0
	},
}
