package policy

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/albedo-lb/albedo/config"
	"github.com/albedo-lb/albedo/targetgroup/executor/statefile"
)

// TestOpenRefusesDamagedRecord: bytes overwritten inside a value of a
// policy record (the page structure intact) make `albedo state check`
// (statefile.Check) and Open report the file damaged, naming the
// checksum; Open must not drop the record and fall back to the config's
// statements, which would bring back the permission RemovePermission took
// away.
func TestOpenRefusesDamagedRecord(t *testing.T) {
	tests := []struct {
		name  string
		value func(revisionID string) string // a value inside the record
	}{
		{"config_hash", func(string) string { return statementsHash([]config.Statement{albStatement}) }},
		{"revision_id", func(id string) string { return id }},
		{"a statement's principal", func(string) string { return s3Statement.Principal }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			_, revID := removeALBAddS3(t, dir)
			path := filepath.Join(dir, File)
			damaged := overwriteInside(t, path, tt.value(revID))

			_, err := statefile.Check(dir, StateFile, time.Second)
			var d *statefile.DamagedError
			if !errors.As(err, &d) || !strings.Contains(d.Detail(), "checksum mismatch") {
				t.Errorf("check: %v, want a damaged file with a checksum mismatch", err)
			}
			s, err := Open(dir, testRegion, testAccount, storeFunctions(albStatement))
			if err == nil {
				got, _ := s.Statements("web")
				s.Close()
				t.Fatalf("Open accepted the damaged record; web's policy is %v", got)
			}
			if !errors.As(err, &d) || !strings.Contains(d.Detail(), "checksum mismatch") {
				t.Errorf("Open: %v, want a *statefile.DamagedError with a checksum mismatch", err)
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(after, damaged) {
				t.Error("Open changed the damaged file")
			}
		})
	}
}

// overwriteInside overwrites 6 bytes inside every copy of value in the
// file (older copies may sit on freed pages) and returns the new content.
func overwriteInside(t *testing.T, path, value string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for off := 0; ; {
		i := bytes.Index(b[off:], []byte(value))
		if i < 0 {
			break
		}
		copy(b[off+i+4:], "XXXXXX")
		off += i + len(value)
		n++
	}
	if n == 0 {
		t.Fatalf("%q is not in %s", value, path)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestOpenLegacyRecord: a record written before records carried a
// checksum (plain JSON) passes the check, is used at Open as before and
// is rewritten in the checksummed form; when the config changed the
// function it is dropped, as any record is.
func TestOpenLegacyRecord(t *testing.T) {
	legacy := []byte(`{"config_hash":"` + statementsHash([]config.Statement{albStatement}) +
		`","revision_id":"legacy-revision","statements":[{"Sid":"s3","Principal":"s3.amazonaws.com","Action":"lambda:InvokeFunction"}]}`)
	tests := []struct {
		name   string
		fns    []config.Function
		want   []config.Statement
		wantID string // "" : the config's
	}{
		{"config unchanged keeps it", storeFunctions(albStatement), []config.Statement{s3Statement}, "legacy-revision"},
		{"config changed drops it", storeFunctions(), nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			putRaw(t, dir, "web", legacy)
			if rep, err := statefile.Check(dir, StateFile, time.Second); err != nil || rep.Buckets[0].Kept != 1 {
				t.Fatalf("check of a legacy record: %+v, %v", rep, err)
			}
			s := mustOpen(t, dir, tt.fns)
			got, _ := s.Statements("web")
			_, id, _ := s.Get("web")
			s.Close()
			if !slices.Equal(got, tt.want) || (tt.wantID != "" && id != tt.wantID) || (tt.wantID == "" && id == "legacy-revision") {
				t.Errorf("loaded %v %s, want %v %q", got, id, tt.want, tt.wantID)
			}
			raw := getRaw(t, dir, "web")
			if tt.wantID == "" {
				if raw != nil {
					t.Errorf("record kept: %q", raw)
				}
				return
			}
			rec, old, err := decodeRecord(raw)
			if err != nil || old || rec.RevisionID != tt.wantID || !slices.Equal(rec.Statements, tt.want) {
				t.Errorf("record after Open: %+v legacy=%v %v (raw %q)", rec, old, err, raw)
			}
		})
	}
}
