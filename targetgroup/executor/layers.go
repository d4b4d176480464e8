package executor

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Lambda extracts a function's layers, in order, into /opt, a later layer
// overwriting an earlier one's files; the runtimes then look in fixed
// directories of /opt. albedo does not create /opt (it would need root and
// would be shared by every function): each layer stays in its own
// directory, and every search path lists the layers' directories of one
// kind latest layer first, which finds what the merged /opt would hold.
//
//	/opt/nodejs/nodeN/node_modules, /opt/nodejs/node_modules  NODE_PATH (Node.js)
//	/opt/python/lib/python3.N/site-packages, /opt/python      sys.path after the task root (Python)
//	/opt/bin                                                  end of PATH
//	/opt/lib                                                  end of LD_LIBRARY_PATH
//	/opt/extensions/*                                         external extensions (extensions.go)

// layerDirs joins sub to every layer, latest layer first.
func layerDirs(layers []string, sub ...string) []string {
	out := make([]string, 0, len(layers))
	for _, l := range slices.Backward(layers) {
		out = append(out, filepath.Join(append([]string{l}, sub...)...))
	}
	return out
}

// joinList joins non-empty path list entries with the OS's separator.
func joinList(parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		if p == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(os.PathListSeparator)
		}
		b.WriteString(p)
	}
	return b.String()
}

// layerPath is PATH with the layers' bin directories at its end, as
// /opt/bin ends Lambda's PATH.
func layerPath(hostPath string, layers []string) string {
	return joinList(append([]string{hostPath}, layerDirs(layers, "bin")...)...)
}

// libraryPath is LD_LIBRARY_PATH: albedo's own (the interpreter's
// libraries, as /var/lang/lib leads Lambda's), then the task root and its
// lib directory, then the layers' lib directories, in Lambda's order.
func libraryPath(hostLibs, taskRoot string, layers []string) string {
	parts := []string{hostLibs, taskRoot, filepath.Join(taskRoot, "lib")}
	return joinList(append(parts, layerDirs(layers, "lib")...)...)
}

// nodePath is the NODE_PATH Lambda's Node.js bootstrap sets:
// nodejs/nodeN/node_modules of every layer, then nodejs/node_modules,
// then the task root (the runtime's own node_modules, which holds the AWS
// SDK on Lambda, has no counterpart here).
func nodePath(taskRoot string, layers []string, major int) string {
	parts := layerDirs(layers, "nodejs", "node"+strconv.Itoa(major), "node_modules")
	parts = append(parts, layerDirs(layers, "nodejs", "node_modules")...)
	return joinList(append(parts, taskRoot)...)
}

// pythonPath is what Lambda's Python runtime puts before the interpreter's
// own sys.path: the task root, then python/lib/python3.N/site-packages of
// every layer, then python.
func pythonPath(taskRoot string, layers []string, minor int) []string {
	parts := []string{taskRoot}
	parts = append(parts, layerDirs(layers, "python", "lib", "python3."+strconv.Itoa(minor), "site-packages")...)
	return append(parts, layerDirs(layers, "python")...)
}

// extensionFile is one file of a layer's extensions directory.
type extensionFile struct {
	name string // file name: the name it must register with
	path string
}

// layerExtensions lists the external extensions of layers: every regular
// file in a layer's extensions directory (a file that is not executable
// fails to launch, as on Lambda; dot files, which a developer's machine
// leaves around, are skipped), a later layer's file replacing an earlier
// one's of the same name, sorted by name. It is read at every environment
// start, so that a layer edited while albedo runs is seen by the next cold
// start.
func layerExtensions(layers []string) []extensionFile {
	byName := map[string]string{}
	for _, l := range layers {
		dir := filepath.Join(l, "extensions")
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, de := range entries {
			if strings.HasPrefix(de.Name(), ".") {
				continue
			}
			p := filepath.Join(dir, de.Name())
			st, err := os.Stat(p) // follows symbolic links
			if err != nil || !st.Mode().IsRegular() {
				continue
			}
			byName[de.Name()] = p
		}
	}
	out := make([]extensionFile, 0, len(byName))
	for name, p := range byName {
		out = append(out, extensionFile{name: name, path: p})
	}
	slices.SortFunc(out, func(a, b extensionFile) int { return strings.Compare(a.name, b.name) })
	return out
}
