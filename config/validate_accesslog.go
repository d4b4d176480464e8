package config

import (
	"os"
	"path/filepath"
)

// accessLog checks access_log: a path is required, and unless it is "-"
// (standard output) its directory must exist and the path must not be a
// directory; the file itself is created at start.
func (v *validator) accessLog() {
	a := v.cfg.AccessLog
	if a == nil {
		return
	}
	switch {
	case a.Path == "":
		v.errorf("access_log.path", `required: the file to append access-log lines to, or "-" for standard output`)
	case a.Path == "-":
	default:
		p := resolvePath(v.dir, a.Path)
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			v.errorf("access_log.path", "%q is a directory: name a file in it", a.Path)
		} else if fi, err := os.Stat(filepath.Dir(p)); err != nil || !fi.IsDir() {
			v.errorf("access_log.path", "directory %q does not exist: create it, or name a file in an existing directory", filepath.Dir(a.Path))
		}
	}
}
