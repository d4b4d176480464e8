package watch

import (
	"path/filepath"
	"strings"
)

// ignoredDir reports a directory whose contents are never code.
func ignoredDir(name string) bool {
	return name == ".git" || name == "__pycache__"
}

// ignoredName reports a file name that is never code: compiled Python,
// editors' swap, backup, lock and probe files.
func ignoredName(name string) bool {
	switch {
	case name == "4913", name == ".DS_Store":
		return true
	case strings.HasSuffix(name, "~"), strings.HasPrefix(name, ".#"):
		return true
	case len(name) > 1 && name[0] == '#' && name[len(name)-1] == '#':
		return true
	case strings.HasSuffix(name, "___jb_tmp___"), strings.HasSuffix(name, "___jb_old___"):
		return true
	}
	switch filepath.Ext(name) {
	case ".pyc", ".swp", ".swo", ".swx":
		return true
	}
	return false
}

// ignoredBelow reports whether p, below the tree root, is ignored: its
// name, or a directory between the root and it.
func ignoredBelow(p, root string) bool {
	rel, err := filepath.Rel(root, p)
	if err != nil || rel == "." {
		return false
	}
	parts := strings.Split(rel, string(filepath.Separator))
	for _, d := range parts[:len(parts)-1] {
		if ignoredDir(d) {
			return true
		}
	}
	last := parts[len(parts)-1]
	return ignoredDir(last) || ignoredName(last)
}
