package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// decode reads exactly one YAML document into a Spec that starts from the
// defaults. It walks the document itself rather than relying on the
// decoder's KnownFields, whose messages name Go types ("field x not found in
// type config.AccountSpec") and no key path. Every message here starts with
// the line and names the key as written: "line 9: accounts[1]: unknown key
// "auth_tokn"".
func decode(data []byte) (Spec, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return Spec{}, errEmpty
		}
		return Spec{}, syntaxError(err)
	}
	// A second document would be silently ignored otherwise.
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return Spec{}, errors.New("the file must hold exactly one document")
	}
	if len(doc.Content) == 0 {
		return Spec{}, errEmpty
	}
	root := deref(doc.Content[0])
	if isNull(root) {
		return Spec{}, errEmpty
	}
	if root.Kind != yaml.MappingNode {
		return Spec{}, fmt.Errorf("line %d: cannot decode %s as a mapping of keys", root.Line, describe(root))
	}
	spec := Default()
	if err := decodeValue(root, reflect.ValueOf(&spec).Elem(), ""); err != nil {
		return Spec{}, err
	}
	return spec, nil
}

var errEmpty = errors.New("the file is empty: at least accounts must be set")

// syntaxError drops the "yaml: " prefix so that a syntax error reads like
// the other messages ("line 3: did not find expected key").
func syntaxError(err error) error {
	return errors.New(strings.TrimPrefix(err.Error(), "yaml: "))
}

// decodeValue decodes n into v, which path names ("" for the whole file).
// Structs (Spec, AccountSpec) and slices are walked here, so that each key
// and item has its path; a scalar field is left to the YAML decoder, whose
// type errors are reworded.
func decodeValue(n *yaml.Node, v reflect.Value, path string) error {
	n = deref(n)
	if isNull(n) {
		// As the YAML decoder does: null empties a list and leaves a
		// scalar at its default.
		if v.Kind() == reflect.Slice {
			v.SetZero()
		}
		return nil
	}
	switch {
	case v.Kind() == reflect.Pointer:
		// An optional key: set means non-nil, whatever its value.
		p := reflect.New(v.Type().Elem())
		if err := decodeValue(n, p.Elem(), path); err != nil {
			return err
		}
		v.Set(p)
		return nil
	case v.Kind() == reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return fmt.Errorf("line %d: %s: cannot decode %s as %s", n.Line, path, describe(n), words(v.Type()))
		}
		return decodeMapping(n, v, path)
	case v.Kind() == reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return fmt.Errorf("line %d: %s: cannot decode %s as %s", n.Line, path, describe(n), words(v.Type()))
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			// The YAML decoder would drop an empty item silently; it is
			// more likely a slip (a "-" left alone) than a wish.
			if isNull(deref(item)) {
				return fmt.Errorf("line %d: %s[%d]: the item is empty", item.Line, path, i)
			}
			if err := decodeValue(item, s.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	}
	if err := n.Decode(v.Addr().Interface()); err != nil {
		if _, ok := errors.AsType[*yaml.TypeError](err); ok {
			return fmt.Errorf("line %d: %s: cannot decode %s as %s", n.Line, path, describe(n), words(v.Type()))
		}
		return fmt.Errorf("line %d: %s: %w", n.Line, path, err)
	}
	return nil
}

// decodeMapping decodes the keys of n into the fields of the struct v,
// refusing a key the struct does not have and a key given twice.
func decodeMapping(n *yaml.Node, v reflect.Value, path string) error {
	fields := map[string]int{}
	for i := range v.NumField() {
		if key, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("yaml"), ","); key != "" {
			fields[key] = i
		}
	}
	prefix := ""
	if path != "" {
		prefix = path + ": "
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := deref(n.Content[i])
		if k.Kind != yaml.ScalarNode {
			return fmt.Errorf("line %d: %skey %s is not a name", k.Line, prefix, describe(k))
		}
		field, ok := fields[k.Value]
		if !ok {
			return fmt.Errorf("line %d: %sunknown key %q", k.Line, prefix, k.Value)
		}
		if first, dup := seen[k.Value]; dup {
			return fmt.Errorf("line %d: %s%s: set twice, first on line %d", k.Line, prefix, k.Value, first)
		}
		seen[k.Value] = k.Line
		if err := decodeValue(n.Content[i+1], v.Field(field), prefix+k.Value); err != nil {
			return err
		}
	}
	return nil
}

// deref follows an alias to its anchored node. The Spec's shape is fixed and
// shallow, so following aliases cannot multiply work beyond the input's size.
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

var durationType = reflect.TypeFor[Duration]()

// words says in words what a field of type t holds.
func words(t reflect.Type) string {
	switch {
	case t == reflect.TypeFor[[]Resource]():
		return "a list of resource names"
	case t == durationType:
		return "a duration"
	case t.Kind() == reflect.Int:
		return "an integer"
	case t.Kind() == reflect.Bool:
		return "true or false"
	case t.Kind() == reflect.String:
		return "a string"
	case t == reflect.TypeFor[AccountSpec]():
		return "an account (a mapping of keys)"
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Int:
		return "a list of integers"
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String:
		return "a list of strings"
	case t.Kind() == reflect.Slice && t.Elem() == reflect.TypeFor[AccountSpec]():
		return "a list of accounts"
	}
	return "a mapping of keys"
}
