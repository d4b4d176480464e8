package executor

import "path/filepath"

// pythonSysPathVar passes the search path (task root, then the layers'
// directories) to albedo's Python client, which puts it in front of
// sys.path and deletes the variable before any user code runs. Lambda
// has no such variable: its directories are fixed (/var/task, /opt/...).
const pythonSysPathVar = "_ALBEDO_PYTHON_PATH"

// pythonLaunch is how a python3.N environment starts, as Lambda's Python
// bootstrap starts it: the interpreter exe running albedo's client
// (clients/python/bootstrap.py). vars are the platform variables it adds.
func pythonLaunch(f *Function, spec runtimeSpec, exe, clients string) (argv []string, vars map[string]string) {
	argv = []string{exe, filepath.Join(clients, filepath.FromSlash(pythonClient))}
	vars = map[string]string{
		"AWS_EXECUTION_ENV":  "AWS_Lambda_" + f.Runtime,
		"LAMBDA_RUNTIME_DIR": filepath.Join(clients, "python"),
		pythonSysPathVar:     joinList(pythonPath(f.Code, f.Layers, spec.minor)...),
	}
	return argv, vars
}

// execWrapper prefixes argv with Lambda's AWS_LAMBDA_EXEC_WRAPPER logic
// (clients/exec-wrapper.sh) when the function's environment sets it: the
// wrapper must exist (else exit 127) and be executable (else 126), and
// runs with the interpreter's command line as its arguments. Only the
// managed runtimes honour it, as on Lambda.
func execWrapper(argv []string, env map[string]string, clients string) []string {
	if env["AWS_LAMBDA_EXEC_WRAPPER"] == "" {
		return argv
	}
	return append([]string{"/bin/sh", filepath.Join(clients, wrapperScript)}, argv...)
}
