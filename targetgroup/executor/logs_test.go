package executor

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestPlatformLinesGolden pins the exact bytes of START, END, REPORT and
// the timeout line (as in https://docs.aws.amazon.com/lambda/latest/dg/golang-logging.html).
func TestPlatformLinesGolden(t *testing.T) {
	const id = "8f507cfc-xmpl-4697-b07a-ac58fc914c95"
	at := time.Date(2026, 11, 27, 3, 4, 5, 678_000_000, time.UTC)
	var b []byte
	add := func(line []byte) { b = append(append(b, line...), '\n') }
	add(appendStart(nil, id))
	add(appendEnd(nil, id))
	for _, r := range []report{
		{RequestID: id, Duration: 15740 * time.Microsecond, MemorySize: 128, MaxMemoryMB: 56, InitDuration: 130490 * time.Microsecond},
		{RequestID: id, Duration: 1 * time.Millisecond, MemorySize: 1024, MaxMemoryMB: 20},
		{RequestID: id, Duration: 999 * time.Microsecond, MemorySize: 128, MaxMemoryMB: 9},
		{RequestID: id, Duration: 3 * time.Second, MemorySize: 128, MaxMemoryMB: 21, Status: "timeout"},
		{RequestID: id, Duration: 2500 * time.Microsecond, MemorySize: 128, MaxMemoryMB: 9, Status: "error", ErrorType: ErrorTypeExit},
	} {
		add(appendReport(nil, r))
	}
	add(appendTimeoutLine(nil, at, id, 3*time.Second))
	golden := filepath.Join("..", "..", "testdata", "executor", "platform_lines.golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if string(b) != string(want) {
		t.Errorf("platform lines differ from %s:\ngot:\n%s\nwant:\n%s", golden, b, want)
	}
}

func TestBilledDuration(t *testing.T) {
	tests := []struct {
		name     string
		dur      time.Duration
		init     time.Duration
		wantBill int64
	}{
		{name: "rounds up", dur: 1100 * time.Microsecond, wantBill: 2},
		{name: "exact ms", dur: 3 * time.Millisecond, wantBill: 3},
		{name: "sub ms", dur: 10 * time.Microsecond, wantBill: 1},
		{name: "init billed", dur: 1500 * time.Microsecond, init: 80 * time.Millisecond, wantBill: 82},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := (report{Duration: tt.dur, InitDuration: tt.init}).billedMS(); got != tt.wantBill {
				t.Errorf("billed = %d, want %d", got, tt.wantBill)
			}
		})
	}
}

func TestParseKB(t *testing.T) {
	status := "Name:\tbootstrap\nVmPeak:\t  1243 kB\nVmHWM:\t    9876 kB\nVmRSS:\t 9000 kB\n"
	tests := []struct {
		name, text, field string
		want              int64
	}{
		{name: "hwm", text: status, field: "VmHWM", want: 9876},
		{name: "rss", text: status, field: "VmRSS", want: 9000},
		{name: "prefix is not a match", text: status, field: "Vm", want: -1},
		{name: "missing", text: status, field: "VmSwap", want: -1},
		{name: "meminfo", text: "MemTotal:       24684312 kB\nMemFree: 1 kB", field: "MemTotal", want: 24684312},
		{name: "garbage", text: "VmHWM: lots", field: "VmHWM", want: -1},
		{name: "no newline", text: "VmHWM: 5 kB", field: "VmHWM", want: 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseKB([]byte(tt.text), tt.field); got != tt.want {
				t.Errorf("parseKB = %d, want %d", got, tt.want)
			}
		})
	}
}

func FuzzParseKB(f *testing.F) {
	f.Add([]byte("VmHWM:\t 9876 kB\n"), "VmHWM")
	f.Add([]byte("MemTotal: 1 kB"), "MemTotal")
	f.Fuzz(func(t *testing.T, text []byte, field string) {
		if v := parseKB(text, field); v < -1 && !strings.Contains(string(text), "-") {
			t.Errorf("parseKB = %d without a minus sign", v)
		}
	})
}

func TestEnvironmentFiltering(t *testing.T) {
	fn := Function{Name: "f", MemorySize: 512, Region: "ap-south-1", Environment: map[string]string{
		"A": "1", "PATH": "/custom", "TZ": "Europe/Paris", "AWS_REGION": "us-east-1", "_X": "y",
		"AWS_LAMBDA_RUNTIME_API": "evil:1", "AWS_LAMBDA_LOG_STREAM_NAME": "s", "K=V": "bad",
	}}
	env := baseEnv(&fn, "bootstrap", "/code", map[string]string{"PATH": "/usr/bin", "LD_LIBRARY_PATH": "/code:/code/lib"})
	got := environ(env, "127.0.0.1:9001", "stream")
	want := []string{
		"A=1", "AWS_DEFAULT_REGION=ap-south-1", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=512", "AWS_LAMBDA_FUNCTION_NAME=f",
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST", "AWS_LAMBDA_INITIALIZATION_TYPE=on-demand",
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/f", "AWS_REGION=ap-south-1", "LAMBDA_TASK_ROOT=/code",
		"LANG=en_US.UTF-8", "LD_LIBRARY_PATH=/code:/code/lib", "PATH=/custom", "TZ=Europe/Paris", "_HANDLER=bootstrap",
		"AWS_LAMBDA_RUNTIME_API=127.0.0.1:9001", "AWS_LAMBDA_LOG_STREAM_NAME=stream",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("environ =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestPrefixFunctionLog(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		prefix bool
		want   string
	}{
		{name: "CloudWatch form", prefix: false, want: "START RequestId: "},
		{name: "prefixed", prefix: true, want: "[logfn] START RequestId: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, flog := newTestPool(t, Options{PrefixFunctionLog: tt.prefix}, behaveFn(t, "logfn"))
			resp, err := p.Invoke(context.Background(), Request{Function: "logfn", Payload: []byte(`{}`), TailLog: true})
			if err != nil {
				t.Fatal(err)
			}
			for _, line := range strings.Split(strings.TrimSpace(flog.String()), "\n") {
				if tt.prefix != strings.HasPrefix(line, "[logfn] ") {
					t.Errorf("line %q: prefix %v", line, tt.prefix)
				}
			}
			if !strings.HasPrefix(flog.String(), tt.want) {
				t.Errorf("log starts %q, want %q", flog.String(), tt.want)
			}
			if strings.Contains(string(resp.Log), "[logfn]") {
				t.Errorf("tail log is prefixed: %q", resp.Log)
			}
		})
	}
}

// TestLineWriterCarriageReturns: a terminal shows a multi-line log event
// (lines joined by carriage returns, as Lambda's runtimes write them) as
// prefixed lines; CloudWatch's form keeps the event as it is.
func TestLineWriterCarriageReturns(t *testing.T) {
	tests := []struct {
		prefix     bool
		line, want string
	}{
		{true, "a\rb\rc", "[f] a\n[f] b\n[f] c\n"},
		{true, "crlf\r", "[f] crlf\n"},
		{true, "plain", "[f] plain\n"},
		{false, "a\rb", "a\rb\n"},
	}
	for _, tt := range tests {
		var b strings.Builder
		lw := &lineWriter{w: &b, prefix: tt.prefix}
		lw.writeLine("f", []byte(tt.line))
		if b.String() != tt.want {
			t.Errorf("prefix %v %q: wrote %q, want %q", tt.prefix, tt.line, b.String(), tt.want)
		}
	}
}
