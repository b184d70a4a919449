// Command mixin evaluates the monitoring mixin (mixin.libsonnet) with
// go-jsonnet and writes what it generates: the Prometheus rules file and
// the Grafana dashboard. scripts/generate-mixin.sh runs it to rewrite
// alerts/ and dashboards/; the end-to-end tests run it with shorter
// durations.
//
// It is its own Go module so that go-jsonnet is a tool of the repository,
// not a dependency of the exporter.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/google/go-jsonnet"
	"gopkg.in/yaml.v3"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "mixin:", err)
		os.Exit(1)
	}
}

// Paths of the generated files, below -out.
const (
	rulesPath     = "alerts/twilio_trusthub.rules.yml"
	dashboardPath = "dashboards/twilio_trusthub.json"
)

func run(args []string) error {
	fs := flag.NewFlagSet("mixin", flag.ContinueOnError)
	dir := fs.String("dir", ".", "the mixin's directory")
	out := fs.String("out", "..", "write "+rulesPath+" and "+dashboardPath+" below this directory")
	config := fs.String("config", "{}", "a jsonnet object merged into the mixin's _config, e.g. '{objectFor: \"1s\"}'")
	if err := fs.Parse(args); err != nil {
		return err
	}
	files, err := generate(*dir, *config)
	if err != nil {
		return err
	}
	for path, b := range files {
		p := filepath.Join(*out, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil { //nolint:gosec // G301: a folder of the repository
			return err
		}
		if err := os.WriteFile(p, b, 0o644); err != nil { //nolint:gosec // G306: files of the repository
			return err
		}
	}
	return nil
}

// generate evaluates the mixin in dir, with config merged into its
// _config, and returns the files it makes by path.
func generate(dir, config string) (map[string][]byte, error) {
	vm := jsonnet.MakeVM()
	vm.Importer(&jsonnet.FileImporter{JPaths: []string{dir}})
	vm.ExtCode("config", config)
	out, err := vm.EvaluateAnonymousSnippet("generate.jsonnet", `
		local m = (import 'mixin.libsonnet') + { _config+:: std.extVar('config') };
		{
		  rules: { groups: m.prometheusRules.groups + m.prometheusAlerts.groups },
		  dashboards: m.grafanaDashboards,
		}`)
	if err != nil {
		return nil, err
	}
	var v struct {
		Rules      json.RawMessage
		Dashboards map[string]json.RawMessage
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		return nil, err
	}
	rules, err := rulesYAML(v.Rules)
	if err != nil {
		return nil, err
	}
	dashboard, ok := v.Dashboards[filepath.Base(dashboardPath)]
	if !ok || len(v.Dashboards) != 1 {
		return nil, errors.New("the mixin must make one dashboard, " + filepath.Base(dashboardPath))
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, dashboard, "", "  "); err != nil {
		return nil, err
	}
	pretty.WriteByte('\n')
	return map[string][]byte{rulesPath: rules, dashboardPath: pretty.Bytes()}, nil
}

// header starts the rules file.
const header = `# Recording and alerting rules for twilio_trusthub_exporter.
#
# Generated from the monitoring mixin in mixin/ by scripts/generate-mixin.sh;
# do not edit. Change a threshold, a severity or the job selector in the
# mixin's _config (mixin/config.libsonnet, or your own override of it) and
# generate again; mixin/README.md says how, and what each alert is for.
#
# Load with rule_files: [/path/to/twilio_trusthub.rules.yml] in prometheus.yml.
`

// rulesYAML writes the rule groups as YAML people can read: keys in
// Prometheus' own order, multi-line expressions and templates as blocks.
func rulesYAML(raw json.RawMessage) ([]byte, error) {
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString(header)
	b.WriteByte('\n')
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(node(doc)); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// keyOrder is the order of a rule's keys (and a group's), as Prometheus'
// documentation writes them; any other key follows, sorted.
var keyOrder = []string{"name", "interval", "alert", "record", "expr", "for", "keep_firing_for", "labels", "annotations", "rules"}

func node(v any) *yaml.Node {
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b string) int {
			ia, ib := slices.Index(keyOrder, a), slices.Index(keyOrder, b)
			switch {
			case ia >= 0 && ib >= 0:
				return ia - ib
			case ia >= 0:
				return -1
			case ib >= 0:
				return 1
			}
			return strings.Compare(a, b)
		})
		n := &yaml.Node{Kind: yaml.MappingNode}
		for _, k := range keys {
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: k}, node(v[k]))
		}
		return n
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode}
		for _, e := range v {
			n.Content = append(n.Content, node(e))
		}
		return n
	case string:
		n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v}
		if strings.Contains(v, "\n") {
			n.Style = yaml.LiteralStyle
		}
		return n
	}
	var n yaml.Node
	if err := n.Encode(v); err != nil {
		panic(err) // JSON values always encode
	}
	return &n
}
