package executor

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/containerd/cgroups/v3"
	"github.com/containerd/cgroups/v3/cgroup2"
)

// requireCgroups skips the test when p runs environments in process
// groups (no cgroup access on this machine).
func requireCgroups(t *testing.T, p *Pool) {
	t.Helper()
	if _, ok := p.iso.(procGroups); ok {
		t.Skipf("needs cgroups; this machine gives none: isolation is %s", p.Isolation())
	}
}

// newPoolIn is newTestPool in the isolation iso: "cgroups" (the test
// skips without them) or "process groups".
func newPoolIn(t *testing.T, iso string, fns ...Function) *Pool {
	t.Helper()
	opts := Options{}
	if iso == "process groups" {
		opts.CgroupName = noCgroups
	}
	p, _ := newTestPool(t, opts, fns...)
	if iso == "cgroups" {
		requireCgroups(t, p)
	}
	return p
}

// groupOf is the process group of pid, -1 when it is gone.
func groupOf(pid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return -1
	}
	e, ok := parseProcStat(b)
	if !ok {
		return -1
	}
	return e.pgid
}

// invokeTail invokes with TailLog and returns the response and its REPORT
// line.
func invokeTail(t *testing.T, p *Pool, fn, event string) (Response, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	resp, err := p.Invoke(ctx, Request{Function: fn, Payload: []byte(event), TailLog: true})
	if err != nil {
		t.Fatalf("Invoke(%s, %s): %v", fn, event, err)
	}
	for _, l := range strings.Split(string(resp.Log), "\n") {
		if strings.HasPrefix(l, "REPORT ") {
			return resp, l
		}
	}
	t.Fatalf("no REPORT line in\n%s", resp.Log)
	return resp, ""
}

var maxMemoryRE = regexp.MustCompile(`\tMax Memory Used: (\d+) MB\t`)

