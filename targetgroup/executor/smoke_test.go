package executor

import "testing"

func TestSmoke(t *testing.T) {
	p, flog := newTestPool(t, Options{}, behaveFn(t, "b"))
	a := mustAnswer(t, invoke(t, p, "b", `{"stdout":["hello"]}`))
	b := mustAnswer(t, invoke(t, p, "b", `{}`))
	if a.PID != b.PID {
		t.Errorf("pids %d %d", a.PID, b.PID)
	}
	t.Log(flog.String())
	t.Logf("%+v", p.Stats())
}
