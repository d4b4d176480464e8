package async

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/albedo-lb/albedo/targetgroup/executor"
)

// override is a configuration change made through the API, stored in the
// configs bucket as JSON. File remembers what albedo.yaml said when the
// change was made: once the file says something else for that function,
// the file wins again and the override is dropped (on Open).
type override struct {
	Deleted bool    `json:"deleted,omitempty"`
	Config  Config  `json:"config"`
	File    *Config `json:"file,omitempty"` // nil: the file had no settings
}

func (q *Queue) loadOverrides(b *bolt.Bucket) error {
	var stale [][]byte
	err := b.ForEach(func(k, v []byte) error {
		var o override
		if err := json.Unmarshal(v, &o); err != nil {
			q.log.Error("dropping unreadable event invoke config", "function", string(k), "err", err)
			stale = append(stale, append([]byte(nil), k...))
			return nil
		}
		name := string(k)
		if q.dropOverride(o, name, q.file) {
			stale = append(stale, append([]byte(nil), k...))
			return nil
		}
		q.over[name] = o
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range stale {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// dropOverride is the one rule, at Open and at every reload
// (SetConfigs), for an API change o of function against the config file's
// settings file: it goes, logged, when the file no longer says for
// function what it said when the change was made (the file wins), or when
// it sends to a file:// destination the API may no longer name (one the
// file stopped naming).
func (q *Queue) dropOverride(o override, function string, file map[string]Config) bool {
	fc, inFile := file[function]
	if inFile != (o.File != nil) || inFile && !sameSettings(fc, *o.File) {
		q.log.Info("config file changed event invoke config; dropping API change", "function", function)
		return true
	}
	if !o.Deleted && (q.apiFileAllowed(o.Config.OnSuccess, file) != nil || q.apiFileAllowed(o.Config.OnFailure, file) != nil) {
		q.log.Warn("dropping event invoke config with a file destination outside the state directory", "function", function)
		return true
	}
	return false
}

// sameSettings compares the settings, not LastModified.
func sameSettings(a, b Config) bool {
	return a.MaximumRetryAttempts == b.MaximumRetryAttempts && a.MaximumEventAge == b.MaximumEventAge &&
		a.OnSuccess == b.OnSuccess && a.OnFailure == b.OnFailure
}

// GetConfig returns function's event invoke config; false when none is set
// (neither in the config file nor through the API).
func (q *Queue) GetConfig(function string) (Config, bool) {
	q.cfgMu.RLock()
	defer q.cfgMu.RUnlock()
	return q.configLocked(function)
}

func (q *Queue) configLocked(function string) (Config, bool) {
	if o, ok := q.over[function]; ok {
		if o.Deleted {
			return Config{}, false
		}
		return o.Config, true
	}
	c, ok := q.file[function]
	return c, ok
}

// effective is the config the dispatcher applies: the set one or
// DefaultConfig().
func (q *Queue) effective(function string) Config {
	if c, ok := q.GetConfig(function); ok {
		return c
	}
	return DefaultConfig()
}

// PutConfig validates c, stamps LastModified, persists it (replacing any
// previous one, as PutFunctionEventInvokeConfig does) and returns it. It
// applies to events of function from their next attempt on.
func (q *Queue) PutConfig(function string, c Config) (Config, error) {
	if _, ok := q.inv.Function(function); !ok {
		return Config{}, fmt.Errorf("async: put config %s: %w", function, executor.ErrFunctionNotFound)
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("async: put config %s: %w", function, err)
	}
	c.LastModified = q.opts.Now().UTC()
	return c, q.storeOverride(function, override{Config: c})
}

// DeleteConfig removes function's event invoke config (the config file's
// too, until the file changes that function); events then use
// DefaultConfig(). It fails with ErrNoConfig when none is set.
func (q *Queue) DeleteConfig(function string) error {
	if _, ok := q.inv.Function(function); !ok {
		return fmt.Errorf("async: delete config %s: %w", function, executor.ErrFunctionNotFound)
	}
	if _, ok := q.GetConfig(function); !ok {
		return fmt.Errorf("async: delete config %s: %w", function, ErrNoConfig)
	}
	return q.storeOverride(function, override{Deleted: true})
}

func (q *Queue) storeOverride(function string, o override) error {
	if q.closed.Load() {
		return ErrClosed
	}
	q.cfgMu.Lock()
	defer q.cfgMu.Unlock()
	if !o.Deleted {
		// Checked against the file's settings under the lock, so that a
		// reload (SetConfigs) cannot change them in between.
		for _, dst := range []string{o.Config.OnSuccess, o.Config.OnFailure} {
			if err := q.apiFileAllowed(dst, q.file); err != nil {
				return fmt.Errorf("async: put config %s: %w", function, err)
			}
		}
	}
	if fc, ok := q.file[function]; ok {
		o.File = &fc
	}
	v, err := json.Marshal(o)
	if err != nil {
		return fmt.Errorf("async: store config %s: %w", function, err)
	}
	err = q.w.write(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketConfigs).Put([]byte(function), v)
	})
	if err != nil {
		return fmt.Errorf("async: store config %s: %w", function, err)
	}
	q.over[function] = o
	return nil
}

// apiFileAllowed checks a destination set through the API. A file://
// destination may only name a file the config file names already, or a
// .jsonl file inside the state directory: the API must not let a client
// append records to any file albedo can write (a shell profile, queue.db).
func (q *Queue) apiFileAllowed(dst string, file map[string]Config) error {
	d, err := parseDestination(dst)
	if err != nil || d.File == "" {
		return err
	}
	if fileNames(file, d.File) {
		return nil
	}
	dir, err := filepath.Abs(q.opts.Dir)
	if err == nil {
		if rel, rerr := filepath.Rel(dir, d.File); rerr == nil && filepath.IsLocal(rel) && strings.HasSuffix(rel, ".jsonl") {
			return nil
		}
	}
	return fmt.Errorf("%w: destination %q: a file:// destination set through the API must be a .jsonl file inside %s or one the config file names",
		ErrInvalidConfig, dst, dir)
}

// fileNames reports whether the config file names path as a file://
// destination.
func fileNames(file map[string]Config, path string) bool {
	for _, c := range file {
		for _, fd := range []string{c.OnSuccess, c.OnFailure} {
			if f, err := parseDestination(fd); err == nil && f.File == path {
				return true
			}
		}
	}
	return false
}
