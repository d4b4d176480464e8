package config

import (
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// maxNodes bounds the YAML nodes the decoder visits, counting every alias
// expansion again, so that a small document built from nested aliases
// ("billion laughs") cannot make decoding explode.
const maxNodes = 200000

// position is where a field's value was written.
type position struct {
	line, col int
	null      bool // written as null / "~" / nothing: treated as unset
}

// decoder walks a yaml.Node tree into the schema structs by reflection. Unlike
// yaml.v3's KnownFields it reports every unknown key and every type mismatch
// with its line and column, and it records the position of every field so
// that validation can point at the value it complains about.
type decoder struct {
	file  string
	pos   map[string]position // field path -> where it was written
	bad   map[string]bool     // paths that failed to decode: skip in validation
	errs  Errors
	warns Errors
	nodes int
}

func newDecoder(file string) *decoder {
	return &decoder{file: file, pos: map[string]position{}, bad: map[string]bool{}}
}

func (d *decoder) errorAt(n *yaml.Node, path, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.file, Line: n.Line, Column: n.Column, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// fail records a decode error for path and marks the path bad so validation
// does not report a second, derived problem for the same field.
func (d *decoder) fail(n *yaml.Node, path, format string, args ...any) {
	d.errorAt(n, path, format, args...)
	d.bad[path] = true
}

// isSet reports whether path was written in the file with a non-null value.
func (d *decoder) isSet(path string) bool {
	p, ok := d.pos[path]
	return ok && !p.null
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func indexPath(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

var durationType = reflect.TypeFor[Duration]()

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return strconv.Quote(n.Value)
	}
	return "nothing"
}

// value decodes n into v. path is v's field path.
func (d *decoder) value(n *yaml.Node, v reflect.Value, path string) {
	n, ok := d.enter(n, path)
	if !ok {
		return
	}
	if v.Type() == durationType {
		d.duration(n, v, path)
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.value(n, v.Elem(), path)
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			d.fail(n, path, "expected a mapping, got %s", kindName(n))
			return
		}
		d.mapping(n, v, path, map[string]*yaml.Node{})
	case reflect.Slice:
		d.list(n, v, path)
	case reflect.Map:
		d.stringMap(n, v, path)
	default:
		d.scalar(n, v, path)
	}
}

// enter resolves n's aliases, counts the nodes visited against maxNodes
// and records where path was written. It returns the node to decode, and
// false when there is nothing to decode: a null value (unset), or a
// document over the node limit (reported once).
func (d *decoder) enter(n *yaml.Node, path string) (*yaml.Node, bool) {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		d.nodes++
		n = n.Alias
	}
	d.nodes++
	if d.nodes > maxNodes {
		if d.nodes == maxNodes+1 {
			d.fail(n, path, "document too large: more than %d nodes after expanding aliases", maxNodes)
		}
		return n, false
	}
	null := n.Kind == yaml.ScalarNode && n.Tag == "!!null"
	if n.Kind == yaml.AliasNode { // unresolvable alias
		null = true
	}
	if _, seen := d.pos[path]; !seen || path == "" {
		d.pos[path] = position{line: n.Line, col: n.Column, null: null}
	}
	return n, !null
}

// duration decodes a Duration, written as a Go duration string.
func (d *decoder) duration(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		d.fail(n, path, "expected a duration string such as \"90s\" or \"5m\", got %s", kindName(n))
		return
	}
	dur, err := time.ParseDuration(n.Value)
	if err != nil {
		d.fail(n, path, "invalid duration %q: want a Go duration such as \"90s\" or \"5m\"", n.Value)
		return
	}
	v.Set(reflect.ValueOf(Duration{dur}))
}

// list decodes a YAML sequence into the slice v.
func (d *decoder) list(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		d.fail(n, path, "expected a list, got %s", kindName(n))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, c := range n.Content {
		d.value(c, s.Index(i), indexPath(path, i))
	}
	v.Set(s)
}

// stringMap decodes a YAML mapping into the map v, whose keys are strings;
// a duplicate key is an error, not a silent overwrite.
func (d *decoder) stringMap(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "expected a mapping, got %s", kindName(n))
		return
	}
	m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := resolve(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.fail(k, path, "keys must be strings, got %s", kindName(k))
			continue
		}
		kp := joinPath(path, k.Value)
		if prev, dup := seen[k.Value]; dup {
			d.fail(k, kp, "duplicate key (first written at line %d)", prev.Line)
			continue
		}
		seen[k.Value] = k
		ev := reflect.New(v.Type().Elem()).Elem()
		d.value(val, ev, kp)
		m.SetMapIndex(reflect.ValueOf(k.Value), ev)
	}
	v.Set(m)
}

