package executor

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
)

// clientFiles are albedo's own runtime clients for the managed runtimes,
// in plain JavaScript and plain Python (standard library only): they speak
// the Runtime API of each environment, as AWS's runtime interface clients
// do, without their native builds. exec-wrapper.sh is Lambda's
// AWS_LAMBDA_EXEC_WRAPPER logic.
//
//go:embed clients
var clientFiles embed.FS

// Paths of the clients inside the installed directory.
const (
	nodeClient    = "node/bootstrap.cjs"
	pythonClient  = "python/bootstrap.py"
	wrapperScript = "exec-wrapper.sh"
)

// clientsVersion names the installed copy: a hash of every embedded file,
// so that each albedo build writes its clients once and builds never
// share a stale copy (development builds all call themselves "dev").
var clientsVersion = func() string {
	h := sha256.New()
	fs.WalkDir(clientFiles, "clients", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := clientFiles.ReadFile(p)
		fmt.Fprintf(h, "%s %d\n", p, len(b))
		h.Write(b)
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:16]
}()

// installClients writes the embedded clients to dir/clients-<hash>/ and
// returns that directory. A file already there with the right content is
// left alone; anything else (missing, truncated, edited) is rewritten
// through a temporary file and a rename, so that concurrent albedo
// processes never see half a file.
func installClients(dir string) (string, error) {
	if !filepath.IsAbs(dir) {
		return "", fmt.Errorf("executor: runtime directory must be absolute, got %q", dir)
	}
	root := filepath.Join(dir, "clients-"+clientsVersion)
	err := fs.WalkDir(clientFiles, "clients", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("clients", filepath.FromSlash(p))
		target := filepath.Join(root, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		want, err := clientFiles.ReadFile(p)
		if err != nil {
			return err
		}
		if have, err := os.ReadFile(target); err == nil && bytes.Equal(have, want) {
			return nil
		}
		mode := os.FileMode(0o644)
		if path.Ext(p) == ".sh" {
			mode = 0o755
		}
		tmp, err := os.CreateTemp(filepath.Dir(target), ".tmp-*")
		if err != nil {
			return err
		}
		_, werr := tmp.Write(want)
		cerr := tmp.Close()
		if werr == nil {
			werr = cerr
		}
		if werr == nil {
			werr = os.Chmod(tmp.Name(), mode)
		}
		if werr == nil {
			werr = os.Rename(tmp.Name(), target)
		}
		if werr != nil {
			os.Remove(tmp.Name())
		}
		return werr
	})
	if err != nil {
		return "", fmt.Errorf("executor: install runtime clients in %s: %w", dir, err)
	}
	return root, nil
}
