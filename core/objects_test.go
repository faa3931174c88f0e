package core

import (
	"fmt"
	"testing"

	"github.com/zerobuffer/zerobuffer-go/platform"
)

// TestLockPID_Namespace: a PID is believed only in the PID namespace that
// wrote it; a lock without a namespace (a foreign implementation's) is
// taken as ours.
func TestLockPID_Namespace(t *testing.T) {
	own := platform.PIDNamespace()
	tests := []struct {
		content string
		pid     uint64
		same    bool
	}{
		{"123\n", 123, true},
		{"123", 123, true},
		{fmt.Sprintf("123\n%s\n", own), 123, true},
		{"123\npid:[1]\n", 123, own == "pid:[1]"},
		{"x\n", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		pid, same := lockPID([]byte(tt.content))
		if pid != tt.pid || same != tt.same {
			t.Errorf("lockPID(%q) = %d, %v, want %d, %v", tt.content, pid, same, tt.pid, tt.same)
		}
	}
	if pid, same := lockPID(lockContent()); pid != platform.Getpid() || !same {
		t.Errorf("lockPID(lockContent()) = %d, %v", pid, same)
	}
}
