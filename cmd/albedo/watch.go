package main

import (
	"log/slog"
	"path/filepath"
	"slices"
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
// albedo's own files are no function's code, wherever they are (a
// function with code: . next to albedo.yaml): the config file, the state
// directory (written on every async event) and accessLog (on every
// request).
func watchTargets(file string, cfg *config.Config, accessLog string) []watch.Target {
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
	own := []string{cfgFile, cfg.StateDir}
	if accessLog != "" && accessLog != "-" {
		if abs, err := filepath.Abs(accessLog); err == nil {
			own = append(own, abs)
		}
	}
	for _, f := range cfg.Functions {
		if f.Remote() || f.Code == "" {
			continue
		}
		ignore := slices.Clone(own)
		if len(f.Build) > 0 && strings.HasPrefix(f.Runtime, "provided") {
			handler := f.Handler
			if handler == "" {
				handler = "bootstrap"
			}
			ignore = append(ignore, filepath.Join(f.Code, handler))
		}
		targets = append(targets, watch.Target{
			Name:  functionTarget + f.Name,
			Trees: append([]string{f.Code}, f.Layers...),
			Ignore: func(p string) bool {
				return slices.ContainsFunc(ignore, func(x string) bool {
					return p == x || strings.HasPrefix(p, x+string(filepath.Separator))
				})
			},
		})
	}
	return targets
}
