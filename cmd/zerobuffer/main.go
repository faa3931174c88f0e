// Command zerobuffer inspects, cleans, benchmarks and pipes data through
// ZeroBuffer shared-memory buffers.
//
//	zerobuffer bench [flags]             compare transports, print a markdown table
//	zerobuffer ls [--json]               list every buffer on the machine
//	zerobuffer inspect NAME [--json]     decode one buffer without changing it
//	zerobuffer clean [NAME...] [--stale] [--dry-run]
//	zerobuffer watch NAME                utilisation and frames/s once per second
//	zerobuffer recv NAME [flags]         create a reader, print frames to stdout
//	zerobuffer send NAME [flags]         connect a writer, turn stdin into frames
//	zerobuffer version                   print the module version
//
// Exit codes: 0 success, 1 error, 2 usage error (including an invalid
// buffer name), 3 buffer not found. Every subcommand accepts --help.
//
// The directories default to /dev/shm and /tmp/zerobuffer, where every
// ZeroBuffer implementation meets; the environment variables
// ZEROBUFFER_SHM_DIR and ZEROBUFFER_LOCK_DIR override them (for tests and
// sandboxes only: other implementations do not read them).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"sort"
	"strings"

	zerobuffer "github.com/zerobuffer/zerobuffer-go"
	"github.com/zerobuffer/zerobuffer-go/bench"
	"github.com/zerobuffer/zerobuffer-go/platform"
)

// Exit codes a script can rely on.
const (
	exitOK       = 0
	exitError    = 1
	exitUsage    = 2
	exitNotFound = 3
)

const exitCodesHelp = `
Exit codes: 0 success, 1 error, 2 usage error, 3 buffer not found.
`

// env is what a subcommand may touch: its standard streams and the
// directories the buffers live in.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	dirs   platform.Dirs
	// stderrTTY tells whether stderr is a terminal (progress bars).
	stderrTTY bool
}

// command is one subcommand.
type command struct {
	summary string
	run     func(e *env, args []string) error
}

var commands = map[string]command{
	"bench":   {"compare zerobuffer with Go channels, pipes and sockets", runBench},
	"bridge":  {"forward a buffer to a NATS subject, or back", runBridge},
	"ls":      {"list every buffer on this machine", runLs},
	"inspect": {"decode one buffer without changing it", runInspect},
	"clean":   {"remove buffers whose reader is gone", runClean},
	"watch":   {"show utilisation and frames/s once per second", runWatch},
	"recv":    {"create a buffer and print its frames to stdout", runRecv},
	"send":    {"write stdin into a buffer as frames", runSend},
	"version": {"print the zerobuffer-go version", runVersion},
}

func main() {
	if bench.IsChild() {
		os.Exit(bench.ChildMain())
	}
	e := &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, dirs: envDirs(), stderrTTY: isTerminal(os.Stderr)}
	os.Exit(run(e, os.Args[1:]))
}

// envDirs reads the directory overrides from the environment.
func envDirs() platform.Dirs {
	return platform.Dirs{Shm: os.Getenv("ZEROBUFFER_SHM_DIR"), Lock: os.Getenv("ZEROBUFFER_LOCK_DIR")}
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// run executes one command line and returns the exit code.
func run(e *env, args []string) int {
	if e.dirs.Shm == "" && runtime.GOOS != "windows" {
		e.dirs.Shm = platform.DefaultShmDir
	}
	if e.dirs.Lock == "" && runtime.GOOS != "windows" {
		e.dirs.Lock = platform.DefaultLockDir
	}
	if len(args) == 0 {
		fmt.Fprintln(e.stderr, "Usage: zerobuffer COMMAND [flags] [args] (see 'zerobuffer --help')")
		return exitUsage
	}
	name := args[0]
	if name == "-h" || name == "--help" || name == "-help" || name == "help" {
		usage(e.stdout)
		return exitOK
	}
	if name == "--version" || name == "-version" {
		name = "version"
	}
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(e.stderr, "zerobuffer: unknown command %q (see 'zerobuffer --help')\n", name)
		return exitUsage
	}
	err := cmd.run(e, args[1:])
	code := exitCode(err)
	if err != nil && code != exitOK && !errors.Is(err, errReported) {
		msg := strings.TrimPrefix(err.Error(), "zerobuffer: ")
		if code == exitUsage {
			msg += fmt.Sprintf(" (see 'zerobuffer %s --help')", name)
		}
		fmt.Fprintf(e.stderr, "zerobuffer %s: %s\n", name, msg)
	}
	return code
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: zerobuffer COMMAND [flags] [args]\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, commands[n].summary)
	}
	fmt.Fprint(w, "\nRun 'zerobuffer COMMAND --help' for a command's flags.\n"+exitCodesHelp+
		"Environment: ZEROBUFFER_SHM_DIR, ZEROBUFFER_LOCK_DIR override /dev/shm and /tmp/zerobuffer\n"+
		"(tests and sandboxes only); ZEROBUFFER_LOG_LEVEL=DEBUG|INFO|WARN|ERROR logs to stderr.\n")
}

// runVersion prints the module version, the Go release that built the
// binary and its platform: "zerobuffer 0.1.0 (go1.25.3 linux/amd64)".
func runVersion(e *env, args []string) error {
	f := newFlags("version", "", "Print the zerobuffer-go version, the Go release and the platform.")
	pos, err := parse(e, f, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("version takes no arguments")
	}
	_, err = fmt.Fprintf(e.stdout, "zerobuffer %s (%s %s/%s)\n", zerobuffer.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return err
}

// usageError marks a command-line mistake (exit code 2).
type usageError struct{ msg string }

// Error returns the message.
func (u *usageError) Error() string { return u.msg }

func usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

// errReported is wrapped by errors whose message was already printed.
var errReported = errors.New("reported")

// exitCode maps an error to the documented exit codes.
func exitCode(err error) int {
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue), errors.Is(err, platform.ErrInvalidName):
		return exitUsage
	case errors.Is(err, fs.ErrNotExist):
		return exitNotFound
	}
	return exitError
}

// newFlags returns a flag set that prints its usage (with the exit codes)
// to stdout for --help; a mistake is reported in one line by run.
func newFlags(name, args, about string) *flag.FlagSet {
	f := flag.NewFlagSet(name, flag.ContinueOnError)
	f.SetOutput(io.Discard) // parse prints the usage itself
	f.Usage = func() {
		w := f.Output()
		fmt.Fprintf(w, "Usage: zerobuffer %s %s\n\n%s\n\nFlags:\n", name, args, strings.TrimSpace(about))
		f.PrintDefaults()
		fmt.Fprint(w, exitCodesHelp)
	}
	return f
}

// parse parses args, interleaving flags and positional arguments, and
// turns flag errors into usage errors. For --help it prints the usage to
// stdout and returns flag.ErrHelp.
func parse(e *env, f *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := f.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				f.SetOutput(e.stdout)
				f.Usage()
				return nil, flag.ErrHelp
			}
			return nil, &usageError{err.Error()}
		}
		args = f.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos, args = append(pos, args[0]), args[1:]
	}
}
