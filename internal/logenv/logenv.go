// Package logenv builds the default logger of the packages that log
// (core, duplex) from the environment variable ZEROBUFFER_LOG_LEVEL, so
// that one variable controls all of them.
package logenv

import (
	"log/slog"
	"os"
	"strings"
)

// Var is the environment variable that sets the level.
const Var = "ZEROBUFFER_LOG_LEVEL"

// Level maps the value of ZEROBUFFER_LOG_LEVEL to a slog level: DEBUG,
// INFO, WARN (or WARNING) and ERROR, in any case; ok is false for an empty
// or unknown value, which means "do not log".
func Level(v string) (lvl slog.Level, ok bool) {
	switch strings.ToUpper(strings.TrimSpace(v)) {
	case "DEBUG":
		return slog.LevelDebug, true
	case "INFO":
		return slog.LevelInfo, true
	case "WARN", "WARNING":
		return slog.LevelWarn, true
	case "ERROR":
		return slog.LevelError, true
	}
	return 0, false
}

// FromEnv returns a logger to standard error at the level of
// ZEROBUFFER_LOG_LEVEL whose records carry the attribute
// component=component, or a logger that discards everything when the
// variable is unset or unknown.
func FromEnv(component string) *slog.Logger {
	lvl, ok := Level(os.Getenv(Var))
	if !ok {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl})).With("component", component)
}
