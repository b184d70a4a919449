package charts

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	yamlv3 "go.yaml.in/yaml/v3"
)

const schemaFile = chartDir + "/values.schema.json"

// offline is a schema loader that loads nothing: a schema that compiles
// with it needs no network, as Helm's validation must not.
type offline struct{}

func (offline) Load(url string) (any, error) {
	return nil, fmt.Errorf("the schema refers to %s, which would be fetched", url)
}

// TestSchemaCompilesOffline compiles values.schema.json as JSON Schema
// draft 7 with a loader that refuses every URL.
func TestSchemaCompilesOffline(t *testing.T) {
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(string(readFile(t, schemaFile))))
	if err != nil {
		t.Fatalf("%s: %v", schemaFile, err)
	}
	if got := doc.(map[string]any)["$schema"]; got != "http://json-schema.org/draft-07/schema#" {
		t.Errorf("$schema %v, want draft 7", got)
	}
	c := jsonschema.NewCompiler()
	c.UseLoader(offline{})
	if err := c.AddResource("file:///values.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Compile("file:///values.schema.json"); err != nil {
		t.Fatalf("compiling offline: %v", err)
	}
}

// shippedValues returns every values file the repository ships for the
// chart, by name: values.yaml, the ci/ files, and the values.yaml examples
// of the READMEs (code blocks that start with "# values.yaml").
func shippedValues(t *testing.T) map[string]string {
	t.Helper()
	files := map[string]string{"values.yaml": string(readFile(t, filepath.Join(chartDir, "values.yaml")))}
	ci, err := filepath.Glob(filepath.Join(chartDir, "ci", "*-values.yaml"))
	if err != nil || len(ci) == 0 {
		t.Fatalf("no ci/*-values.yaml (%v)", err)
	}
	for _, f := range ci {
		files[filepath.Join("ci", filepath.Base(f))] = string(readFile(t, f))
	}
	block := regexp.MustCompile("(?s)```yaml\n(# values\\.yaml\n.*?)```")
	for _, readme := range []string{"../README.md", filepath.Join(chartDir, "README.md")} {
		found := block.FindAllStringSubmatch(string(readFile(t, readme)), -1)
		if len(found) == 0 {
			t.Errorf("%s has no values.yaml example", readme)
		}
		for i, m := range found {
			files[fmt.Sprintf("%s example %d", readme, i+1)] = m[1]
		}
	}
	return files
}

// TestShippedValuesPass renders the chart with every shipped values file:
// each passes the schema (Helm validates before rendering) and renders
// objects that decode strictly.
func TestShippedValuesPass(t *testing.T) {
	ch := loadChart(t)
	for name, text := range shippedValues(t) {
		t.Run(name, func(t *testing.T) {
			r := render(t, ch, values(t, text))
			checkCommon(t, r)
		})
	}
}

