package logenv

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestLevel(t *testing.T) {
	for v, want := range map[string]slog.Level{"DEBUG": slog.LevelDebug, "info": slog.LevelInfo, " Warn ": slog.LevelWarn,
		"WARNING": slog.LevelWarn, "error": slog.LevelError} {
		if got, ok := Level(v); !ok || got != want {
			t.Errorf("Level(%q) = %v, %v; want %v", v, got, ok, want)
		}
	}
	for _, v := range []string{"", "verbose", "5"} {
		if _, ok := Level(v); ok {
			t.Errorf("Level(%q) accepted", v)
		}
	}
}

// TestFromEnv runs a child with ZEROBUFFER_LOG_LEVEL set and checks that
// its records carry the component attribute and respect the level.
func TestFromEnv(t *testing.T) {
	if os.Getenv("LOGENV_CHILD") == "1" {
		l := FromEnv("duplex")
		l.Debug("hidden")
		l.Warn("shown", "name", "x")
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestFromEnv$")
	cmd.Env = append(os.Environ(), "LOGENV_CHILD=1", Var+"=warning")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	s := string(out)
	if !strings.Contains(s, `level=WARN msg=shown component=duplex name=x`) || strings.Contains(s, "hidden") {
		t.Errorf("child output %q", s)
	}
	if FromEnv("core").Enabled(context.Background(), slog.LevelError) && os.Getenv(Var) == "" {
		t.Error("a logger without ZEROBUFFER_LOG_LEVEL is enabled")
	}
}