func maxMemoryUsed(t *testing.T, report string) int {
	t.Helper()
	m := maxMemoryRE.FindStringSubmatch(report)
	if m == nil {
		t.Fatalf("no Max Memory Used in %q", report)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// A function's child that left its process group (setsid) dies with the
// environment, whether a timeout resets it or the Pool stops; in cgroups,
// and in process groups, where albedo finds it as the subreaper.
func TestSetsidChildDiesWithEnvironment(t *testing.T) {
	t.Parallel()
	for _, iso := range []string{"cgroups", "process groups"} {
		for _, end := range []string{"timeout", "close"} {
			t.Run(iso+"/"+end, func(t *testing.T) {
				t.Parallel()
				fn := behaveFn(t, "orphan")
				fn.Timeout = time.Second
				p := newPoolIn(t, iso, fn)
				a := mustAnswer(t, invoke(t, p, "orphan", `{"spawn":"setsid"}`))
				if g := groupOf(a.ChildPID); g < 0 || g == a.PID {
					t.Fatalf("child %d: process group %d, want one of its own (runtime %d)", a.ChildPID, g, a.PID)
				}
				switch end {
				case "timeout":
					if resp := invoke(t, p, "orphan", `{"sleep_ms":5000}`); resp.ErrorType != ErrorTypeTimeout {
						t.Fatalf("ErrorType = %q, want %s", resp.ErrorType, ErrorTypeTimeout)
					}
				case "close":
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					defer cancel()
					if err := p.Close(ctx); err != nil {
						t.Fatal(err)
					}
				}
				waitFor(t, func() bool { return !processAlive(a.ChildPID) && !processAlive(a.PID) })
			})
		}
	}
}

// The kernel enforces memory_size: the runtime is killed, the invocation
// fails as Lambda reports it, REPORT shows the peak at the limit, and the
// next invocation gets a new environment.
func TestMemoryLimitKillsRuntime(t *testing.T) {
	t.Parallel()
	fn := behaveFn(t, "oom")
	p, _ := newTestPool(t, Options{}, fn)
	requireCgroups(t, p)
	first := mustAnswer(t, invoke(t, p, "oom", `{}`))
	resp, report := invokeTail(t, p, "oom", `{"alloc_mb":300}`)
	if resp.FunctionError != FunctionErrorUnhandled || resp.ErrorType != ErrorTypeExit {
		t.Fatalf("FunctionError, ErrorType = %q, %q, want Unhandled, %s", resp.FunctionError, resp.ErrorType, ErrorTypeExit)
	}
	want := "RequestId: " + resp.RequestID + " Error: Runtime exited with error: signal: killed"
	if ep := errorPayloadOf(t, resp.Payload); ep.ErrorMessage != want || ep.ErrorType != ErrorTypeExit {
		t.Errorf("payload = %s, want errorMessage %q", resp.Payload, want)
	}
	if !strings.HasSuffix(report, "\tStatus: error\tError Type: Runtime.ExitError\t") {
		t.Errorf("REPORT = %q, want Status: error, Error Type: Runtime.ExitError", report)
	}
	if mb := maxMemoryUsed(t, report); mb < 120 || mb > 128 {
		t.Errorf("Max Memory Used = %d MB, want the 128 MB limit reached", mb)
	}
	if s := p.Stats(); s.OutOfMemory != 1 {
		t.Errorf("OutOfMemory = %d, want 1 (the kernel's kill seen in the cgroup)", s.OutOfMemory)
	}
	if next := mustAnswer(t, invoke(t, p, "oom", `{}`)); next.PID == first.PID {
		t.Errorf("next invocation ran in the killed environment (pid %d)", next.PID)
	}
}

// Max Memory Used is the environment's peak for its lifetime.
func TestMaxMemoryUsed(t *testing.T) {
	t.Parallel()
	for _, iso := range []string{"cgroups", "process groups"} {
		t.Run(iso, func(t *testing.T) {
			t.Parallel()
			fn := behaveFn(t, "peak")
			fn.MemorySize = 512
			p := newPoolIn(t, iso, fn)
			_, report := invokeTail(t, p, "peak", `{"alloc_mb":200}`)
			if mb := maxMemoryUsed(t, report); mb < 200 || mb > 280 {
				t.Errorf("after touching 200 MiB: Max Memory Used = %d MB, want 200-280 (%s)", mb, report)
			}
			_, report = invokeTail(t, p, "peak", `{}`)
			if mb := maxMemoryUsed(t, report); mb < 200 {
				t.Errorf("next invocation: Max Memory Used = %d MB, want the environment's peak (>= 200)", mb)
			}
		})
	}
}

// With cpu_model aws a function gets memory/1,769 of a CPU: the same CPU
// burn takes at least 5 times longer at 128 MB than at 1,769 MB; with host
// it takes about as long. The 128 MB environment's share of a CPU is capped
// by the kernel whatever the machine does; the ratio needs the 1,769 MB one
// to get at least half a CPU, which a machine busy with other work may not
// give (the test then says so and checks the cap alone).
func TestCPUModel(t *testing.T) {
	const burn = 150 * time.Millisecond
	for _, model := range []string{CPUModelAWS, CPUModelHost} {
		t.Run(model, func(t *testing.T) {
			small, big := behaveFn(t, "small"), behaveFn(t, "big")
			small.MemorySize, big.MemorySize = 128, 1769
			small.CPUModel, big.CPUModel = model, model
			small.Timeout, big.Timeout = time.Minute, time.Minute
			p, _ := newTestPool(t, Options{}, small, big)
			requireCgroups(t, p)
			if model == CPUModelAWS && !p.iso.limitsCPU() {
				t.Skipf("no cpu controller: isolation is %s", p.Isolation())
			}
			// Fastest of a few: the other load on the machine only ever
			// slows a run down.
			fastest := func(fn string, runs int) (time.Duration, answer) {
				best := time.Duration(1<<63 - 1)
				var a answer
				for range runs {
					resp := invoke(t, p, fn, `{"burn_ms":`+strconv.Itoa(int(burn.Milliseconds()))+`}`)
					a = mustAnswer(t, resp)
					best = min(best, resp.Duration)
				}
				return best, a
			}
			dBig, aBig := fastest("big", 5)
			smallRuns := 5
			if model == CPUModelAWS {
				smallRuns = 2 // 2 s each
			}
			dSmall, aSmall := fastest("small", smallRuns)
			ratio := float64(dSmall) / float64(dBig)
			shareSmall, shareBig := float64(burn)/float64(dSmall), float64(burn)/float64(dBig)
			t.Logf("cpu_model %s: %v of CPU took %v at 128 MB (%.1f%% of a CPU, GOMAXPROCS %d), %v at 1,769 MB (%.0f%%, GOMAXPROCS %d): ratio %.1f",
				model, burn, dSmall, 100*shareSmall, aSmall.GOMAXPROCS, dBig, 100*shareBig, aBig.GOMAXPROCS, ratio)
			switch {
			case model == CPUModelHost && (ratio < 0.5 || ratio > 2):
				t.Errorf("duration ratio 128 MB / 1,769 MB = %.1f, want 0.5-2 (no quota)", ratio)
			case model == CPUModelAWS && shareSmall > 1.25*float64(awsCPUQuotaUS(128))/cpuPeriodUS:
				t.Errorf("128 MB got %.1f%% of a CPU, want at most its quota, 7.2%%", 100*shareSmall)
			case model == CPUModelAWS && ratio < 5 && shareBig >= 0.5:
				t.Errorf("duration ratio 128 MB / 1,769 MB = %.1f, want at least 5", ratio)
			case model == CPUModelAWS && ratio < 5:
				t.Logf("the machine is busy (1,769 MB got %.0f%% of a CPU): the 5x ratio cannot show; the cap holds", 100*shareBig)
			}
		})
	}
}

// A second Pool with the same cgroup name (the next albedo with the same
// state_dir, after the first was killed) ends the first one's processes
// and removes their cgroups before it runs anything.
func TestLeftoversOfKilledPoolRemoved(t *testing.T) {
	t.Parallel()
	name := testCgroupName()
	fn := behaveFn(t, "left")
	old, err := New(Options{CgroupName: name, FunctionLog: &syncBuffer{}}, []Function{fn})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		old.Close(ctx)
	})
	if _, ok := old.iso.(procGroups); ok {
		t.Skipf("needs cgroups; this machine gives none: isolation is %s", old.Isolation())
	}
	a := mustAnswer(t, invoke(t, old, "left", `{"spawn":"setsid"}`))
	// Killed: the kernel lets its flock on the parent go, nothing else.
	old.iso.(*heldIso).lock.Close()
	logs := &syncBuffer{}
	newTestPool(t, Options{CgroupName: name, Logger: slog.New(slog.NewTextHandler(logs, nil))}, fn)
	for _, pid := range []int{a.PID, a.ChildPID} {
		if processAlive(pid) {
			t.Errorf("pid %d of the previous Pool still runs", pid)
		}
	}
	if !strings.Contains(logs.String(), "cgroups=1 processes_ended=2") {
		t.Errorf("log lacks the count of ended processes:\n%s", logs)
	}
}

