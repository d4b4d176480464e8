package main

import (
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/albedo-lb/albedo/config"
	"github.com/albedo-lb/albedo/internal/watch"
)

// configTarget names the config file among the watch targets; a
// function's is functionTarget + its name.
const (
	configTarget   = "config"
	functionTarget = "function:"
)

// newWatcher is `serve -watch`'s watcher: file events where they arrive,
// polling where they do not or with -watch-poll.
func newWatcher(log *slog.Logger, poll bool) *watch.Watcher {
	return watch.New(watch.Options{Poll: poll, Logger: log})
}

// watchTargets are what `serve -watch` watches for cfg: the config file
// (./albedo.yaml when serving the embedded default, so that creating it is
// seen), and every local function's code directory and layers. A built
// function's handler file (bootstrap) is its build's output, never a
// change; the watcher also holds the code directory while a build runs.
func watchTargets(file string, cfg *config.Config) []watch.Target {
	cfgFile := cfg.File
	if cfgFile == "" {
		cfgFile = file
	}
	if cfgFile == "" {
		cfgFile = defaultConfigFile
	}
	if abs, err := filepath.Abs(cfgFile); err == nil {
		cfgFile = abs
	}
	targets := []watch.Target{{Name: configTarget, Files: []string{cfgFile}}}
	for _, f := range cfg.Functions {
		if f.Remote() || f.Code == "" {
			continue
		}
		t := watch.Target{Name: functionTarget + f.Name, Trees: append([]string{f.Code}, f.Layers...)}
		if len(f.Build) > 0 && strings.HasPrefix(f.Runtime, "provided") {
			handler := f.Handler
			if handler == "" {
				handler = "bootstrap"
			}
			out := filepath.Join(f.Code, handler)
			t.Ignore = func(p string) bool { return p == out }
		}
		targets = append(targets, t)
	}
	return targets
}
