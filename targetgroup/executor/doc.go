// Package executor is the local Lambda service: it runs real, unmodified
// Lambda functions as processes speaking the Lambda Runtime API, one
// invocation per execution environment, the way AWS Lambda does.
//
// # Use
//
// New validates the functions and options; Prepare runs build commands;
// Invoke runs one invocation (payload in, payload out, opaque bytes); Close
// stops everything. A function's own failure (its /error, a timeout, a
// crash, running out of memory, a failed init, an oversized response) is a
// Response with FunctionError "Unhandled" and the error JSON
// {"errorMessage":…,"errorType":…} as Payload; a Go error means the
// invocation never reached a runtime (ErrFunctionNotFound, *ThrottleError,
// ErrClosed, ErrPayloadTooLarge, *BuildError, or the context's error).
//
// # Updates
//
// A running Pool changes its functions without stopping (update.go): Stage
// compiles the new set and runs the builds it needs while the current set
// serves (a failed build changes nothing), Commit swaps them. Unchanged
// functions keep their environments, the same processes; a changed or
// refreshed function (its code changed on disk) gets fresh environments
// for new invocations while those in flight finish on the old ones, which
// then stop; a removed one still answers by name for RemovedGrace. Warm
// starts one environment ahead of the next invocation. Function,
// Functions and Invoke see the committed set at once.
//
// # Concurrency contract
//
// All Pool methods are safe for concurrent use. Request.Payload belongs to
// the Pool from the call until Invoke returns (longer when the caller's
// context ends first: the invocation then runs on in its environment).
// Response.Payload and Response.Log are owned by the caller. FunctionLog
// gets one Write per line and is never written concurrently by the Pool.
//
// # Execution environments
//
// An environment is a runtime process plus its Runtime API server:
//
//	          start           first GET /next          POST /response|/error
//	(new) ──────────► Init ─────────────────► Ready ◄─────────────────────── Invoking
//	                   │                        │  ──── hand-off to /next ───►  │
//	                   │ /init/error, exit,     │ idle_timeout, eviction,       │ timeout, exit,
//	                   ▼ 10 s init cap          ▼ Close                         ▼ out of memory
//	                 Dead ◄──────────────────────────────────────────────────── Dead
//
// Details:
//
//   - The listener (127.0.0.1:0) is open before the process starts;
//     AWS_LAMBDA_RUNTIME_API points at it. The Runtime API is served by a
//     small HTTP/1.1 server of this package (apiserver.go; requests are
//     read and answers written by package httpwire), not net/http nor
//     fasthttp (see Performance): a goroutine per connection, keep-alive, Content-Length or
//     chunked bodies with trailers (aws-lambda-go always sends chunked
//     bodies and declares trailers), Expect: 100-continue, Connection:
//     close, malformed requests 400 and closed. A request pipelined behind
//     the POST of a result (albedo's runtime clients send GET /next with
//     it) gets the 202 written in front of its own answer, in one write.
//     A parked /next is only a
//     mark on the environment: the connection's goroutine goes back to
//     reading (it sees the runtime hang up), and the invoking goroutine
//     writes the /next answer itself, so a warm hand-off costs one write
//     and no goroutine switch. A buffered response whose trailers carry
//     Lambda-Runtime-Function-Error-Type becomes a function error with the
//     base64-decoded Lambda-Runtime-Function-Error-Body. Line breaks in
//     the /next header values (a pretty-printed client context) become
//     spaces, as net/http writes them.
//   - The request id is checked before the body is read: an id that is not the
//     invocation in flight is 400 InvalidRequestID, one already answered 403
//     InvalidStateTransition, a body above 6,291,556 bytes 413
//     RequestEntityTooLarge (the caller gets Function.ResponseSizeTooLarge).
//     A second /next during an invocation is 403.
//   - The process starts from Code with Handler (provided*),
//     BuiltinCommand + handler (builtin, working directory Code or albedo's),
//     or an interpreter and albedo's runtime client (nodejsN.x, python3.N:
//     see Managed runtimes), through env.startProcess: inside the environment's
//     sandbox (see Isolation), in its own process group
//     with Pdeathsig SIGKILL, and Lambda's environment only: nothing of
//     albedo's but PATH and LD_LIBRARY_PATH (the interpreter's libraries, as
//     /var/lang/lib leads Lambda's), followed by the task root, its lib
//     directory and the layers' (layers.go). A function's own variables may
//     override LANG, PATH, TZ, LD_LIBRARY_PATH, NODE_PATH and the
//     AWS_XRAY_*/AWS_LAMBDA_LOG_* ones, never the rest of what Lambda sets;
//     names starting with "_", _LAMBDA_SERVER_PORT (switches aws-lambda-go to
//     the go1.x RPC protocol) and AWS_LAMBDA_MAX_CONCURRENCY (Managed
//     Instances' multi-concurrency) are dropped.
//   - stdout and stderr share one pipe, so their lines keep their order.
//
// # Managed runtimes (Node.js, Python)
//
// nodejsN.x and python3.N (any N) run on the machine's interpreter with
// albedo's own runtime clients (clients/node/bootstrap.cjs,
// clients/python/bootstrap.py): plain JavaScript and plain Python with
// their standard libraries, embedded in albedo and written once per
// content hash under Options.RuntimeDir (cmd/albedo: state_dir/runtime);
// never fetched. They follow AWS's runtime interface clients, with one
// keep-alive connection to the Runtime API per environment, the module
// loaded once per environment, and GET /next pipelined behind each result.
// The Node.js client writes the two one turn of the event loop after the
// handler finished, and not at all when an uncaught exception or an
// unhandled rejection of that turn ends the runtime (it exits after
// posting the result, as AWS's client does): no invocation is handed to a
// runtime about to exit, and the request after it gets a new environment.
//
//   - Interpreters: Options.Interpreters, else found on PATH (node;
//     python3.N, then python3) by ProbeInterpreter, which asks each for
//     its version and its own binary (process.execPath, sys.executable);
//     environments start that binary, so a pyenv or asdf shim costs
//     nothing per cold start. An older version than the runtime's is an
//     *InterpreterError; a newer one a warning.
//   - Node.js, as Lambda's bootstrap of nodejs18.x-22.x: --expose-gc
//     --max-http-header-size 81920, new space N = memory_size/10 MB,
//     --max-semi-space-size=N/2 and --max-old-space-size=memory_size-N
//     (115 of 128 MB), both left out when NODE_OPTIONS sets either;
//     AWS_EXECUTION_ENV=AWS_Lambda_nodejsN.x, NODE_PATH = the layers'
//     nodejs/nodeN/node_modules, then nodejs/node_modules, then the task
//     root (unless the function sets NODE_PATH). From nodejs24.x on,
//     callback handlers fail at init with Runtime.CallbackHandlerDeprecated
//     and the context has no succeed/fail/done, as on Lambda.
//   - Python: sys.path = the task root, the layers' python/lib/python3.N/
//     site-packages, their python directories, then the interpreter's own
//     path (its site-packages stand for the runtime's bundled boto3);
//     no bytecode is written into the code (Lambda's task root is
//     read-only); AWS_EXECUTION_ENV=AWS_Lambda_python3.N.
//   - AWS_LAMBDA_EXEC_WRAPPER is honoured for both, as Lambda's bootstrap
//     does (clients/exec-wrapper.sh: exit 127 when missing, 126 when not
//     executable, else the wrapper runs with the interpreter's command line).
//   - Not emulated: /opt (layers stay in their own directories, see
//     layers.go), the AWS SDK that Lambda bundles, container images,
//     SnapStart, response streaming to the client (a streamified handler's
//     output is buffered into one response), the telemetry log descriptor.
//
// # Extensions
//
// Every file of a layer's extensions directory is started as an external
// extension before the runtime (extensions.go), with the function's
// environment and output: Lambda's init order (extensions register, the
// runtime starts, init ends when all called next), the EXTENSION line
// before START, Extension.LaunchError / Extension.Crash / the extension's
// own init/error type / Sandbox.Timedout when init fails, an environment
// reset when an extension exits later. Any registration, external or
// internal (lambda.WithEnableSIGTERM), makes the shutdown graceful (below).
// INVOKE events are not sent: subscribers wait in event/next until
// SHUTDOWN; the Telemetry and Logs APIs do not exist.
//
// # Scheduling
//
// An invocation takes the most recently used idle environment of its
// function; otherwise a new one starts if the function is under its reserved
// concurrency (ReasonReserved), and the Pool under MaxConcurrency
// (ReasonConcurrent) and the memory budget after evicting least recently
// used idle environments of any function (a golang-lru list; Lambda's
// concurrency counts invocations in flight, so idle environments give way);
// otherwise it is throttled at once. An environment goes back to the idle
// list as soon as it answered. If it dies before it takes the next invocation
// (aws-lambda-go exits after reporting a panic), that invocation moves on to
// another environment; the function never saw it. Environments idle for
// IdleTimeout stop.
//
// # Failures
//
//   - Timeout: at the deadline the sandbox is killed; Sandbox.Timedout
//     "RequestId: <id> Error: Task timed out after 3.00 seconds" (configured
//     timeout, 2 decimals: UNCONFIRMED, AWS's newer style).
//   - Exit during an invocation: Runtime.ExitError "RequestId: <id> Error:
//     Runtime exited with error: exit status 2" ("signal: killed", or "Runtime
//     exited without providing a reason" for status 0).
//   - Out of memory: the kernel kills the runtime at MemorySize (cgroups),
//     or albedo does when its sampled peak RSS is above it (process groups;
//     see Isolation). The invocation gets Runtime.ExitError "RequestId: <id>
//     Error: Runtime exited with error: signal: killed", REPORT "Status:
//     error\tError Type: Runtime.ExitError" with Max Memory Used at the
//     limit, as Lambda reports it for provided runtimes (monitoring vendors
//     find a Go function's out of memory only by Max Memory Used reaching
//     Memory Size; Runtime.OutOfMemory appears for some managed runtimes,
//     UNCONFIRMED which); Stats.OutOfMemory counts these kills.
//   - Init: /init/error is served as the triggering invocation's error (the
//     runtime's body, its errorType in ErrorType); an exit during init is
//     Runtime.ExitError; an init longer than InitTimeout is Sandbox.Timedout
//     "Init phase timed out after 10.00 seconds" (wording UNCONFIRMED); a
//     missing executable is Runtime.InvalidEntrypoint. Init is not retried
//     inside the invocation ("suppressed init" is not emulated).
//   - /error bodies pass through unchanged, ErrorType "".
//
// # Logs
//
// FunctionLog receives, one line per Write, exactly what CloudWatch would
// hold: the function's output lines and START / END / REPORT in AWS's format
// (REPORT tab-separated with a trailing tab; Billed Duration is Duration plus
// Init Duration on a cold start, rounded up to 1 ms, as custom runtimes are
// billed; Max Memory Used is the measured peak). Failed invocations add
// "Status: timeout" or "Status: error\tError Type: …" to REPORT (UNCONFIRMED
// wording of recent AWS logs), error lines before END, and the
// "<time> <id> Task timed out after N seconds" line after REPORT. INIT_START
// and XRAY lines are not written. Function output is also logged to Logger at
// Debug with function, instance and request_id. Before END the Pool makes
// sure every byte the function wrote before answering became a line: when the
// pipe holds unread bytes (FIONREAD) or the caller asked for TailLog, it
// writes a marker into the pipe and waits (up to 100 ms) for the reader to
// reach it.
//
// # Metrics
//
// With Options.Metrics (one *Metrics per process, from NewMetrics, shared by
// every Pool built on it, so a Pool built again on a reload counts into the
// same series), each REPORT line is also counted, from the same figures:
// invocations, errors, timeouts, the Duration and Init Duration histograms,
// billed GB-seconds (Memory Size / 1024 × Billed Duration, the latter
// rounded up to 1 ms and including init on a cold start) and the estimated
// cost at the configured Pricing (free tier not subtracted); cold starts
// and throttles are counted where they happen. Environments by state
// (initializing, busy, idle, stopping), concurrent executions and the
// highest Max Memory Used are read at scrape time. Series are resolved
// when the Pool is built: counting costs a few atomic additions, no
// allocation and no lock.
//
// # Shutdown
//
// Close refuses new invocations, stops idle environments, waits for in-flight
// invocations until its context ends, then stops the rest the way Lambda's
// shutdown phase does: without extensions SIGKILL; with an extension
// registered SIGTERM to the runtime, and with external extensions the
// runtime gets 300 ms (500 ms when an internal one registered too) before
// SIGKILL, then the extensions get their SHUTDOWN event ("spindown", once,
// to subscribers) and the rest of the 2 s before SIGKILL. Idle timeouts
// and evictions stop environments the same way; timeouts and crashes
// SIGKILL everything at once. Close returns once every process is reaped
// and every sandbox removed. Pdeathsig covers the runtime when albedo is
// killed; what else ran in its cgroups is ended by the next albedo with the
// same CgroupName (see Isolation).
//
// # Isolation
//
// Every environment is a sandbox (sandbox.go): the runtime and everything
// it starts, children that call setsid included, and the external
// extensions of its layers with what they start.
// When the environment is reset (timeout, crash, out of memory, failed
// init) or stopped (idle, evicted, Close), everything in it is killed, as
// Lambda resets an execution environment as a whole. A sandbox is not a
// security boundary: functions run as albedo's user.
//
// With cgroups (Options.CgroupName set, and the machine lets albedo create
// cgroups: root, or a delegated subtree), an environment is a cgroup named
// after its instance, under a parent cgroup CgroupName created beneath the
// cgroup albedo itself runs in (in each v1 hierarchy), so that two albedos
// never touch each other's; Pool.Isolation names the controllers used,
// e.g. "cgroup v1 (memory, cpu, freezer, pids)" or "cgroup v2 (memory, cpu,
// pids)". With pids, an environment holds at most 1,024 processes and
// threads (maxProcesses, Lambda's quota).
//   - Joining: the runtime never runs outside its cgroup. cgroup v2 clones
//     it into the cgroup (CLONE_INTO_CGROUP). cgroup v1 has no such clone,
//     but places threads, and a child starts in the cgroups of the thread
//     that forks it: a locked side thread (never the main one, whose cgroup
//     v1 charges albedo's memory to) writes "0" to the environment's tasks
//     files, forks and execs the runtime, and moves back. A re-exec of
//     albedo that joins and then execs the bootstrap was measured at
//     3.5-4 ms (albedo's own start), too slow for a cold start.
//   - Killing: cgroup.kill on v2 (Linux 5.14); on v1 every task gets
//     SIGKILL, the cgroup frozen first when it holds more than the runtime
//     (so that the tree cannot fork meanwhile), and kills repeat until the
//     cgroup is empty. Then it is removed (rmdir per hierarchy; containerd's
//     Delete when that fails, e.g. for cgroups the function made inside).
//   - Memory: MemorySize is the cgroup's limit with swap excluded
//     (memory.memsw.limit_in_bytes equal to it on v1 when swap accounting
//     exists, memory.swap.max 0 on v2). Max Memory Used is the cgroup's
//     peak since the environment started (memory.max_usage_in_bytes,
//     memory.peak; a kept-open file re-read with pread at the end of each
//     invocation, instead of the statm read of process groups): it counts
//     the runtime's children, page cache charged to the environment, and
//     spikes shorter than any sampling.
//   - CPU: Function.CPUModel "aws" sets the CFS quota to MemorySize/1,769 of
//     one CPU per 100 ms period, capped at 6 CPUs (Lambda: 1,769 MB is one
//     vCPU): 128 MB gets 7.2 ms per 100 ms, about 7 % of a core, and a
//     CPU-bound function runs about as slowly as on Lambda at that size.
//     "host" sets no quota. Go (1.25+) functions size GOMAXPROCS from the
//     quota, v1 as v2, but never below 2: on a 2-core machine every size
//     keeps 2. The cpu controller is used only when a function has CPUModel
//     aws, and on v1 only by such functions' environments: a cgroup in the
//     cpu hierarchy is scheduled as one entity, which would change how the
//     host's CPU is shared among environments, albedo and the machine's
//     other tasks; the others stay in albedo's cpu cgroup, as before. The
//     environments with a quota do compete as that one entity (the parent
//     keeps the default weight; CFS spreads a group's weight over its
//     runnable load, so raising it per environment let one busy function
//     outweigh albedo 64 to 1): they take whatever albedo leaves, but
//     against other busy processes they weigh as one.
//   - Leftovers: New first ends what a previous Pool of the same CgroupName
//     left (its albedo was killed): it SIGKILLs every process still in
//     those cgroups, removes them and logs, at Warn, cgroups=N
//     processes_ended=M. cmd/albedo derives the name from the absolute
//     state_dir, whose lock it holds before New runs.
//   - cgroup v2 needs the memory and cpu controllers enabled below albedo's
//     cgroup; when that cgroup holds processes the kernel refuses, unless
//     albedo is alone in it (systemd-run --scope -p Delegate=yes, a
//     container): albedo then moves itself into a leaf "<CgroupName>-albedo"
//     beside the parent, as systemd asks of delegated units.
//
// Without cgroups (CgroupName "", not Linux, or no writable cgroup; the
// reason is in Pool.Isolation), an environment is the process groups of
// what started in it, and on Linux albedo is a child subreaper
// (PR_SET_CHILD_SUBREAPER), so a function's orphan becomes albedo's child.
// A kill SIGKILLs the groups, every descendant of their processes, and
// albedo's adopted children whose environment holds the environment's
// AWS_LAMBDA_RUNTIME_API (read from the children files of /proc, or every
// /proc/<pid>/stat where the kernel has none; again after the runtime is
// reaped, and the adopted ones are reaped). An orphan that rewrote its environment is
// not found, and a setsid'd orphan that exits before its environment ends
// stays a zombie until albedo exits. Memory is then sampled: the peak RSS
// of the runtime alone (VmHWM of /proc/<pid>/status, kept open and re-read
// with pread) every 100 ms and at the end of every invocation whose
// resident set (/proc/<pid>/statm) is above the last peak read; above
// MemorySize albedo kills the sandbox. CPUModel "aws" is not honoured (New
// logs a warning; `albedo validate` warns too, from CPUQuotaSupport).
//
// # Platforms
//
// Linux is the reference platform (CI runs there): cgroups, Pdeathsig,
// the child subreaper, /proc memory readings (platform_linux.go). On macOS
// and the other Unix systems (platform_unix.go), for developers' laptops,
// functions run the same way in process groups, except that a SIGKILLed
// albedo cannot take its function processes with it (they exit when the
// Runtime API connection fails), a child that left its group survives its
// environment, Max Memory Used reads 0 and memory is not enforced. Windows is not supported
// (process groups and signals).
//
// # Performance
//
// A warm invocation costs albedo two loopback writes (the /next answer and
// the 202), the reads of the runtime's two requests, a FIONREAD ioctl, a
// statm read and three log lines; most of its CPU is the kernel's and the
// Go scheduler's (waking threads around every hand-off), not albedo's own
// code. The Runtime API server of this package replaced net/http because,
// measured old against new, it cut albedo's CPU and allocations per
// invocation and the sequential latency. Throughput at high concurrency is
// bounded by the functions' own CPU (64 Go runtimes sharing the cores),
// not by albedo's. The benchmarks are BenchmarkInvokeWarm,
// BenchmarkRuntimeAPIHop and BenchmarkRuntimeAPIHopRaw
// (pool_timing_test.go); measured figures, with their commands and
// machine, are in the README's Performance section.
//
// A cgroup costs a cold start about half a millisecond (create, join,
// release) and a warm invocation nothing measurable (its peak read
// replaces the statm read); the figures are in the README too.
package executor
