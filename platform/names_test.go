package platform

import (
	"errors"
	"runtime"
	"strings"
	"testing"
)

func TestNamesFor_Linux(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("UnixNames joins with filepath.Join, which uses '\\' on a Windows host")
	}
	n, err := NamesFor("linux", "buf", Dirs{})
	if err != nil {
		t.Fatal(err)
	}
	want := Names{
		Shm:        "/dev/shm/buf",
		SemW:       "/dev/shm/sem.sem-w-buf",
		SemR:       "/dev/shm/sem.sem-r-buf",
		Lock:       "/tmp/zerobuffer/buf.lock",
		WriterLock: "/tmp/zerobuffer/writer/buf.lock",
	}
	if n != want {
		t.Errorf("got %+v, want %+v", n, want)
	}
}

func TestNamesFor_Windows(t *testing.T) {
	tests := []struct {
		name string
		dirs Dirs
		want Names
	}{
		{"buf", Dirs{Lock: `C:\Temp\zerobuffer\locks`, Shm: "/ignored"}, Names{
			Shm:        "buf",
			SemW:       "sem-w-buf",
			SemR:       "sem-r-buf",
			Lock:       `C:\Temp\zerobuffer\locks\buf.lock`,
			WriterLock: `C:\Temp\zerobuffer\locks\writer\buf.lock`,
		}},
		{"buf", Dirs{Lock: `C:\l\`, GlobalNamespace: true}, Names{
			Shm:        `Global\buf`,
			SemW:       `Global\sem-w-buf`,
			SemR:       `Global\sem-r-buf`,
			Lock:       `C:\l\buf.lock`,
			WriterLock: `C:\l\writer\buf.lock`,
		}},
	}
	for _, tt := range tests {
		n, err := NamesFor("windows", tt.name, tt.dirs)
		if err != nil {
			t.Fatal(err)
		}
		if n != tt.want {
			t.Errorf("NamesFor(windows, %q, %+v) = %+v, want %+v", tt.name, tt.dirs, n, tt.want)
		}
	}
	n, err := NamesFor("windows", "buf", Dirs{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(n.Lock, `\zerobuffer\locks\buf.lock`) || !strings.HasSuffix(n.WriterLock, `\zerobuffer\locks\writer\buf.lock`) {
		t.Errorf("default lock paths %q, %q: want %%TEMP%%\\zerobuffer\\locks\\...", n.Lock, n.WriterLock)
	}
}

func TestNamesFor_WindowsInvalid(t *testing.T) {
	for _, name := range []string{
		`a\b`, "a:b", "a*", "a?", `a"b`, "a<b", "a>b", "a|b", "a\tb",
		"CON", "nul", "Aux.x", "com1", "LPT9.buf", "con .x",
		strings.Repeat("x", 244), // sem-w-NAME/interrupt exceeds MAX_PATH
		"", "a/b", "..",
	} {
		if _, err := NamesFor("windows", name, Dirs{Lock: `C:\l`}); !errors.Is(err, ErrInvalidName) {
			t.Errorf("NamesFor(windows, %q) error %v, want ErrInvalidName", name, err)
		}
	}
	for _, name := range []string{"console", "com10", "lpt", "a.b", "zbt-Test_x-123-4", "naïve", strings.Repeat("x", 200)} {
		if _, err := NamesFor("windows", name, Dirs{Lock: `C:\l`}); err != nil {
			t.Errorf("NamesFor(windows, %q): %v", name, err)
		}
	}
	// The writer lock path counts against MAX_PATH as well.
	if _, err := NamesFor("windows", strings.Repeat("x", 200), Dirs{Lock: `C:\` + strings.Repeat("d", 60)}); !errors.Is(err, ErrInvalidName) {
		t.Errorf("long lock path: error %v, want ErrInvalidName", err)
	}
}

func TestNamesFor_Darwin(t *testing.T) {
	n, err := NamesFor("darwin", "buf", Dirs{Shm: "/ignored"})
	if err != nil {
		t.Fatal(err)
	}
	want := Names{
		Shm:        "buf",
		SemW:       "/sem-w-buf",
		SemR:       "/sem-r-buf",
		Lock:       "/tmp/zerobuffer/buf.lock",
		WriterLock: "/tmp/zerobuffer/writer/buf.lock",
	}
	if n != want {
		t.Errorf("got %+v, want %+v", n, want)
	}
	if n, _ := NamesFor("darwin", "b", Dirs{Lock: "/"}); n.Lock != "//b.lock" {
		t.Errorf("lock in /: %q, want //b.lock", n.Lock)
	}
	if n, _ := NamesFor("darwin", "b", Dirs{Lock: "rel/"}); n.Lock != "rel/b.lock" {
		t.Errorf("relative lock dir: %q", n.Lock)
	}
}

func TestNamesFor_DarwinHashing(t *testing.T) {
	name23 := strings.Repeat("a", 23)
	name24 := strings.Repeat("a", 24)
	name30 := strings.Repeat("s", 30)
	name31 := strings.Repeat("s", 31)
	n23, _ := NamesFor("darwin", name23, Dirs{})
	if n23.SemW != "/sem-w-"+name23 || n23.Shm != name23 {
		t.Errorf("23-byte name hashed: %+v", n23)
	}
	n24, _ := NamesFor("darwin", name24, Dirs{})
	// Golden: "/sem-w-#" + base32(sha256("aaa...a" x24))[:22], lower case.
	const golden24 = "/sem-w-#bh3b7dm42zpgudbfqcd4jb"
	if n24.SemW != golden24 || n24.SemR != "/sem-r-"+golden24[7:] {
		t.Errorf("24-byte name: SemW %q SemR %q, want %q", n24.SemW, n24.SemR, golden24)
	}
	if n24.Shm != name24 {
		t.Errorf("24-byte shm name %q hashed", n24.Shm)
	}
	if n, _ := NamesFor("darwin", name30, Dirs{}); n.Shm != name30 {
		t.Errorf("30-byte shm name %q hashed", n.Shm)
	}
	n31, _ := NamesFor("darwin", name31, Dirs{})
	if len(n31.Shm) != DarwinMaxObjectName || n31.Shm[0] != '#' {
		t.Errorf("31-byte shm name %q", n31.Shm)
	}
	seen := map[string]string{}
	for _, name := range []string{name24, name31, name24 + "x", strings.Repeat("q", 245), "zbt-TestReader_ClosesEverything-123456-1", "zbt-TestReader_ClosesEverything-123456-2"} {
		n, err := NamesFor("darwin", name, Dirs{})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range []string{n.Shm, n.SemW, n.SemR} {
			if len(o) > DarwinMaxObjectName {
				t.Errorf("%q: object name %q longer than %d", name, o, DarwinMaxObjectName)
			}
			if prev, dup := seen[o]; dup {
				t.Errorf("%q and %q share the object name %q", prev, name, o)
			}
			seen[o] = name
		}
		// The forms Remove tells apart.
		if strings.Contains(n.Shm, "/") || strings.LastIndexByte(n.SemW, '/') != 0 || strings.LastIndexByte(n.Lock, '/') <= 0 {
			t.Errorf("%q: forms not distinguishable: %+v", name, n)
		}
	}
}

func TestObjectNames_MatchesGOOS(t *testing.T) {
	d := Dirs{Shm: "/s", Lock: "/l"}
	got, err1 := ObjectNames("x", d)
	want, err2 := NamesFor(runtime.GOOS, "x", d)
	if got != want || err1 != nil || err2 != nil {
		t.Errorf("ObjectNames = %+v, %v; NamesFor(%s) = %+v, %v", got, err1, runtime.GOOS, want, err2)
	}
}

func TestValidateName_ControlCharactersRefused(t *testing.T) {
	for _, name := range []string{"a\x00b", "a\nb", "\x1b[31mred", "tab\there", "del\x7f", "\x01"} {
		for _, goos := range []string{"linux", "darwin", "windows"} {
			if _, err := NamesFor(goos, name, Dirs{Lock: "/l"}); !errors.Is(err, ErrInvalidName) {
				t.Errorf("NamesFor(%s, %q): %v, want ErrInvalidName", goos, name, err)
			}
		}
	}
	for _, name := range []string{"ok", "caf\u00e9", "a b", "x~y"} {
		if err := ValidateName(name); err != nil {
			t.Errorf("ValidateName(%q): %v", name, err)
		}
	}
}

func TestUnixNames_SemPrefixRefused(t *testing.T) {
	for _, name := range []string{"sem.sem-w-victim", "sem.sem-r-victim", "sem.x", "sem."} {
		for _, goos := range []string{"linux", "darwin"} {
			if _, err := NamesFor(goos, name, Dirs{}); !errors.Is(err, ErrInvalidName) {
				t.Errorf("NamesFor(%s, %q): %v, want ErrInvalidName", goos, name, err)
			}
		}
	}
	for _, name := range []string{"sem", "semaphore", "my.sem.x"} {
		if _, err := NamesFor("linux", name, Dirs{}); err != nil {
			t.Errorf("NamesFor(linux, %q): %v", name, err)
		}
	}
}
