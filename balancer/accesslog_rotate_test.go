package balancer

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestSetAccessLog: lines written before SetAccessLog are in the old
// writer (flushed by the switch, not a second later), lines after it in
// the new one; nil turns the log off and a later writer turns it back on.
func TestSetAccessLog(t *testing.T) {
	_, groups := fakes("g")
	var first, second, third syncBuffer
	b, base := start(t, listenerConfig(forwardTo("g")), groups, Options{AccessLog: &first})
	do(t, "GET", base+"/one", nil)
	do(t, "GET", base+"/two", nil)
	if err := b.SetAccessLog(&second); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(first.String(), "\n"); n != 2 {
		t.Fatalf("the old writer holds %d lines right after the switch, want 2:\n%s", n, first.String())
	}
	do(t, "GET", base+"/three", nil)
	if err := b.SetAccessLog(nil); err != nil {
		t.Fatal(err)
	}
	do(t, "GET", base+"/unlogged", nil)
	if err := b.SetAccessLog(&third); err != nil {
		t.Fatal(err)
	}
	do(t, "GET", base+"/four", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		buf  *syncBuffer
		want []string
	}{
		{"first", &first, []string{"/one", "/two"}},
		{"second", &second, []string{"/three"}},
		{"third", &third, []string{"/four"}},
	} {
		lines := strings.Split(strings.TrimSuffix(c.buf.String(), "\n"), "\n")
		if len(lines) != len(c.want) {
			t.Errorf("%s writer: %d lines, want %d:\n%s", c.name, len(lines), len(c.want), c.buf.String())
			continue
		}
		for i, w := range c.want {
			if !strings.Contains(lines[i], " "+w+" HTTP/1.1") && !strings.Contains(lines[i], w+" HTTP/1.1\"") {
				t.Errorf("%s writer line %d: %s, want %s", c.name, i, lines[i], w)
			}
		}
	}
	if err := b.SetAccessLog(&first); !errors.Is(err, ErrClosed) {
		t.Errorf("SetAccessLog after Shutdown: %v, want ErrClosed", err)
	}
}