// The cgroup v2 machinery (clone into the cgroup, cgroup.kill, removal,
// leftovers) on the unified hierarchy, without controllers: a hybrid
// machine's v2 mount has none, and memory and cpu are tested on v1.
func TestCgroup2Sandbox(t *testing.T) {
	t.Parallel()
	mount := ""
	switch cgroups.Mode() {
	case cgroups.Unified:
		mount = cgroup2Mount
	case cgroups.Hybrid:
		mount = filepath.Join(cgroup2Mount, "unified")
	default:
		t.Skip("no cgroup v2 hierarchy on this machine")
	}
	own, err := cgroup2.NestedGroupPath("")
	if err != nil {
		t.Skipf("own cgroup v2: %v", err)
	}
	name := testCgroupName()
	iso, err := newCgroup2(mount, own, name, nil)
	if err != nil {
		t.Skipf("no writable cgroup v2 here: %v", err)
	}
	t.Cleanup(func() {
		if err := iso.close(); err != nil {
			t.Error(err)
		}
	})
	fn := &function{cfg: Function{MemorySize: 128, CPUModel: CPUModelAWS}}
	sb, err := iso.newSandbox("env-1", fn)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", "-c", "setsid sleep 3600 & exec sleep 3600")
	if err := sb.start(cmd); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(iso.dir, "env-1")
	waitFor(t, func() bool { return len(tasksOf(dir)) == 2 })
	pids := tasksOf(dir)
	sb.kill()
	cmd.Wait()
	if err := sb.release(); err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		if processAlive(pid) {
			t.Errorf("pid %d alive after kill", pid)
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s still exists after release (%v)", dir, err)
	}

	// Leftovers: a sandbox nobody releases is swept by the next isolation
	// of the same name.
	sb, err = iso.newSandbox("env-2", fn)
	if err != nil {
		t.Fatal(err)
	}
	cmd = exec.Command("sleep", "3600")
	if err := sb.start(cmd); err != nil {
		t.Fatal(err)
	}
	go cmd.Wait()
	again, err := newCgroup2(mount, own, name, nil)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	sweep(again, slog.New(slog.NewTextHandler(logs, nil)))
	waitFor(t, func() bool { return !processAlive(cmd.Process.Pid) })
	if !strings.Contains(logs.String(), "cgroups=1 processes_ended=1") {
		t.Errorf("sweep log:\n%s", logs)
	}
}