// scalar decodes a string, bool, int or float64 field; each takes only
// the YAML scalars of its own type (no "yes" for true, no 1.5 for an int).
func (d *decoder) scalar(n *yaml.Node, v reflect.Value, path string) {
	switch v.Kind() {
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			d.fail(n, path, "expected a string, got %s", kindName(n))
			return
		}
		v.SetString(n.Value)
	case reflect.Bool:
		var b bool
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || n.Decode(&b) != nil {
			d.fail(n, path, "expected true or false, got %s", kindName(n))
			return
		}
		v.SetBool(b)
	case reflect.Int:
		var i int64
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || n.Decode(&i) != nil || i > math.MaxInt32 || i < math.MinInt32 {
			d.fail(n, path, "expected an integer, got %s", kindName(n))
			return
		}
		v.SetInt(i)
	case reflect.Float64:
		var f float64
		if n.Kind != yaml.ScalarNode || (n.Tag != "!!float" && n.Tag != "!!int") || n.Decode(&f) != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			d.fail(n, path, "expected a number, got %s", kindName(n))
			return
		}
		v.SetFloat(f)
	default:
		// Programmer error: a schema field of a kind the decoder does not know.
		panic(fmt.Sprintf("config: cannot decode into %s", v.Type()))
	}
}

func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// mapping decodes the key/value pairs of n into the struct v. seen holds the
// keys already set at this level (shared with merged "<<" mappings).
func (d *decoder) mapping(n *yaml.Node, v reflect.Value, path string, seen map[string]*yaml.Node) {
	fields := fieldsOf(v.Type())
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := resolve(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.fail(k, path, "keys must be strings, got %s", kindName(k))
			continue
		}
		if k.Tag == "!!merge" {
			merges = append(merges, val)
			continue
		}
		if path == "" && strings.HasPrefix(k.Value, "x-") {
			continue // extension key: a place for anchors, ignored
		}
		kp := joinPath(path, k.Value)
		idx, ok := fields[k.Value]
		if !ok {
			d.fail(k, kp, "unknown field (known: %s)", knownFields(fields))
			continue
		}
		if prev, dup := seen[k.Value]; dup {
			d.fail(k, kp, "duplicate key (first written at line %d)", prev.Line)
			continue
		}
		seen[k.Value] = k
		d.value(val, v.Field(idx), kp)
	}
	// Merge keys ("<<: *base") fill in only the fields not written above, as
	// in YAML's merge-key type.
	for _, m := range merges {
		m = resolve(m)
		var list []*yaml.Node
		switch m.Kind {
		case yaml.MappingNode:
			list = []*yaml.Node{m}
		case yaml.SequenceNode:
			list = m.Content
		}
		if len(list) == 0 {
			d.fail(m, path, "merge key \"<<\" needs a mapping or a list of mappings")
			continue
		}
		for _, item := range list {
			item = resolve(item)
			if item.Kind != yaml.MappingNode {
				d.fail(item, path, "merge key \"<<\" needs a mapping or a list of mappings")
				continue
			}
			d.nodes++
			if d.nodes > maxNodes {
				return
			}
			d.mergeInto(item, v, path, seen, fields)
		}
	}
}

func (d *decoder) mergeInto(n *yaml.Node, v reflect.Value, path string, seen map[string]*yaml.Node, fields map[string]int) {
	sub := &yaml.Node{Kind: yaml.MappingNode, Line: n.Line, Column: n.Column}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := resolve(n.Content[i])
		if k.Kind == yaml.ScalarNode && k.Tag != "!!merge" {
			if _, dup := seen[k.Value]; dup {
				continue // the including mapping wins
			}
		}
		sub.Content = append(sub.Content, n.Content[i], n.Content[i+1])
	}
	d.mapping(sub, v, path, seen)
}

// fieldsOf maps yaml keys to struct field indexes.
func fieldsOf(t reflect.Type) map[string]int {
	m := make(map[string]int, t.NumField())
	for i := range t.NumField() {
		tag := t.Field(i).Tag.Get("yaml")
		name, _, _ := strings.Cut(tag, ",")
		if name == "" || name == "-" {
			continue
		}
		m[name] = i
	}
	return m
}

func knownFields(fields map[string]int) string {
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
