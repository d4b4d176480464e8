package async

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// SetConfigs replaces the config file's settings (Options.Configs) when
// the file is reloaded, applying the rule Open applies at a restart: an
// API change (PutConfig, DeleteConfig) of a function stays while the file
// says the same for that function as when the change was made, and is
// dropped (deleted from queue.db) once the file says something else, the
// function left the file, or the file no longer names a file://
// destination the change sends to (dropOverride). Queued events of every function keep
// waiting; the new settings apply from their next attempt.
func (q *Queue) SetConfigs(configs map[string]Config) error {
	for name, c := range configs {
		if err := c.Validate(); err != nil {
			return fmt.Errorf("async: function %s: %w", name, err)
		}
	}
	if q.closed.Load() {
		return ErrClosed
	}
	q.cfgMu.Lock()
	defer q.cfgMu.Unlock()
	var stale []string
	for name, o := range q.over {
		if q.dropOverride(o, name, configs) {
			stale = append(stale, name)
		}
	}
	if len(stale) > 0 {
		err := q.w.write(func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketConfigs)
			for _, name := range stale {
				if err := b.Delete([]byte(name)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("async: set configs: %w", err)
		}
		for _, name := range stale {
			delete(q.over, name)
		}
	}
	q.file = configs
	return nil
}
