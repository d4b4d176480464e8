package executor

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"os/exec"
	"strings"
)

// CgroupNameFor is the Options.CgroupName of the albedo whose state_dir is
// dir (an absolute path): "albedo-" and 12 hex digits of its SHA-256, the
// same across restarts, so that a restarted albedo finds what a killed one
// left, and different for every state_dir.
func CgroupNameFor(dir string) string {
	sum := sha256.Sum256([]byte(dir))
	return "albedo-" + hex.EncodeToString(sum[:6])
}

// checkCgroupName rejects a cgroup name that is not a single path
// element: it is joined into the paths of cgroups albedo creates and
// removes.
func checkCgroupName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
		return fmt.Errorf("executor: cgroup name %q is not a single path element", name)
	}
	return nil
}

// sandbox holds every process of one execution environment: the runtime,
// whatever it starts (setsid'd daemons included) and, once they exist, its
// extensions. Lambda resets an environment as a whole; so does kill.
//
// Two implementations: a cgroup per environment (cgroup_linux.go), or,
// without cgroup access, process groups plus a child subreaper
// (procgroup.go, orphans_linux.go).
type sandbox interface {
	// start starts cmd inside the sandbox: cmd and everything it starts
	// belong to the sandbox before cmd runs a single instruction of its
	// own. It may be called more than once (extensions).
	start(cmd *exec.Cmd) error
	// kill SIGKILLs every process in the sandbox. It does not wait.
	kill()
	// release kills whatever is still in the sandbox, waits (bounded) until
	// it is gone, reaps what albedo adopted, and deletes the sandbox. It is
	// called once, after the runtime process was reaped.
	release() error
	// peakKB is the sandbox's peak memory use since it was created, in kB,
	// or -1 when the sandbox does not measure memory.
	peakKB() int64
	// outOfMemory reports whether the kernel killed a process of the
	// sandbox because it reached its memory limit.
	outOfMemory() bool
}

// isolation creates the sandboxes of a Pool.
type isolation interface {
	// newSandbox prepares the sandbox of environment id of fn (nothing
	// runs in it yet).
	newSandbox(id string, fn *function) (sandbox, error)
	// limitsMemory is true when the kernel enforces MemorySize and
	// sandboxes measure their peak; otherwise the Pool samples each
	// runtime's peak RSS and kills it above MemorySize.
	limitsMemory() bool
	// limitsCPU is true when cpu_model "aws" is honoured.
	limitsCPU() bool
	// String describes the isolation for the start-up line, e.g.
	// "cgroup v1 (memory, cpu, freezer, pids)".
	String() string
	// close removes what the isolation created; every sandbox is released.
	close() error
}

// CPU models of Function.CPUModel.
const (
	// CPUModelHost gives every environment as much CPU as the host has.
	CPUModelHost = "host"
	// CPUModelAWS gives an environment memory_size/1,769 of one CPU, as
	// Lambda does (1,769 MB = one vCPU), capped at 6 CPUs.
	CPUModelAWS = "aws"
)

// awsMBPerCPU is the memory size that Lambda gives one full vCPU.
const awsMBPerCPU = 1769

// maxAWSCPUs caps the CPU share (Lambda's largest size has 6 vCPUs).
const maxAWSCPUs = 6

// cpuPeriodUS is the CFS period of a CPU quota: the kernel's default
// (and Docker's for --cpus), 100 ms.
const cpuPeriodUS = 100_000

// minCPUQuotaUS is the smallest quota the kernel accepts.
const minCPUQuotaUS = 1000

// awsCPUQuotaUS is the CFS quota per cpuPeriodUS for memoryMB under the
// aws CPU model: memoryMB/1,769 of one CPU, capped at 6 CPUs. 128 MB gets
// 7,236 µs per 100 ms, about 7 % of a core.
func awsCPUQuotaUS(memoryMB int) int64 {
	cpus := min(float64(memoryMB)/awsMBPerCPU, maxAWSCPUs)
	return max(int64(math.Round(cpus*cpuPeriodUS)), minCPUQuotaUS)
}

// runtimeAPITag is the AWS_LAMBDA_RUNTIME_API entry of cmd's environment
// ("" if none): every process of an environment inherits it unless it
// rewrites its environment, which makes it the environment's mark.
func runtimeAPITag(cmd *exec.Cmd) string {
	for _, kv := range cmd.Env {
		if strings.HasPrefix(kv, "AWS_LAMBDA_RUNTIME_API=") {
			return kv
		}
	}
	return ""
}