func TestAWSCPUQuota(t *testing.T) {
	for _, tt := range []struct{ mb, want int }{
		{128, 7236}, {512, 28943}, {1769, 100000}, {3538, 200000}, {10240, 578858},
	} {
		if got := awsCPUQuotaUS(tt.mb); got != int64(tt.want) {
			t.Errorf("awsCPUQuotaUS(%d) = %d, want %d", tt.mb, got, tt.want)
		}
	}
}

func TestParseProcStat(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want procEntry
		ok   bool
	}{
		{"42 (sleep) S 7 42 42 0 -1", procEntry{ppid: 7, pgid: 42}, true},
		{"43 (a) b (c)) Z 1 9 9 0", procEntry{ppid: 1, pgid: 9, zombie: true}, true},
		{"44 (x", procEntry{}, false},
		{"45 (x) S y 1", procEntry{}, false},
	} {
		got, ok := parseProcStat([]byte(tt.in))
		if ok != tt.ok || got != tt.want {
			t.Errorf("parseProcStat(%q) = %+v, %v, want %+v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestCgroupNameFor(t *testing.T) {
	a, b := CgroupNameFor("/srv/app/.albedo"), CgroupNameFor("/srv/other/.albedo")
	if a == b || !regexp.MustCompile(`^albedo-[0-9a-f]{12}$`).MatchString(a) || a != CgroupNameFor("/srv/app/.albedo") {
		t.Errorf("CgroupNameFor: %q, %q", a, b)
	}
}

// The two ways of reading the process tree agree (the scan is what a
// kernel without /proc/<pid>/task/<tid>/children gets).
func TestProcViewsAgree(t *testing.T) {
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	self, child := os.Getpid(), cmd.Process.Pid
	for _, v := range []procView{childrenView{}, newScanView()} {
		kids, ok := v.children(self)
		if !ok || !slices.Contains(kids, child) {
			t.Errorf("%T: children of the test = %v, %v; want %d among them", v, kids, ok, child)
		}
		if e, ok := v.stat(child); !ok || e.ppid != self || e.pgid != groupOf(self) || e.zombie {
			t.Errorf("%T: stat(%d) = %+v, %v", v, child, e, ok)
		}
	}
}

// A Pool whose cgroup name a running Pool holds (a second albedo on the
// same state_dir, whose state files were deleted under the first) never
// ends the first one's environments: it runs in process groups and says
// why, and RemoveLeftovers ends nothing.
func TestLivePoolIsNoLeftover(t *testing.T) {
	t.Parallel()
	name := testCgroupName()
	fn := behaveFn(t, "live")
	first, _ := newTestPool(t, Options{CgroupName: name}, fn)
	requireCgroups(t, first)
	a := mustAnswer(t, invoke(t, first, "live", `{"spawn":"setsid"}`))
	second, _ := newTestPool(t, Options{CgroupName: name}, fn)
	if !strings.Contains(second.Isolation(), "in use by a running albedo") {
		t.Errorf("second Pool's isolation %q, want process groups for a name in use", second.Isolation())
	}
	if n, err := RemoveLeftovers(name); !errors.Is(err, ErrCgroupInUse) || n != 0 {
		t.Errorf("RemoveLeftovers = %d, %v; want 0, ErrCgroupInUse", n, err)
	}
	for _, pid := range []int{a.PID, a.ChildPID} {
		if !processAlive(pid) {
			t.Errorf("pid %d of the running Pool was ended", pid)
		}
	}
	if b := mustAnswer(t, invoke(t, first, "live", `{}`)); b.PID != a.PID {
		t.Errorf("the running Pool's environment was replaced (pid %d, then %d)", a.PID, b.PID)
	}
}
