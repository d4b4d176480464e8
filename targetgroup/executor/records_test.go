package executor

import (
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

// TestFunctionRecords: with FunctionRecords, the function's output and
// the START/END/REPORT lines become one JSON record each, the line
// exactly as Lambda writes it in "msg" (REPORT's tabs included), with the
// function's name.
func TestFunctionRecords(t *testing.T) {
	t.Parallel()
	var out syncBuffer
	p, _ := newTestPool(t, Options{FunctionRecords: slog.New(slog.NewJSONHandler(&out, nil))}, behaveFn(t, "rec"))
	invoke(t, p, "rec", `{"stdout":["hello from the function"]}`)
	var msgs []string
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var r struct {
			Level, Msg, Function string
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("not a JSON record: %q: %v", line, err)
		}
		if r.Level != "INFO" || r.Function != "rec" {
			t.Errorf("record %q: want level INFO, function rec", line)
		}
		msgs = append(msgs, r.Msg)
	}
	want := []string{"START RequestId: ", "hello from the function", "END RequestId: ", "REPORT RequestId: "}
	if len(msgs) != len(want) {
		t.Fatalf("messages %q, want %d", msgs, len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(msgs[i], w) {
			t.Errorf("message %d = %q, want it to start with %q", i, msgs[i], w)
		}
	}
	if r := msgs[3]; !strings.Contains(r, "\tBilled Duration: ") || !strings.HasSuffix(r, "\t") {
		t.Errorf("REPORT %q lost Lambda's tab-separated format", r)
	}
}
