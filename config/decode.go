package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
)

// decode reads exactly one YAML document into a Config that starts from the
// defaults. It walks the document itself, by the fields' yaml tags, rather
// than relying on the decoder's KnownFields, whose messages name Go types
// ("field x not found in type config.Account") and no key path, and which
// cannot read a duration in Prometheus' notation into a time.Duration nor
// a resource name into a *kinds.Kind. Every message here starts with the
// line and names the key as written: "line 9: accounts[1]: unknown key
// "auth_tokn"".
func decode(data []byte) (Config, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return Config{}, errEmpty
		}
		// Drop the "yaml: " prefix so that a syntax error reads like the
		// other messages ("line 3: did not find expected key").
		return Config{}, errors.New(strings.TrimPrefix(err.Error(), "yaml: "))
	}
	// A second document would be silently ignored otherwise.
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return Config{}, errors.New("the file must hold exactly one document")
	}
	if len(doc.Content) == 0 || isNull(deref(doc.Content[0])) {
		return Config{}, errEmpty
	}
	var c Config
	var d decoder
	if err := d.value(doc.Content[0], reflect.ValueOf(&c).Elem(), ""); err != nil {
		return Config{}, err
	}
	c.Warnings = d.warnings
	return c, nil
}

// decoder walks one document, collecting its warnings.
type decoder struct{ warnings []string }

var errEmpty = errors.New("the file is empty: at least accounts must be set")

var (
	durationType = reflect.TypeFor[time.Duration]()
	kindType     = reflect.TypeFor[*kinds.Kind]()
	accountType  = reflect.TypeFor[Account]()
)

// defaults gives what a struct starts from before its keys are read, for
// each struct whose zero value is not its default.
var defaults = map[reflect.Type]func() any{
	reflect.TypeFor[Config]():      func() any { return Default() },
	reflect.TypeFor[Subaccounts](): func() any { return DefaultSubaccounts() },
}

// value decodes n into v, which path names ("" for the whole file).
// Structs and lists are walked here, so that each key and item has its
// path; a scalar is left to decodeScalar.
func (d *decoder) value(n *yaml.Node, v reflect.Value, path string) error {
	n = deref(n)
	t := v.Type()
	switch {
	case isNull(n):
		// As the YAML decoder does: null empties a list and leaves a
		// scalar at its default.
		if t.Kind() == reflect.Slice {
			v.SetZero()
		}
		return nil
	case t.Kind() == reflect.Pointer && t != kindType:
		// An optional key: set means non-nil, whatever its value.
		v.Set(reflect.New(t.Elem()))
		return d.value(n, v.Elem(), path)
	case t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		if def, ok := defaults[t]; ok {
			v.Set(reflect.ValueOf(def()))
		}
		return d.mapping(n, v, path)
	case t.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode:
		v.Set(reflect.MakeSlice(t, len(n.Content), len(n.Content)))
		for i, item := range n.Content {
			itemPath := fmt.Sprintf("%s[%d]", path, i)
			// The YAML decoder would drop an empty item silently; it is
			// more likely a slip (a "-" left alone) than a wish.
			if isNull(deref(item)) {
				return at(item, itemPath, errors.New("the item is empty"))
			}
			if err := d.value(item, v.Index(i), itemPath); err != nil {
				return err
			}
		}
		return nil
	}
	if err := decodeScalar(n, v); err != nil {
		return at(n, path, err)
	}
	return nil
}

