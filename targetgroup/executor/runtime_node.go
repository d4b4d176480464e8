package executor

import (
	"path/filepath"
	"strconv"
	"strings"
)

// nodeLaunch is how a nodejsN.x environment starts, as Lambda's Node.js
// bootstrap starts it: the interpreter exe with Lambda's flags and heap
// limits, running albedo's client (clients/node) from the installed
// clients directory. vars are the platform variables it adds.
//
// Heap limits follow the bootstrap of Lambda's nodejs18.x-22.x runtimes,
// from memory_size M in MB (integer division): new space N = M/10,
// --max-semi-space-size=N/2 and --max-old-space-size=M-N (90 % of M;
// 115 MB of 128). Like the bootstrap, albedo sets neither when the
// function's NODE_OPTIONS already names one of them.
func nodeLaunch(f *Function, spec runtimeSpec, exe, clients string) (argv []string, vars map[string]string) {
	argv = []string{exe, "--expose-gc", "--max-http-header-size", "81920"}
	argv = append(argv, nodeHeapArgs(f.MemorySize, f.Environment["NODE_OPTIONS"])...)
	argv = append(argv, filepath.Join(clients, filepath.FromSlash(nodeClient)))
	vars = map[string]string{
		"AWS_EXECUTION_ENV":  "AWS_Lambda_" + f.Runtime,
		"LAMBDA_RUNTIME_DIR": filepath.Join(clients, "node"),
		"NODE_PATH":          nodePath(f.Code, f.Layers, spec.major),
	}
	return argv, vars
}

// nodeHeapArgs are the V8 heap flags for memory size mb, none when
// nodeOptions sets a heap size itself (V8 accepts '_' and '-').
func nodeHeapArgs(mb int, nodeOptions string) []string {
	for _, flag := range []string{"max-semi-space-size", "max-old-space-size"} {
		if strings.Contains(nodeOptions, flag) || strings.Contains(nodeOptions, strings.ReplaceAll(flag, "-", "_")) {
			return nil
		}
	}
	newSpace := mb / 10
	return []string{
		"--max-semi-space-size=" + strconv.Itoa(newSpace/2),
		"--max-old-space-size=" + strconv.Itoa(mb-newSpace),
	}
}
