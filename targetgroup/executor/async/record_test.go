package async

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

// goldenDir holds the destination records, byte for byte as written to a
// file:// destination.
var goldenDir = filepath.Join("..", "..", "..", "testdata", "async", "records")

func TestRecordGolden(t *testing.T) {
	t.Parallel()
	now := time.Date(2019, 11, 14, 18, 16, 5, 568_000_000, time.UTC)
	base := event{
		RequestID:   "e4b46cbf-b738-4c9a-8880-a18cdf61200e",
		Function:    "my-function",
		FunctionARN: "arn:aws:lambda:us-east-2:123456789012:function:my-function",
		Enqueued:    now.Add(-3 * time.Minute),
		Payload:     []byte(`{"ORDER_IDS": ["9e07af03-ce31-4ff3-xmpl-36dce652cb4f"]}`),
	}
	with := func(f func(*event)) *event { ev := base; f(&ev); return &ev }
	errPayload := []byte(`{"errorMessage":"RequestId: e4b46cbf-b738-4c9a-8880-a18cdf61200e Process exited before completing request"}`)
	tests := []struct {
		name      string
		ev        *event
		condition string
		fnError   string
		resp      []byte
	}{
		{"retries_exhausted", with(func(e *event) { e.Invokes, e.LastStatus = 3, 200 }), ConditionRetriesExhausted, "Unhandled", errPayload},
		{"success", with(func(e *event) { e.Invokes, e.LastStatus = 1, 200 }), ConditionSuccess, "", []byte(`{"ok":true,"html":"<b>&</b>"}`)},
		{"success_null_result", with(func(e *event) { e.Invokes, e.LastStatus = 1, 200 }), ConditionSuccess, "", nil},
		{"age_exceeded_throttled", with(func(e *event) { e.LastStatus = 429 }), ConditionEventAgeExceeded, "", nil},
		{"age_exceeded_after_error", with(func(e *event) { e.Invokes, e.LastStatus = 1, 200 }), ConditionEventAgeExceeded, "Unhandled", errPayload},
		{"reserved_zero", with(func(e *event) {}), ConditionRetriesExhausted, "", nil},
		{"non_json_payload", with(func(e *event) { e.Payload, e.Invokes, e.LastStatus = []byte("plain\ntext"), 1, 200 }), ConditionSuccess, "", []byte("not json")},
		{"empty_payload", with(func(e *event) { e.Payload, e.Invokes, e.LastStatus = nil, 1, 200 }), ConditionSuccess, "", []byte(`"done"`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := marshalRecord(newRecord(tt.ev, tt.condition, now, tt.fnError, tt.resp))
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Count(got, []byte{'\n'}) != 1 || !json.Valid(got) {
				t.Fatalf("record is not one JSON line: %q", got)
			}
			path := filepath.Join(goldenDir, tt.name+".golden.json")
			if *update {
				if err := os.MkdirAll(goldenDir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("record mismatch\n got: %s\nwant: %s", got, want)
			}
		})
	}
}
