package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"

	"gopkg.in/yaml.v3"
)

// Load reads the file at path and returns its configuration, defaults
// applied and validated. A configuration problem is returned as Errors (all
// of them, sorted by position, each matching ErrInvalid); an I/O problem is
// returned wrapped as is.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(data, path)
}

// Parse decodes, defaults and validates one albedo.yaml document. file is
// used in error messages as given and its directory resolves relative paths
// in the document; "" means the current directory (and messages carry no
// file name). Unknown keys, wrong types and every validation failure are
// reported together as Errors.
func Parse(data []byte, file string) (*Config, error) {
	dir, abs := ".", ""
	if file != "" {
		a, err := filepath.Abs(file)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		abs, dir = a, filepath.Dir(a)
	} else {
		wd, err := os.Getwd()
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		dir = wd
	}
	d := newDecoder(file)
	root, err := parseYAML(data)
	if err != nil {
		e := syntaxError(data, err)
		e.File = file
		return nil, Errors{e}
	}
	cfg := &Config{File: abs}
	if root != nil {
		d.value(root, reflect.ValueOf(cfg).Elem(), "")
	}
	if d.nodes > maxNodes {
		d.errs.sort()
		return nil, d.errs
	}
	applyDefaults(cfg, d, dir)
	v := &validator{cfg: cfg, d: d, dir: dir}
	v.validate()
	if len(d.errs) > 0 {
		d.errs.sort()
		return nil, d.errs
	}
	resolvePaths(cfg, dir)
	cfg.written = &positions{file: file, pos: d.pos}
	d.warns.sort()
	cfg.Warnings = d.warns
	return cfg, nil
}

// parseYAML returns the root node of the single document in data (nil for an
// empty document). yaml.v3 is third-party code fed with arbitrary input, so a
// panic inside it is turned into an error instead of taking albedo down.
func parseYAML(data []byte) (root *yaml.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: %v", r)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, err
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, err
		}
		// The second document's start: its "---", or its first node.
		return nil, &Error{Line: extra.Line, Column: extra.Column, Msg: "invalid YAML: more than one YAML document (only one is allowed)"}
	}
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			return nil, nil
		}
		return doc.Content[0], nil
	}
	return &doc, nil
}
