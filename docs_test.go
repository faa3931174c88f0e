package zerobuffer

import (
	"os"
	"regexp"
	"slices"
	"testing"
)

// TestDocs_ProtocolSections keeps the section numbers of docs/PROTOCOL.md
// and docs/PLATFORMS.md stable: code comments cite them by number.
func TestDocs_ProtocolSections(t *testing.T) {
	want := map[string][]string{
		"docs/PROTOCOL.md": {"1", "2", "3", "4", "5", "5.1", "5.2", "5.3", "5.4", "5.5", "6", "7", "8", "9",
			"10", "11", "12", "13", "14", "15", "16", "17"},
		"docs/PLATFORMS.md": {"1", "2", "3", "4"},
	}
	heading := regexp.MustCompile(`(?m)^#{2,3} (\d+(?:\.\d+)?)\.? `)
	for file, sections := range want {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range heading.FindAllStringSubmatch(string(b), -1) {
			got = append(got, m[1])
		}
		if !slices.Equal(got, sections) {
			t.Errorf("%s sections %v, want %v", file, got, sections)
		}
	}
}

// TestDocs_ReadmeLinksExist: every file the README points a newcomer to
// is in the repository.
func TestDocs_ReadmeLinksExist(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	files := regexp.MustCompile("(?:\\]\\(|`)((?:[A-Za-z]+/)*[A-Z][A-Za-z]*\\.md|LICENSE)[)`]").FindAllStringSubmatch(string(b), -1)
	if len(files) < 4 {
		t.Fatalf("found only %d file references in README.md: %v", len(files), files)
	}
	for _, m := range files {
		if _, err := os.Stat(m[1]); err != nil {
			t.Errorf("README.md points to %s: %v", m[1], err)
		}
	}
}
