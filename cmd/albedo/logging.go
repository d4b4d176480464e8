package main

import (
	"fmt"
	"io"
	"log/slog"

	"github.com/albedo-lb/albedo/config"
)

// logLevels are the values of -log-level and log.level.
var logLevels = map[string]slog.Level{
	"debug": slog.LevelDebug,
	"info":  slog.LevelInfo,
	"warn":  slog.LevelWarn,
	"error": slog.LevelError,
}

// checkLogFlags says what is wrong with -log-level and -log-format ("" when
// nothing; "" values mean the flag was not given).
func checkLogFlags(level, format string) string {
	if _, ok := logLevels[level]; level != "" && !ok {
		return fmt.Sprintf("-log-level %q: want debug, info, warn or error", level)
	}
	if format != "" && format != "text" && format != "json" {
		return fmt.Sprintf("-log-format %q: want text or json", format)
	}
	return ""
}

// applyLogFlags overrides the config's log: section with the flags given.
func applyLogFlags(cfg *config.Config, level, format string) {
	if level != "" {
		cfg.Log.Level = level
	}
	if format != "" {
		cfg.Log.Format = format
	}
}

// newLogger is albedo's own logger on w: text (slog's key=value lines) or
// JSON (one object per line), from the configured level on.
func newLogger(c config.Log, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: logLevels[c.Level]} // "" (an in-memory config) is info
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// functionRecords is, with log format json, the logger that function
// output and the START/END/REPORT lines become records of: level INFO,
// "msg" the line exactly as Lambda writes it, "function" its function.
// They are the functions' own output, so -log-level does not hide them, as
// it does not in text format, where they are written as Lambda writes
// them, prefixed with "[function] " (nil here).
func functionRecords(c config.Log, w io.Writer) *slog.Logger {
	if c.Format != "json" {
		return nil
	}
	return slog.New(slog.NewJSONHandler(w, nil))
}
