package executor

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"math"
	"strconv"
	"sync"
	"time"
)

// lineWriter serialises lines onto the FunctionLog writer: each Write
// holds whole lines, newlines included, prefixed with "[function] " when
// prefix is set: one line, or the lines that end an invocation (writeLines:
// one write instead of two to five on every invocation's path). With the
// prefix (a terminal), the carriage returns with which Lambda's runtimes
// keep a multi-line message in one log event become line breaks, each
// continuation prefixed too; a trailing one (CRLF output) goes.
type lineWriter struct {
	mu     sync.Mutex
	w      io.Writer
	prefix bool
	buf    []byte
	rec    *slog.Logger // Options.FunctionRecords: lines become its records
}

func (lw *lineWriter) writeLine(function string, line []byte) {
	lw.writeLines(function, line)
}

// writeLines writes lines in one Write (one record each with rec).
func (lw *lineWriter) writeLines(function string, lines ...[]byte) {
	if lw.rec != nil {
		for _, line := range lines {
			lw.rec.LogAttrs(context.Background(), slog.LevelInfo, string(line), slog.String("function", function))
		}
		return
	}
	lw.mu.Lock()
	lw.buf = lw.buf[:0]
	for _, line := range lines {
		lw.buf = lw.appendLine(lw.buf, function, line)
	}
	lw.w.Write(lw.buf)
	if cap(lw.buf) > 64<<10 {
		lw.buf = nil
	}
	lw.mu.Unlock()
}

// appendLine appends line and its newline, prefixed when lw.prefix is set.
func (lw *lineWriter) appendLine(b []byte, function string, line []byte) []byte {
	if lw.prefix {
		line = bytes.TrimSuffix(line, []byte{'\r'})
		for {
			b = append(append(append(b, '['), function...), "] "...)
			i := bytes.IndexByte(line, '\r')
			if i < 0 {
				break
			}
			b = append(append(b, line[:i]...), '\n')
			line = line[i+1:]
		}
	}
	return append(append(b, line...), '\n')
}

// appendStart appends Lambda's START line (no newline).
func appendStart(dst []byte, id string) []byte {
	dst = append(dst, "START RequestId: "...)
	dst = append(dst, id...)
	return append(dst, " Version: $LATEST"...)
}

// appendEnd appends Lambda's END line (no newline).
func appendEnd(dst []byte, id string) []byte {
	return append(append(dst, "END RequestId: "...), id...)
}

// report holds the fields of a REPORT line.
type report struct {
	RequestID    string
	Duration     time.Duration
	MemorySize   int // MB
	MaxMemoryMB  int
	InitDuration time.Duration // >0 on a cold start
	Status       string        // "" (success or function error), "timeout", "error"
	ErrorType    string        // with Status "error"
}

// billedMS is the billed duration: invoke plus (for a cold start) init,
// rounded up to the millisecond. Custom runtimes have always been billed for
// init, and since August 2025 every on-demand function is.
func (r report) billedMS() int64 {
	ms := float64(r.Duration+r.InitDuration) / float64(time.Millisecond)
	return int64(math.Ceil(ms - 1e-9))
}

// appendReport appends Lambda's tab-separated REPORT line (no newline),
// with its trailing tab.
func appendReport(dst []byte, r report) []byte {
	dst = append(dst, "REPORT RequestId: "...)
	dst = append(dst, r.RequestID...)
	dst = append(dst, "\tDuration: "...)
	dst = appendMS(dst, r.Duration)
	dst = append(dst, " ms\tBilled Duration: "...)
	dst = strconv.AppendInt(dst, r.billedMS(), 10)
	dst = append(dst, " ms\tMemory Size: "...)
	dst = strconv.AppendInt(dst, int64(r.MemorySize), 10)
	dst = append(dst, " MB\tMax Memory Used: "...)
	dst = strconv.AppendInt(dst, int64(r.MaxMemoryMB), 10)
	dst = append(dst, " MB\t"...)
	if r.InitDuration > 0 {
		dst = append(dst, "Init Duration: "...)
		dst = appendMS(dst, r.InitDuration)
		dst = append(dst, " ms\t"...)
	}
	if r.Status != "" {
		dst = append(dst, "Status: "...)
		dst = append(dst, r.Status...)
		dst = append(dst, '\t')
		if r.ErrorType != "" {
			dst = append(dst, "Error Type: "...)
			dst = append(dst, r.ErrorType...)
			dst = append(dst, '\t')
		}
	}
	return dst
}

func appendMS(dst []byte, d time.Duration) []byte {
	return strconv.AppendFloat(dst, float64(d)/float64(time.Millisecond), 'f', 2, 64)
}

// appendTimeoutLine appends the line Lambda logs after the REPORT of a
// timed-out invocation: "<RFC 3339 ms>Z <id> Task timed out after 3.00 seconds".
func appendTimeoutLine(dst []byte, now time.Time, id string, timeout time.Duration) []byte {
	dst = now.UTC().AppendFormat(dst, "2006-01-02T15:04:05.000Z")
	dst = append(dst, ' ')
	dst = append(dst, id...)
	dst = append(dst, " Task timed out after "...)
	return append(dst, seconds(timeout)...)
}

// syncMarker is written by albedo into an environment's output pipe after
// the function answered; the reader acknowledges it once every byte the
// function wrote before it has become a log line. Function output never
// contains NUL-framed text like it in practice.
var (
	syncMarker = []byte("\x00albedo-log-sync\x00")
	syncLine   = []byte("\x00albedo-log-sync\x00\n")
)

// splitMarker reports whether line ends with the sync marker and returns
// the text before it.
func splitMarker(line []byte) ([]byte, bool) {
	if bytes.HasSuffix(line, syncMarker) {
		return line[:len(line)-len(syncMarker)], true
	}
	return line, false
}