// decodeScalar reads a duration in Prometheus' notation, a resource name,
// or any other scalar as the YAML decoder does, rewording its type errors;
// then it checks the value if its type has a check method.
func decodeScalar(n *yaml.Node, v reflect.Value) error {
	t := v.Type()
	cannot := func() error { return fmt.Errorf("cannot decode %s as %s", describe(n), words(t)) }
	if n.Kind != yaml.ScalarNode || t.Kind() == reflect.Struct || t.Kind() == reflect.Slice {
		return cannot()
	}
	switch t {
	case durationType:
		d, err := model.ParseDuration(n.Value)
		v.SetInt(int64(d))
		return err
	case kindType:
		k, ok := kinds.ByName(n.Value)
		if !ok {
			return fmt.Errorf("unknown resource %q; the valid ones are %s", n.Value, strings.Join(kinds.Names(), ", "))
		}
		v.Set(reflect.ValueOf(k))
		return nil
	}
	if err := n.Decode(v.Addr().Interface()); err != nil {
		if _, ok := errors.AsType[*yaml.TypeError](err); ok {
			return cannot()
		}
		return err
	}
	if c, ok := v.Interface().(interface{ check() error }); ok {
		return c.check()
	}
	return nil
}

// mapping decodes the keys of n into the fields of the struct v, refusing
// a key the struct does not have and a setting given twice, under one name
// or under its deprecated one and its current one; the deprecated name
// alone is taken with a warning.
func (d *decoder) mapping(n *yaml.Node, v reflect.Value, path string) error {
	fields := map[string]int{}
	for i := range v.NumField() {
		tag := v.Type().Field(i).Tag
		if key := tag.Get("yaml"); key != "" && key != "-" {
			fields[key] = i
		}
		if old := tag.Get("deprecated"); old != "" {
			fields[old] = i
		}
	}
	seen := map[int]*yaml.Node{} // the key that set each field
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := deref(n.Content[i])
		if k.Kind != yaml.ScalarNode {
			return at(k, path, fmt.Errorf("key %s is not a name", describe(k)))
		}
		field, ok := fields[k.Value]
		if !ok {
			return at(k, path, fmt.Errorf("unknown key %q", k.Value))
		}
		keyPath := strings.TrimPrefix(path+": "+k.Value, ": ")
		key := v.Type().Field(field).Tag.Get("yaml")
		if first, dup := seen[field]; dup {
			if first.Value == k.Value {
				return at(k, keyPath, fmt.Errorf("set twice, first on line %d", first.Line))
			}
			old := v.Type().Field(field).Tag.Get("deprecated")
			return at(k, keyPath, fmt.Errorf("set twice, first as %s on line %d (%s is the deprecated name of %s); keep only %[4]s", first.Value, first.Line, old, key))
		}
		seen[field] = k
		if k.Value != key {
			d.warnings = append(d.warnings, at(k, path, fmt.Errorf("%s is deprecated: rename it %s", k.Value, key)).Error())
		}
		if err := d.value(n.Content[i+1], v.Field(field), keyPath); err != nil {
			return err
		}
	}
	return nil
}

// at locates err: the line of n, then the path when there is one.
func at(n *yaml.Node, path string, err error) error {
	if path == "" {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	return fmt.Errorf("line %d: %s: %w", n.Line, path, err)
}

// deref follows an alias to its anchored node. The Config's shape is fixed
// and shallow, so following aliases cannot multiply work beyond the input's
// size.
func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

// describe names a node for a message: a scalar by its value (shortened), a
// list or mapping by its kind.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	}
	v := n.Value
	if len(v) > 40 {
		v = v[:37] + "..."
	}
	return fmt.Sprintf("%q", v)
}

// words says in words what a value of type t is.
func words(t reflect.Type) string {
	switch t {
	case durationType:
		return "a duration"
	case kindType:
		return "a resource name"
	case reflect.TypeFor[StatusSeries]():
		return "full or sparse"
	case accountType:
		return "an account (a mapping of keys)"
	case reflect.SliceOf(accountType):
		return "a list of accounts"
	}
	switch t.Kind() {
	case reflect.Int:
		return "an integer"
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	case reflect.Slice:
		// "an integer" makes "a list of integers".
		_, one, _ := strings.Cut(words(t.Elem()), " ")
		return "a list of " + one + "s"
	}
	return "a mapping of keys"
}
