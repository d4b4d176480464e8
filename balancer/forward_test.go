package balancer

import (
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/albedo-lb/albedo/config"
)

func weighted(sticky *config.GroupStickiness, groups ...config.WeightedGroup) *config.Action {
	return &config.Action{Forward: &config.Forward{TargetGroups: groups, Stickiness: sticky}}
}

// TestWeightedSplit sends 10,000 requests through a 1:3 split with a
// weight-0 third group: each share within 2 points of its weight, the
// weight-0 group never chosen.
func TestWeightedSplit(t *testing.T) {
	fs, groups := fakes("blue", "green", "never")
	cfg := listenerConfig(weighted(nil,
		config.WeightedGroup{Name: "blue", Weight: ptr(100)},
		config.WeightedGroup{Name: "green", Weight: ptr(300)},
		config.WeightedGroup{Name: "never", Weight: ptr(0)},
	))
	_, base := start(t, cfg, groups, Options{Rand: rand.NewPCG(1, 2)})
	const total, workers = 10000, 8
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Int64
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := fasthttp.AcquireRequest()
			resp := fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			req.SetRequestURI(base + "/")
			for next.Add(1) <= total {
				if err := testClient.DoTimeout(req, resp, 10*time.Second); err != nil || resp.StatusCode() != 200 {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if n := failed.Load(); n != 0 {
		t.Fatalf("%d requests failed", n)
	}
	share := func(name string) float64 { return float64(fs[name].calls.Load()) / total }
	if n := fs["never"].calls.Load(); n != 0 {
		t.Errorf("weight-0 group chosen %d times", n)
	}
	for name, want := range map[string]float64{"blue": 0.25, "green": 0.75} {
		if got := share(name); math.Abs(got-want) > 0.02 {
			t.Errorf("%s share = %.4f, want %.2f ± 0.02", name, got, want)
		}
	}
}

func TestAllWeightsZero(t *testing.T) {
	fs, groups := fakes("a", "b")
	cfg := listenerConfig(weighted(nil,
		config.WeightedGroup{Name: "a", Weight: ptr(0)},
		config.WeightedGroup{Name: "b", Weight: ptr(0)},
	))
	_, base := start(t, cfg, groups, Options{})
	resp := do(t, "GET", base+"/", nil)
	if resp.StatusCode() != 503 || fs["a"].calls.Load()+fs["b"].calls.Load() != 0 {
		t.Errorf("status %d, calls a=%d b=%d; want 503 and none", resp.StatusCode(), fs["a"].calls.Load(), fs["b"].calls.Load())
	}
}

// clock is a settable Options.Now.
type clock struct{ unix atomic.Int64 }

func (c *clock) now() time.Time { return time.Unix(c.unix.Load(), 0) }

func TestStickiness(t *testing.T) {
	fs, groups := fakes("blue", "green", "zero")
	var clk clock
	clk.unix.Store(1_800_000_000)
	cfg := listenerConfig(weighted(&config.GroupStickiness{Enabled: true, Duration: 60},
		config.WeightedGroup{Name: "blue", Weight: ptr(1)},
		config.WeightedGroup{Name: "green", Weight: ptr(1)},
		config.WeightedGroup{Name: "zero", Weight: ptr(0)},
	))
	b, base := start(t, cfg, groups, Options{Now: clk.now, Rand: rand.NewPCG(3, 4)})
	fa := b.listeners[0].rules[0].action.forward

	// sendWith sends one request carrying cookie (if any) and returns the
	// group that answered and the AWSALBTG value it set.
	sendWith := func(t *testing.T, cookie string) (group, set string) {
		t.Helper()
		resp := do(t, "GET", base+"/", func(r *fasthttp.Request) {
			if cookie != "" {
				r.Header.SetCookie(CookieName, cookie)
			}
		})
		if resp.StatusCode() != 200 {
			t.Fatalf("status %d", resp.StatusCode())
		}
		c := fasthttp.AcquireCookie()
		defer fasthttp.ReleaseCookie(c)
		c.SetKey(CookieName)
		if !resp.Header.Cookie(c) {
			t.Fatalf("no %s cookie in response", CookieName)
		}
		return string(resp.Header.Peek("X-Group")), string(c.Value())
	}
	// distinct reports how many groups answered n requests with cookie.
	distinct := func(t *testing.T, cookie string, n int) map[string]int {
		seen := map[string]int{}
		for range n {
			g, _ := sendWith(t, cookie)
			seen[g]++
		}
		return seen
	}

	first, cookie := sendWith(t, "")
	t.Run("valid cookie sticks", func(t *testing.T) {
		if seen := distinct(t, cookie, 40); len(seen) != 1 || seen[first] != 40 {
			t.Errorf("with a valid cookie for %s got %v", first, seen)
		}
	})
	t.Run("cookie attributes", func(t *testing.T) {
		resp := do(t, "GET", base+"/", nil)
		var plain, cors string
		for k, v := range resp.Header.Cookies() {
			switch string(k) {
			case CookieNameCORS:
				cors = string(v)
			case CookieName:
				plain = string(v)
			}
		}
		wantExp := "expires=" + clk.now().Add(60*time.Second).UTC().Format(time.RFC1123)
		wantExp = strings.Replace(wantExp, "UTC", "GMT", 1)
		if !strings.Contains(plain, wantExp) || !strings.Contains(plain, "path=/") || strings.Contains(plain, "SameSite") {
			t.Errorf("%s cookie = %q, want %s; path=/", CookieName, plain, wantExp)
		}
		if !strings.Contains(cors, "SameSite=None") || !strings.Contains(cors, "secure") {
			t.Errorf("%s cookie = %q, want SameSite=None; secure", CookieNameCORS, cors)
		}
	})
	t.Run("forged cookie ignored", func(t *testing.T) {
		forged := cookie[:len(cookie)-3] + "AAA"
		if seen := distinct(t, forged, 40); len(seen) != 2 {
			t.Errorf("forged cookie still pinned: %v", seen)
		}
	})
	t.Run("unsigned group name ignored", func(t *testing.T) {
		if seen := distinct(t, "blue", 40); len(seen) != 2 {
			t.Errorf("plain group name pinned: %v", seen)
		}
	})
	t.Run("weight-0 group ignored", func(t *testing.T) {
		zero := string(b.signer.appendValue(nil, fa.id, "zero", clk.now().Add(time.Minute)))
		seen := distinct(t, zero, 20)
		if seen["zero"] != 0 || fs["zero"].calls.Load() != 0 {
			t.Errorf("weight-0 group chosen via cookie: %v", seen)
		}
	})
	t.Run("expired cookie ignored", func(t *testing.T) {
		clk.unix.Add(61)
		defer clk.unix.Add(-61)
		if seen := distinct(t, cookie, 40); len(seen) != 2 {
			t.Errorf("expired cookie still pinned: %v", seen)
		}
	})
	t.Run("reissued cookie slides expiry", func(t *testing.T) {
		_, fresh := sendWith(t, cookie)
		clk.unix.Add(59)
		defer clk.unix.Add(-59)
		g, _ := sendWith(t, fresh)
		if g != first {
			t.Errorf("reissued cookie routed to %s, want %s", g, first)
		}
	})
}
