package zerobuffer

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestVersion_MatchesChangelog keeps the constant and the newest released
// CHANGELOG.md entry in step.
func TestVersion_MatchesChangelog(t *testing.T) {
	if !regexp.MustCompile(`^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$`).MatchString(Version) {
		t.Fatalf("Version %q is not semantic-version form", Version)
	}
	b, err := os.ReadFile("CHANGELOG.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^## \[(\d[^\]]*)\]`).FindStringSubmatch(string(b))
	if m == nil {
		t.Fatal("CHANGELOG.md has no released version heading (## [x.y.z])")
	}
	if m[1] != Version {
		t.Errorf("newest CHANGELOG.md release is %s, Version is %s", m[1], Version)
	}
	if !strings.Contains(string(b), "## [Unreleased]") {
		t.Error("CHANGELOG.md has no [Unreleased] section for work in progress")
	}
}