// TestSchemaRefuses checks that a misspelt or mistyped value fails `helm
// install`/`helm template` with a message that names it.
func TestSchemaRefuses(t *testing.T) {
	ch := loadChart(t)
	for _, tc := range []struct {
		values string
		want   []string // each must be in the error
	}{
		{"serviceMonitor: {enabeld: true}\n", []string{"at '/serviceMonitor'", "'enabeld'"}},
		{"imagePullPolicy: Always\n", []string{"'imagePullPolicy'", "not allowed"}},
		{"replicaCount: two\n", []string{"at '/replicaCount'", "want integer"}},
		{"image: {pullPolicy: always}\n", []string{"at '/image/pullPolicy'", "'IfNotPresent'"}},
		{"image: {digest: 'sha256:0123'}\n", []string{"at '/image/digest'", "does not match"}},
		{"global: {imageRegistry: 5}\n", []string{"at '/global/imageRegistry'", "want string"}},
		{"commonLabels: {team: 1}\n", []string{"at '/commonLabels/team'", "want string"}},
		{"existingSecret: twilio-config\n", []string{"at '/existingSecret'", "want object"}},
		{"auth: {existingSecret: {name: twilio-auth}}\n", []string{"at '/auth/existingSecret'", "want string"}},
		{"auth: {tokenkey: token}\n", []string{"at '/auth'", "'tokenkey'"}},
		{"service: {port: '10311'}\n", []string{"at '/service/port'", "want integer"}},
		{"strategy: {type: Rolling}\n", []string{"at '/strategy/type'", "'Recreate'"}},
		{"revisionHistoryLimit: -1\n", []string{"at '/revisionHistoryLimit'", "minimum"}},
		{"podDisruptionBudget: {minAvailable: 50 percent}\n", []string{"at '/podDisruptionBudget/minAvailable'"}},
		{"serviceMonitor: {scheme: ftp}\n", []string{"at '/serviceMonitor/scheme'", "'https'"}},
		{"serviceMonitor: {interval: 1 minute}\n", []string{"at '/serviceMonitor/interval'", "does not match"}},
		{"serviceMonitor: {basicAuth: {secret: exporter-auth}}\n", []string{"at '/serviceMonitor/basicAuth'", "'secret'"}},
		{"serviceMonitor: {sampleLimit: -1}\n", []string{"at '/serviceMonitor/sampleLimit'", "minimum"}},
		{"serviceMonitor: {targetLimit: ten}\n", []string{"at '/serviceMonitor/targetLimit'", "want integer"}},
		{"shardedScrapeConfig: {resource: ScrapeConfigs}\n", []string{"at '/shardedScrapeConfig/resource'", "'ScrapeConfig'"}},
		{"shardedScrapeConfig: {shards: ['http://shard-0:10311']}\n", []string{"at '/shardedScrapeConfig/shards/0'", "does not match"}},
		{"prometheusRule: {runbookBaseURL: wiki.example.com}\n", []string{"at '/prometheusRule/runbookBaseURL'", "does not match"}},
		{"networkPolicy: {ingres: []}\n", []string{"at '/networkPolicy'", "'ingres'"}},
		{"ingress: {hosts: [{host: a.example, paths: [{path: /, pathType: prefix}]}]}\n", []string{"at '/ingress/hosts/0/paths/0/pathType'", "'Prefix'"}},
		{"ingress: {hosts: [{host: a.example, paths: [{path: /}]}]}\n", []string{"at '/ingress/hosts/0/paths/0'", "'pathType'"}},
		{"test: {enable: false}\n", []string{"at '/test'", "'enable'"}},
		{"extraManifests: {kind: ConfigMap}\n", []string{"at '/extraManifests'", "want array"}},
		{"config: accounts\n", []string{"at '/config'", "want object"}},
	} {
		t.Run(strings.TrimSpace(tc.values), func(t *testing.T) {
			_, err := install(t, ch, values(t, tc.values))
			if err == nil {
				t.Fatalf("rendered; want the schema to refuse it")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// TestCIValues renders each ci/*-values.yaml, as chart-testing installs
// them, and runs its helm test pod's command: each must be a release whose
// test passes on a cluster with nothing made beforehand (the files make
// their own Secrets through extraManifests). Together the files must turn
// every toggle on.
func TestCIValues(t *testing.T) {
	ch := loadChart(t)
	files, err := filepath.Glob(filepath.Join(chartDir, "ci", "*-values.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no ci/*-values.yaml (%v)", err)
	}
	set := map[string]bool{} // every path a ci file sets to true or a non-empty string
	for _, f := range files {
		text := string(readFile(t, f))
		t.Run(filepath.Base(f), func(t *testing.T) {
			r := render(t, ch, values(t, text))
			checkCommon(t, r)
			stdout, stderr, code := runTestPod(t, r, nil)
			if code != 0 || !strings.Contains(stdout, "configuration valid") {
				t.Errorf("the test pod fails: exit %d, %s%s", code, stdout, stderr)
			}
		})
		var doc yamlv3.Node
		if err := yamlv3.Unmarshal([]byte(text), &doc); err != nil {
			t.Fatal(err)
		}
		collectSet("", doc.Content[0], set)
	}

	// The toggles: each "enabled" that is off by default, and the choices
	// that switch a template's other branch.
	var defaults yamlv3.Node
	if err := yamlv3.Unmarshal(readFile(t, filepath.Join(chartDir, "values.yaml")), &defaults); err != nil {
		t.Fatal(err)
	}
	toggles := map[string]bool{}
	collectSet("", defaults.Content[0], toggles) // those on by default need no ci file
	want := []string{"auth.existingSecret", "existingSecret.name", "shardedScrapeConfig.resource=ScrapeConfig", "extraManifests"}
	var walk func(prefix string, m *yamlv3.Node)
	walk = func(prefix string, m *yamlv3.Node) {
		for i := 0; i+1 < len(m.Content); i += 2 {
			k, v := m.Content[i], m.Content[i+1]
			switch {
			case v.Kind == yamlv3.MappingNode:
				walk(prefix+k.Value+".", v)
			case k.Value == "enabled" && !toggles[prefix+"enabled"]:
				want = append(want, prefix+"enabled")
			}
		}
	}
	walk("", defaults.Content[0])
	for _, w := range want {
		if !set[w] {
			t.Errorf("no ci/*-values.yaml sets %s", w)
		}
	}
}

// collectSet records the paths of a YAML mapping whose value is true, a
// non-empty string (also as path=value), or a non-empty list.
func collectSet(prefix string, m *yamlv3.Node, set map[string]bool) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		path := prefix + k.Value
		switch {
		case v.Kind == yamlv3.MappingNode:
			collectSet(path+".", v, set)
		case v.Kind == yamlv3.SequenceNode && len(v.Content) > 0:
			set[path] = true
		case v.Kind == yamlv3.ScalarNode && v.Tag == "!!bool":
			set[path] = v.Value == "true"
		case v.Kind == yamlv3.ScalarNode && v.Tag == "!!str" && v.Value != "":
			set[path] = true
			set[path+"="+v.Value] = true
		}
	}
}

// TestSchemaKnowsEveryValue checks that the schema describes every key of
// values.yaml, so that additionalProperties: false cannot refuse a default
// the day a value is added without its schema.
func TestSchemaKnowsEveryValue(t *testing.T) {
	var schema map[string]any
	if err := json.Unmarshal(readFile(t, schemaFile), &schema); err != nil {
		t.Fatal(err)
	}
	var defaults yamlv3.Node
	if err := yamlv3.Unmarshal(readFile(t, filepath.Join(chartDir, "values.yaml")), &defaults); err != nil {
		t.Fatal(err)
	}
	var walk func(prefix string, m *yamlv3.Node, s map[string]any)
	walk = func(prefix string, m *yamlv3.Node, s map[string]any) {
		props, _ := s["properties"].(map[string]any)
		for i := 0; i+1 < len(m.Content); i += 2 {
			k, v := m.Content[i], m.Content[i+1]
			sub, ok := props[k.Value].(map[string]any)
			if !ok {
				t.Errorf("%s%s is not in the schema", prefix, k.Value)
				continue
			}
			if _, ok := sub["description"]; !ok && sub["$ref"] == nil && v.Kind != yamlv3.MappingNode {
				t.Errorf("%s%s has no description in the schema", prefix, k.Value)
			}
			if v.Kind == yamlv3.MappingNode && sub["properties"] != nil {
				walk(prefix+k.Value+".", v, sub)
			}
		}
	}
	walk("", defaults.Content[0], schema)
}
