package policy

import (
	"errors"
	"slices"
	"testing"

	"github.com/albedo-lb/albedo/config"
)

// TestStoreUpdate: a reload keeps the API changes of a function whose
// config statements did not change (same revision), gives a function whose
// statements changed its new ones, adds and removes functions; and a
// restart afterwards agrees with it.
func TestStoreUpdate(t *testing.T) {
	dir := t.TempDir()
	s3 := config.Statement{Sid: "s3", Principal: "s3.amazonaws.com", Action: "lambda:InvokeFunction", SourceAccount: testAccount}
	sns := config.Statement{Sid: "sns", Principal: "sns.amazonaws.com", Action: "lambda:InvokeFunction"}
	fns := []config.Function{{Name: "web", Policy: []config.Statement{albStatement}}, {Name: "api", Policy: []config.Statement{albStatement}}, {Name: "old"}}
	s := mustOpen(t, dir, fns)
	if _, err := s.Add("web", s3, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Add("api", s3, ""); err != nil {
		t.Fatal(err)
	}
	webStmts, webRev := s.Statements("web")
	_, webID, _ := s.Get("web")

	next := []config.Function{
		{Name: "web", Policy: []config.Statement{albStatement}},      // unchanged: keeps s3
		{Name: "api", Policy: []config.Statement{albStatement, sns}}, // changed: the file wins
		{Name: "new", Policy: []config.Statement{sns}},
	}
	if err := s.Update(next); err != nil {
		t.Fatal(err)
	}
	check := func(s *Store, when string) {
		t.Helper()
		if got, rev := s.Statements("web"); !slices.Equal(got, webStmts) || when == "reload" && rev != webRev {
			t.Errorf("%s: web = %v rev %d, want %v rev %d (API change kept)", when, got, rev, webStmts, webRev)
		}
		if _, id, _ := s.Get("web"); id != webID {
			t.Errorf("%s: web's RevisionId changed", when)
		}
		if got, _ := s.Statements("api"); !slices.Equal(got, []config.Statement{albStatement, sns}) {
			t.Errorf("%s: api = %v, want the file's new statements", when, got)
		}
		if got, _ := s.Statements("new"); when == "reload" && !slices.Equal(got, []config.Statement{sns}) {
			t.Errorf("%s: new = %v", when, got)
		}
		if _, _, err := s.Get("old"); !errors.Is(err, ErrUnknownFunction) {
			t.Errorf("%s: removed function: %v", when, err)
		}
		if s.ARN("new") != config.FunctionARN(testRegion, testAccount, "new") {
			t.Errorf("%s: ARN(new) = %q", when, s.ARN("new"))
		}
	}
	check(s, "reload")
	// API changes keep working after the update, and survive a restart.
	if _, err := s.Add("new", s3, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := mustOpen(t, dir, next)
	defer s2.Close()
	check(s2, "restart")
	if got, _ := s2.Statements("new"); len(got) != 2 {
		t.Errorf("the API change to the added function was lost: %v", got)
	}
	if err := s.Update(next); !errors.Is(err, ErrClosed) {
		t.Errorf("Update after Close: %v", err)
	}
}
