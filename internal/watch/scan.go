package watch

import (
	"os"
	"path/filepath"
	"time"
)

// fileState is what polling compares.
type fileState struct {
	size  int64
	mtime time.Time
	mode  os.FileMode
}

// scan returns the state of dir's entries, and with recursive of
// everything below it except ignored directories; symbolic links are not
// followed. An unreadable or missing dir gives what could be read.
func scan(dir string, recursive bool) map[string]fileState {
	out := map[string]fileState{}
	if !recursive {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if fi, err := e.Info(); err == nil {
				out[filepath.Join(dir, e.Name())] = fileState{fi.Size(), fi.ModTime(), fi.Mode()}
			}
		}
		return out
	}
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && p != dir && ignoredDir(d.Name()) {
			return filepath.SkipDir
		}
		if p == dir {
			return nil
		}
		if fi, err := d.Info(); err == nil {
			st := fileState{fi.Size(), fi.ModTime(), fi.Mode()}
			if d.IsDir() {
				st.size, st.mtime = 0, time.Time{} // a directory changes with its entries, which are listed
			}
			out[p] = st
		}
		return nil
	})
	return out
}
