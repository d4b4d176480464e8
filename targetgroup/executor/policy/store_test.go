package policy

import (
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/albedo-lb/albedo/config"
)

const (
	testRegion  = "us-east-1"
	testAccount = "123456789012"
)

var albStatement = config.Statement{
	Sid: "alb", Principal: "elasticloadbalancing.amazonaws.com", Action: "lambda:InvokeFunction",
	SourceARN: "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123456789abcdef",
}

func storeFunctions(stmts ...config.Statement) []config.Function {
	return []config.Function{{Name: "web", Policy: stmts}, {Name: "other"}}
}

func mustOpen(t testing.TB, dir string, fns []config.Function) *Store {
	t.Helper()
	s, err := Open(dir, testRegion, testAccount, fns)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestStoreChanges(t *testing.T) {
	s := mustOpen(t, t.TempDir(), storeFunctions(albStatement))
	defer s.Close()

	stmts, rev0 := s.Statements("web")
	if !slices.Equal(stmts, []config.Statement{albStatement}) || rev0 == 0 {
		t.Fatalf("initial %v rev %d", stmts, rev0)
	}
	if _, rev := s.Statements("missing"); rev != 0 {
		t.Errorf("unknown function revision %d", rev)
	}
	_, revID0, _ := s.Get("web")

	s3 := config.Statement{Sid: "s3", Principal: "s3.amazonaws.com", Action: "lambda:InvokeFunction", SourceAccount: testAccount}
	revID1, err := s.Add("web", s3, revID0)
	if err != nil {
		t.Fatal(err)
	}
	stmts, rev1 := s.Statements("web")
	if len(stmts) != 2 || rev1 == rev0 || revID1 == revID0 {
		t.Errorf("after add: %v rev %d→%d id %s→%s", stmts, rev0, rev1, revID0, revID1)
	}

	tests := []struct {
		name string
		err  error
		fn   func() error
	}{
		{"duplicate sid", ErrDuplicateStatement, func() error { _, err := s.Add("web", s3, ""); return err }},
		{"stale revision", ErrRevisionMismatch, func() error { _, err := s.Add("web", config.Statement{Sid: "x"}, revID0); return err }},
		{"unknown function", ErrUnknownFunction, func() error { _, err := s.Add("missing", s3, ""); return err }},
		{"remove missing", ErrStatementNotFound, func() error { _, err := s.Remove("web", "nope", ""); return err }},
		{"too large", ErrTooLarge, func() error {
			big := config.Statement{Sid: "big", Principal: "s3.amazonaws.com", Action: "lambda:InvokeFunction",
				SourceARN: string(make([]byte, 21000))}
			_, err := s.Add("web", big, "")
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.fn(); !errors.Is(err, tt.err) {
				t.Errorf("got %v, want %v", err, tt.err)
			}
		})
	}
	if _, rev := s.Statements("web"); rev != rev1 {
		t.Errorf("failed changes moved the revision %d→%d", rev1, rev)
	}

	if _, err := s.Remove("web", "alb", ""); err != nil {
		t.Fatal(err)
	}
	stmts, rev2 := s.Statements("web")
	if !slices.Equal(stmts, []config.Statement{s3}) || rev2 == rev1 {
		t.Errorf("after remove: %v rev %d", stmts, rev2)
	}
}

// s3Statement is the statement removeALBAddS3 adds.
var s3Statement = config.Statement{Sid: "s3", Principal: "s3.amazonaws.com", Action: "lambda:InvokeFunction"}

// removeALBAddS3 opens a store in dir for storeFunctions(albStatement),
// replaces web's alb statement with s3Statement through the API and
// closes it: it returns the closed store and the RevisionId persisted.
func removeALBAddS3(t *testing.T, dir string) (*Store, string) {
	t.Helper()
	s := mustOpen(t, dir, storeFunctions(albStatement))
	if _, err := s.Remove("web", "alb", ""); err != nil {
		t.Fatal(err)
	}
	revID, err := s.Add("web", s3Statement, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return s, revID
}

func TestStorePersistence(t *testing.T) {
	s3 := s3Statement
	tests := []struct {
		name   string
		reopen []config.Function // config at the second open
		want   []config.Statement
	}{
		{name: "config unchanged keeps api changes", reopen: storeFunctions(albStatement), want: []config.Statement{s3}},
		{name: "config changed wins", reopen: storeFunctions(albStatement, config.Statement{Sid: "new", Principal: "sns.amazonaws.com", Action: "lambda:*"}),
			want: []config.Statement{albStatement, {Sid: "new", Principal: "sns.amazonaws.com", Action: "lambda:*"}}},
		{name: "config cleared wins", reopen: storeFunctions(), want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s, revID := removeALBAddS3(t, dir)
			if _, err := s.Add("web", albStatement, ""); !errors.Is(err, ErrClosed) {
				t.Errorf("add after close: %v", err)
			}

			s = mustOpen(t, dir, tt.reopen)
			defer s.Close()
			got, _ := s.Statements("web")
			if !slices.Equal(got, tt.want) {
				t.Errorf("after reopen: %v, want %v", got, tt.want)
			}
			_, gotID, _ := s.Get("web")
			if kept := tt.want != nil && tt.want[0].Sid == "s3"; kept != (gotID == revID) {
				t.Errorf("revision id %s (persisted %s)", gotID, revID)
			}
			// A third open with the same config gives the same answer.
			s.Close()
			s = mustOpen(t, dir, tt.reopen)
			if again, _ := s.Statements("web"); !slices.Equal(again, tt.want) {
				t.Errorf("third open: %v", again)
			}
		})
	}
}

func TestStoreDropsRemovedFunctions(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir, storeFunctions(albStatement))
	if _, err := s.Add("other", albStatement, ""); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = mustOpen(t, dir, storeFunctions(albStatement)[:1]) // "other" gone
	s.Close()
	s = mustOpen(t, dir, storeFunctions(albStatement)) // "other" back, config unchanged
	defer s.Close()
	if got, _ := s.Statements("other"); len(got) != 0 {
		t.Errorf("stale record resurrected: %v", got)
	}
}

func TestStoreConfigRevisionStable(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir, storeFunctions(albStatement))
	_, a, _ := s.Get("web")
	s.Close()
	s = mustOpen(t, dir, storeFunctions(albStatement))
	defer s.Close()
	_, b, _ := s.Get("web")
	if a != b || len(a) != 36 {
		t.Errorf("config-only RevisionId changed across restart: %s %s", a, b)
	}
}

// TestStoreConcurrent races readers against writers (run with -race).
func TestStoreConcurrent(t *testing.T) {
	s := mustOpen(t, t.TempDir(), storeFunctions(albStatement))
	defer s.Close()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 2 {
		wg.Go(func() {
			var last uint64
			for {
				select {
				case <-stop:
					return
				default:
				}
				stmts, rev := s.Statements("web")
				if rev < last {
					t.Errorf("revision went back %d→%d", last, rev)
					return
				}
				last = rev
				for _, st := range stmts {
					_ = st.Sid
				}
			}
		})
	}
	for i := range 20 {
		sid := "s" + string(rune('a'+i))
		if _, err := s.Add("web", config.Statement{Sid: sid, Principal: "s3.amazonaws.com", Action: "lambda:*"}, ""); err != nil {
			t.Error(err)
		}
		if i%2 == 0 {
			if _, err := s.Remove("web", sid, ""); err != nil {
				t.Error(err)
			}
		}
	}
	close(stop)
	wg.Wait()
	if got, _ := s.Statements("web"); len(got) != 11 {
		t.Errorf("%d statements, want 11", len(got))
	}
}
