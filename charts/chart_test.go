// Package charts tests the Helm chart in twilio-trusthub-exporter/ with Helm
// itself, used as a Go library: it installs the chart client-side (what
// `helm install --dry-run` and `helm template` do), decodes every object it
// renders strictly into its Kubernetes or Prometheus Operator Go type, checks
// what the objects say, and runs Helm's lint. No cluster is involved: these
// tests prove that the manifests are well-formed and say what is intended,
// not that a cluster accepts or runs them.
package charts

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	monitoringv1alpha1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1alpha1"
	yamlv3 "go.yaml.in/yaml/v3"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/lint/support"
	"helm.sh/helm/v3/pkg/releaseutil"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/config"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/internal/proctest"
)

const (
	chartDir  = "twilio-trusthub-exporter"
	rulesFile = "../alerts/twilio_trusthub.rules.yml"
	dashFile  = "../dashboards/twilio_trusthub.json"

	release   = "trusthub"
	namespace = "monitoring"
	fullname  = "trusthub-twilio-trusthub-exporter"
	// chartName is the chart's name: the job its ServiceMonitor makes.
	chartName = "twilio-trusthub-exporter"
	// testPod is the helm test hook, rendered with every set of values
	// that leaves test.enabled on.
	testPod = "Pod/" + fullname + "-config-check"

	defaultRunbooks = "https://github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/blob/main/docs/runbooks.md"
	customRunbooks  = "https://wiki.example.com/ops/twilio-trusthub"

	// kubeVersion is the cluster the chart is rendered for. Helm used as a
	// library assumes v1.20 (its CLI is stamped with the Kubernetes version
	// of its client-go), which the chart's kubeVersion refuses.
	kubeVersion = "v1.33.0"

	// plantedToken is a made-up auth token: the tests look for it where it
	// must never be.
	plantedToken = "planted-auth-token-0123456789abcdef"
)

// allOn turns every toggle of the chart on, as a user's values file would.
const allOn = `
replicaCount: 2
config:
  cache_ttl: 10m
  page_size: 500
  expiring_within_days: [7, 30, 60]
  accounts:
    - name: main
      account_sid: AC00000000000000000000000000000001
      auth_token_file: /etc/twilio-token/auth_token
    - name: sub
      account_sid: AC00000000000000000000000000000002
      auth_token: ` + plantedToken + `
      status: twilio-rejected
extraArgs: [--log.level=debug, --log.format=json]
env:
  - name: GOMAXPROCS
    value: "1"
envFrom:
  - configMapRef:
      name: proxy-settings
extraVolumes:
  - name: twilio-token
    secret:
      secretName: twilio-auth-token
      defaultMode: 0440
extraVolumeMounts:
  - name: twilio-token
    mountPath: /etc/twilio-token
    readOnly: true
serviceAccount:
  annotations:
    example.com/owner: observability
podAnnotations:
  example.com/team: messaging
podLabels:
  example.com/tier: monitoring
imagePullSecrets:
  - name: regcred
service:
  annotations:
    example.com/scrape: "false"
  labels:
    example.com/exposed: "no"
podDisruptionBudget:
  enabled: true
nodeSelector:
  kubernetes.io/os: linux
tolerations:
  - key: dedicated
    operator: Equal
    value: monitoring
    effect: NoSchedule
affinity:
  podAntiAffinity:
    preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 100
        podAffinityTerm:
          topologyKey: kubernetes.io/hostname
          labelSelector:
            matchLabels:
              app.kubernetes.io/name: twilio-trusthub-exporter
topologySpreadConstraints:
  - maxSkew: 1
    topologyKey: topology.kubernetes.io/zone
    whenUnsatisfiable: ScheduleAnyway
priorityClassName: monitoring
serviceMonitor:
  enabled: true
  namespace: prometheus
  additionalLabels:
    release: kube-prometheus-stack
  interval: 2m
  scrapeTimeout: 45s
  relabelings:
    - sourceLabels: [__meta_kubernetes_pod_node_name]
      targetLabel: node
  metricRelabelings:
    - sourceLabels: [__name__]
      regex: go_.*
      action: drop
prometheusRule:
  enabled: true
  namespace: prometheus
  additionalLabels:
    release: kube-prometheus-stack
    role: alert-rules
grafanaDashboard:
  enabled: true
  namespace: grafana
  additionalLabels:
    team: messaging
  annotations:
    grafana_folder: Twilio
commonLabels:
  example.com/cost-centre: "42"
networkPolicy:
  enabled: true
ingress:
  enabled: true
`

// obj is one rendered Kubernetes object.
type obj struct {
	source string // the template it came from
	kind   string
	name   string
	raw    []byte // its YAML
	typed  any    // strictly decoded into its Go type
	hook   bool   // a Helm hook (the helm test pod), not part of the release's manifest
}

type rendering struct {
	manifest  string // the release's objects, hooks not included
	hooks     string // the hooks' manifests, in order
	notes     string
	namespace string // where the chart's objects must be: namespaceOverride or the release's
	values    map[string]any
	objs      []obj // hooks included
}

// fromExtraManifests tells the objects that extraManifests rendered: the
// user's, which the chart's own checks do not hold to its conventions.
func (o obj) fromExtraManifests() bool {
	return strings.HasSuffix(o.source, "/templates/extra-manifests.yaml")
}

// kinds lists every kind the chart may render, with its API version and Go
// type. A kind not listed fails the test: each new kind needs a strict
// decoder here.
var kinds = map[string]struct {
	apiVersion string
	new        func() any
}{
	"ServiceAccount":      {"v1", func() any { return &corev1.ServiceAccount{} }},
	"Secret":              {"v1", func() any { return &corev1.Secret{} }},
	"ConfigMap":           {"v1", func() any { return &corev1.ConfigMap{} }},
	"Service":             {"v1", func() any { return &corev1.Service{} }},
	"Pod":                 {"v1", func() any { return &corev1.Pod{} }},
	"Deployment":          {"apps/v1", func() any { return &appsv1.Deployment{} }},
	"PodDisruptionBudget": {"policy/v1", func() any { return &policyv1.PodDisruptionBudget{} }},
	"NetworkPolicy":       {"networking.k8s.io/v1", func() any { return &networkingv1.NetworkPolicy{} }},
	"Ingress":             {"networking.k8s.io/v1", func() any { return &networkingv1.Ingress{} }},
	"ServiceMonitor":      {"monitoring.coreos.com/v1", func() any { return &monitoringv1.ServiceMonitor{} }},
	"PrometheusRule":      {"monitoring.coreos.com/v1", func() any { return &monitoringv1.PrometheusRule{} }},
	"ScrapeConfig":        {"monitoring.coreos.com/v1alpha1", func() any { return &monitoringv1alpha1.ScrapeConfig{} }},
}

// decodeStrict decodes one YAML object into its Go type, refusing any field
// the type does not have, so a misspelt field fails instead of vanishing.
// encoding/json matches field names case-insensitively, so a second check
// compares the object's keys, re-encoded from the typed value, with the
// YAML's: a key that only differs in case fails too.
func decodeStrict(doc []byte) (kind string, typed any, err error) {
	j, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return "", nil, fmt.Errorf("not YAML: %w", err)
	}
	var head struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := json.Unmarshal(j, &head); err != nil {
		return "", nil, err
	}
	k, ok := kinds[head.Kind]
	if !ok {
		return head.Kind, nil, fmt.Errorf("kind %q is not one the chart is known to render", head.Kind)
	}
	if head.APIVersion != k.apiVersion {
		return head.Kind, nil, fmt.Errorf("%s has apiVersion %q, want %q", head.Kind, head.APIVersion, k.apiVersion)
	}
	typed = k.new()
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.DisallowUnknownFields()
	if err := dec.Decode(typed); err != nil {
		return head.Kind, nil, err
	}
	if dec.More() {
		return head.Kind, nil, errors.New("more than one object in one document")
	}
	if err := sameKeys(j, typed); err != nil {
		return head.Kind, nil, err
	}
	return head.Kind, typed, nil
}

// sameKeys reports a key of the rendered JSON that the typed value, encoded
// again, spells differently (only case can differ once unknown fields are
// refused). Keys the type drops because they are empty are not a concern:
// only spellings are compared, where both sides have the key's parent.
func sameKeys(rendered []byte, typed any) error {
	back, err := json.Marshal(typed)
	if err != nil {
		return err
	}
	var a, b any
	if err := json.Unmarshal(rendered, &a); err != nil {
		return err
	}
	if err := json.Unmarshal(back, &b); err != nil {
		return err
	}
	return compareKeys("", a, b)
}

func compareKeys(path string, rendered, back any) error {
	switch r := rendered.(type) {
	case map[string]any:
		bm, ok := back.(map[string]any)
		if !ok {
			return nil // e.g. an IntOrString or a Quantity written as an object: the decoder has judged it
		}
		for k, v := range r {
			bv, ok := bm[k]
			if !ok {
				for bk := range bm {
					if strings.EqualFold(bk, k) {
						return fmt.Errorf("%s.%s: field is spelt %q", path, k, bk)
					}
				}
				continue // an empty value the type omits
			}
			if err := compareKeys(path+"."+k, v, bv); err != nil {
				return err
			}
		}
	case []any:
		bl, ok := back.([]any)
		if !ok || len(bl) != len(r) {
			return nil
		}
		for i := range r {
			if err := compareKeys(fmt.Sprintf("%s[%d]", path, i), r[i], bl[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// TestMain quiets the standard logger, through which Helm's loader reports
// every symbolic link it follows (the chart has two on purpose, and
// TestPackagedChart checks them).
func TestMain(m *testing.M) {
	log.SetOutput(io.Discard)
	code := m.Run()
	proctest.Cleanup()
	os.Exit(code)
}

func loadChart(t *testing.T) *chart.Chart {
	t.Helper()
	ch, err := loader.Load(chartDir)
	if err != nil {
		t.Fatalf("loading the chart: %v", err)
	}
	return ch
}

func values(t *testing.T, docs ...string) map[string]any {
	t.Helper()
	vals := map[string]any{}
	for _, d := range docs {
		v, err := chartutil.ReadValues([]byte(d))
		if err != nil {
			t.Fatalf("values: %v", err)
		}
		vals = chartutil.CoalesceTables(v, vals)
	}
	return vals
}

// install renders the chart as `helm install --dry-run` does without a
// cluster (and `helm template`), or returns Helm's error. The hooks (the
// helm test pod) are decoded as strictly as the release's objects.
func install(t *testing.T, ch *chart.Chart, vals map[string]any) (*rendering, error) {
	t.Helper()
	in := action.NewInstall(&action.Configuration{Log: t.Logf})
	in.DryRun = true
	in.ClientOnly = true
	in.ReleaseName = release
	in.Namespace = namespace
	kv, err := chartutil.ParseKubeVersion(kubeVersion)
	if err != nil {
		t.Fatal(err)
	}
	in.KubeVersion = kv
	rel, err := in.Run(ch, vals)
	if err != nil {
		return nil, err
	}
	r := &rendering{manifest: rel.Manifest, notes: rel.Info.Notes, namespace: namespace, values: vals}
	if ns, _ := vals["namespaceOverride"].(string); ns != "" {
		r.namespace = ns
	}
	add := func(source, doc string, hook bool) {
		kind, typed, err := decodeStrict([]byte(doc))
		if err != nil {
			t.Errorf("%s: %s does not decode strictly: %v\n%s", source, kind, err, doc)
			return
		}
		r.objs = append(r.objs, obj{source: source, kind: kind, name: objectMeta(typed).Name, raw: []byte(doc), typed: typed, hook: hook})
	}
	docs := releaseutil.SplitManifests(rel.Manifest)
	keys := make([]string, 0, len(docs))
	for k := range docs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		source, _, _ := strings.Cut(strings.TrimPrefix(docs[k], "# Source: "), "\n")
		add(source, docs[k], false)
	}
	for _, h := range rel.Hooks {
		r.hooks += h.Manifest + "\n"
		add(h.Path, h.Manifest, true)
	}
	return r, nil
}

func render(t *testing.T, ch *chart.Chart, vals map[string]any) *rendering {
	t.Helper()
	r, err := install(t, ch, vals)
	if err != nil {
		t.Fatalf("rendering the chart: %v", err)
	}
	return r
}

type meta struct {
	Name, Namespace string
	Labels          map[string]string
}

func objectMeta(typed any) meta {
	v := reflect.ValueOf(typed).Elem().FieldByName("ObjectMeta")
	labels, _ := v.FieldByName("Labels").Interface().(map[string]string)
	return meta{v.FieldByName("Name").String(), v.FieldByName("Namespace").String(), labels}
}

// one returns the only object of a kind, failing unless there is exactly one.
func one[T any](t *testing.T, r *rendering) T {
	t.Helper()
	var found []T
	for _, o := range r.objs {
		if v, ok := o.typed.(T); ok {
			found = append(found, v)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want one %T, got %d", *new(T), len(found))
	}
	return found[0]
}

func kindsOf(r *rendering) []string {
	var ks []string
	for _, o := range r.objs {
		ks = append(ks, o.kind+"/"+o.name)
	}
	sort.Strings(ks)
	return ks
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// asGeneric turns YAML (or JSON) into plain maps and slices, the way Helm and
// Kubernetes read it, for comparisons that ignore layout.
func asGeneric(t *testing.T, doc []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal(doc, &m); err != nil {
		t.Fatalf("parsing: %v", err)
	}
	return m
}

func toGeneric(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var g any
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	return g
}

// replaceStrings replaces old by new in every string of a generic value.
func replaceStrings(v any, old, replacement string) any {
	switch x := v.(type) {
	case string:
		return strings.ReplaceAll(x, old, replacement)
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = replaceStrings(e, old, replacement)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = replaceStrings(e, old, replacement)
		}
		return l
	}
	return v
}

func TestStrictDecodeRefusesMistakes(t *testing.T) {
	for _, tc := range []struct {
		name, doc, want string
	}{
		{"valid", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replicas: 2}\n", ""},
		{"misspelt field", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replica: 2}\n", `unknown field "replica"`},
		{"misspelt nested field", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  template:\n    spec:\n      containers:\n        - name: c\n          securityContext: {readOnlyRootFileSystem: true}\n", "readOnlyRootFileSystem"},
		{"field in the wrong case", "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {Type: ClusterIP}\n", `field is spelt "type"`},
		{"misspelt ServiceMonitor field", "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata: {name: x}\nspec:\n  endpoints:\n    - {port: http, intervall: 1m}\n", `unknown field "intervall"`},
		{"misspelt PrometheusRule field", "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata: {name: x}\nspec:\n  groups:\n    - name: g\n      rules:\n        - {alert: A, expr: up, annotation: {a: b}}\n", `unknown field "annotation"`},
		{"wrong type", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replicas: two}\n", "cannot unmarshal"},
		{"unknown kind", "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: x}\n", `kind "StatefulSet" is not one`},
		{"wrong apiVersion", "apiVersion: policy/v1beta1\nkind: PodDisruptionBudget\nmetadata: {name: x}\n", `want "policy/v1"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := decodeStrict([]byte(tc.doc))
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused a valid object: %v", err)
			case tc.want != "" && err == nil:
				t.Fatalf("accepted an object with a mistake (%s)", tc.name)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Fatalf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

// TestRender renders the chart with default values, every toggle on, and
// the variants in between, and checks the objects.
func TestRender(t *testing.T) {
	ch := loadChart(t)
	// The rules the mixin generates for the job the chart's ServiceMonitor
	// makes (job is the Service's app.kubernetes.io/name): what the
	// PrometheusRule holds with default values.
	rules := asGeneric(t, []byte(proctest.Mixin(t, `{jobSelector: 'job="`+chartName+`"'}`)))
	dashboard := readFile(t, dashFile)

	for _, tc := range []struct {
		name      string
		values    []string
		wantKinds []string
		check     func(t *testing.T, r *rendering)
	}{
		{
			name: "defaults",
			wantKinds: []string{
				testPod, "Deployment/" + fullname, "Secret/" + fullname, "Service/" + fullname, "ServiceAccount/" + fullname,
			},
			check: func(t *testing.T, r *rendering) {
				d := one[*appsv1.Deployment](t, r)
				if *d.Spec.Replicas != 1 {
					t.Errorf("replicas %d, want 1", *d.Spec.Replicas)
				}
				c := d.Spec.Template.Spec.Containers[0]
				if got, want := c.Image, "ghcr.io/twilio-trusthub-exporter/twilio_trusthub_exporter:"+ch.Metadata.AppVersion; got != want {
					t.Errorf("image %q, want %q", got, want)
				}
				if got, want := c.Args, []string{"--config.file=/etc/twilio-trusthub-exporter/config.yml", "--web.listen-address=:10311"}; !reflect.DeepEqual(got, want) {
					t.Errorf("args %q, want %q", got, want)
				}
				// The default image cannot be pulled: the NOTES say so first.
				if first, _, _ := strings.Cut(r.notes, "\n\n"); !strings.HasPrefix(first, "No image of the exporter is published") ||
					!strings.Contains(first, "docker buildx build --platform linux/amd64,linux/arm64") || !strings.Contains(first, "--push") {
					t.Errorf("NOTES do not start by saying how to build and push the image:\n%s", r.notes)
				}
				if !strings.Contains(r.notes, "no account is configured") || !strings.Contains(r.notes, "existingSecret.name") {
					t.Errorf("NOTES do not say that an account is missing:\n%s", r.notes)
				}
				checkConfigSecret(t, r, map[string]any{"accounts": []any{}})
			},
		},
		{
			name:   "every toggle on",
			values: []string{allOn},
			wantKinds: []string{
				"ConfigMap/" + fullname + "-dashboard", "Deployment/" + fullname, "Ingress/" + fullname, "NetworkPolicy/" + fullname,
				testPod, "PodDisruptionBudget/" + fullname, "PrometheusRule/" + fullname, "Secret/" + fullname,
				"Service/" + fullname, "ServiceAccount/" + fullname, "ServiceMonitor/" + fullname,
			},
			check: func(t *testing.T, r *rendering) {
				d := one[*appsv1.Deployment](t, r)
				if *d.Spec.Replicas != 2 {
					t.Errorf("replicas %d, want 2", *d.Spec.Replicas)
				}
				pod := d.Spec.Template
				c := pod.Spec.Containers[0]
				if got, want := c.Args, []string{"--config.file=/etc/twilio-trusthub-exporter/config.yml", "--web.listen-address=:10311", "--log.level=debug", "--log.format=json"}; !reflect.DeepEqual(got, want) {
					t.Errorf("args %q, want %q", got, want)
				}
				if len(c.Env) != 1 || c.Env[0].Name != "GOMAXPROCS" || len(c.EnvFrom) != 1 || c.EnvFrom[0].ConfigMapRef.Name != "proxy-settings" {
					t.Errorf("env %+v envFrom %+v", c.Env, c.EnvFrom)
				}
				if len(c.VolumeMounts) != 2 || c.VolumeMounts[1].MountPath != "/etc/twilio-token" || len(pod.Spec.Volumes) != 2 || pod.Spec.Volumes[1].Secret.SecretName != "twilio-auth-token" {
					t.Errorf("extra volumes not mounted: %+v %+v", c.VolumeMounts, pod.Spec.Volumes)
				}
				if pod.Labels["example.com/tier"] != "monitoring" || pod.Annotations["example.com/team"] != "messaging" {
					t.Errorf("pod labels %v annotations %v", pod.Labels, pod.Annotations)
				}
				if pod.Spec.NodeSelector["kubernetes.io/os"] != "linux" || len(pod.Spec.Tolerations) != 1 || pod.Spec.Affinity.PodAntiAffinity == nil ||
					pod.Spec.PriorityClassName != "monitoring" || len(pod.Spec.ImagePullSecrets) != 1 {
					t.Errorf("scheduling settings missing: %+v", pod.Spec)
				}
				tsc := pod.Spec.TopologySpreadConstraints
				if len(tsc) != 1 || tsc[0].LabelSelector == nil || !reflect.DeepEqual(tsc[0].LabelSelector.MatchLabels, d.Spec.Selector.MatchLabels) {
					t.Errorf("topology spread constraint without the pods' selector: %+v", tsc)
				}
				sa := one[*corev1.ServiceAccount](t, r)
				if sa.Annotations["example.com/owner"] != "observability" {
					t.Errorf("ServiceAccount annotations %v", sa.Annotations)
				}
				svc := one[*corev1.Service](t, r)
				if svc.Annotations["example.com/scrape"] != "false" || svc.Labels["example.com/exposed"] != "no" {
					t.Errorf("Service annotations %v labels %v", svc.Annotations, svc.Labels)
				}
				pdb := one[*policyv1.PodDisruptionBudget](t, r)
				if pdb.Spec.MinAvailable == nil || pdb.Spec.MinAvailable.IntValue() != 1 || pdb.Spec.MaxUnavailable != nil ||
					!reflect.DeepEqual(pdb.Spec.Selector.MatchLabels, d.Spec.Selector.MatchLabels) {
					t.Errorf("PodDisruptionBudget %+v", pdb.Spec)
				}

				sm := one[*monitoringv1.ServiceMonitor](t, r)
				if sm.Namespace != "prometheus" || sm.Labels["release"] != "kube-prometheus-stack" {
					t.Errorf("ServiceMonitor namespace %q labels %v", sm.Namespace, sm.Labels)
				}
				if !reflect.DeepEqual(sm.Spec.NamespaceSelector.MatchNames, []string{namespace}) {
					t.Errorf("ServiceMonitor looks for the Service in %v, want [%s]", sm.Spec.NamespaceSelector.MatchNames, namespace)
				}
				if !selects(sm.Spec.Selector.MatchLabels, svc.Labels) {
					t.Errorf("ServiceMonitor selector %v does not select the Service's labels %v", sm.Spec.Selector.MatchLabels, svc.Labels)
				}
				ep := sm.Spec.Endpoints
				if len(ep) != 1 || ep[0].Port != "http" || ep[0].Path != "/metrics" || ep[0].Interval != "2m" || ep[0].ScrapeTimeout != "45s" ||
					len(ep[0].RelabelConfigs) != 1 || ep[0].RelabelConfigs[0].TargetLabel != "node" ||
					len(ep[0].MetricRelabelConfigs) != 1 || ep[0].MetricRelabelConfigs[0].Action != "drop" {
					t.Errorf("ServiceMonitor endpoints %+v", ep)
				}
				if ep[0].Scheme != nil || ep[0].TLSConfig != nil || ep[0].BasicAuth != nil || sm.Spec.SampleLimit != nil || sm.Spec.TargetLimit != nil {
					t.Errorf("ServiceMonitor sets a scheme, TLS, basic auth or a limit nobody asked for: %+v", sm.Spec)
				}

				pr := one[*monitoringv1.PrometheusRule](t, r)
				if pr.Namespace != "prometheus" || pr.Labels["release"] != "kube-prometheus-stack" || pr.Labels["role"] != "alert-rules" {
					t.Errorf("PrometheusRule namespace %q labels %v", pr.Namespace, pr.Labels)
				}
				checkRules(t, r, rules["groups"])

				checkDashboard(t, r, dashboard)
				checkConfigSecret(t, r, values(t, allOn)["config"].(map[string]any))
				if strings.Contains(r.notes, "no account is configured") {
					t.Errorf("NOTES warn about a missing account although two are set")
				}
			},
		},
		{
			name:   "existingSecret",
			values: []string{"existingSecret: {name: twilio-exporter-config, key: exporter.yml}\nconfig: {accounts: [{name: ignored}]}\n"},
			wantKinds: []string{
				testPod, "Deployment/" + fullname, "Service/" + fullname, "ServiceAccount/" + fullname,
			},
			check: func(t *testing.T, r *rendering) {
				d := one[*appsv1.Deployment](t, r)
				c := d.Spec.Template.Spec.Containers[0]
				if c.Args[0] != "--config.file=/etc/twilio-trusthub-exporter/exporter.yml" {
					t.Errorf("args %q", c.Args)
				}
				v := d.Spec.Template.Spec.Volumes[0]
				if v.Secret == nil || v.Secret.SecretName != "twilio-exporter-config" || len(v.Secret.Items) != 0 {
					t.Errorf("config volume %+v, want the whole Secret twilio-exporter-config", v)
				}
				if _, ok := d.Spec.Template.Annotations["checksum/config"]; ok {
					t.Errorf("checksum/config of a Secret the chart does not see")
				}
				if strings.Contains(r.notes, "no account is configured") {
					t.Errorf("NOTES warn about a missing account although existingSecret is set")
				}
			},
		},
		{
			name:   "custom runbook base URL",
			values: []string{"prometheusRule: {enabled: true, runbookBaseURL: " + customRunbooks + "}\n"},
			wantKinds: []string{
				testPod, "Deployment/" + fullname, "PrometheusRule/" + fullname, "Secret/" + fullname, "Service/" + fullname, "ServiceAccount/" + fullname,
			},
			check: func(t *testing.T, r *rendering) {
				want := replaceStrings(rules["groups"], defaultRunbooks, customRunbooks)
				checkRules(t, r, want)
				if strings.Contains(r.manifest, defaultRunbooks) {
					t.Errorf("the default runbook base is still in the rendered rules")
				}
				checkRunbookURLs(t, one[*monitoringv1.PrometheusRule](t, r), customRunbooks)
			},
		},
		{
			name:      "no ServiceAccount, image digest, maxUnavailable",
			values:    []string{"serviceAccount: {create: false, name: shared}\nimage: {digest: 'sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'}\npodDisruptionBudget: {enabled: true, maxUnavailable: 1}\n"},
			wantKinds: []string{testPod, "Deployment/" + fullname, "PodDisruptionBudget/" + fullname, "Secret/" + fullname, "Service/" + fullname},
			check: func(t *testing.T, r *rendering) {
				d := one[*appsv1.Deployment](t, r)
				if d.Spec.Template.Spec.ServiceAccountName != "shared" {
					t.Errorf("serviceAccountName %q", d.Spec.Template.Spec.ServiceAccountName)
				}
				if img := d.Spec.Template.Spec.Containers[0].Image; img != "ghcr.io/twilio-trusthub-exporter/twilio_trusthub_exporter@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" {
					t.Errorf("image %q", img)
				}
				pdb := one[*policyv1.PodDisruptionBudget](t, r)
				if pdb.Spec.MaxUnavailable == nil || pdb.Spec.MaxUnavailable.IntValue() != 1 || pdb.Spec.MinAvailable != nil {
					t.Errorf("PodDisruptionBudget %+v", pdb.Spec)
				}
			},
		},
		{
			name:   "sharded scrape config",
			values: []string{"shardedScrapeConfig: {enabled: true, shards: [shard-0.example:10311, shard-1.example:10311]}\n"},
			wantKinds: []string{
				testPod, "Deployment/" + fullname, "Secret/" + fullname, "Secret/" + fullname + "-scrape-config", "Service/" + fullname, "ServiceAccount/" + fullname,
			},
			check: func(t *testing.T, r *rendering) {
				checkScrapeConfig(t, r, "shard-0.example:10311", "shard-1.example:10311")
			},
		},
		{
			name:   "sharded, with the ServiceMonitor: each pod's own metrics",
			values: []string{"shardedScrapeConfig: {enabled: true}\nserviceMonitor: {enabled: true}\n"},
			wantKinds: []string{
				testPod, "Deployment/" + fullname, "Secret/" + fullname, "Secret/" + fullname + "-scrape-config", "Service/" + fullname, "ServiceAccount/" + fullname,
				"ServiceMonitor/" + fullname,
			},
			check: func(t *testing.T, r *rendering) {
				if ep := one[*monitoringv1.ServiceMonitor](t, r).Spec.Endpoints; len(ep) != 1 || ep[0].Path != "/exporter-metrics" {
					t.Errorf("ServiceMonitor endpoints %+v, want /exporter-metrics: /metrics lists every account on every pod", ep)
				}
			},
		},
		{
			name:   "sharded scrape config, one shard by default",
			values: []string{"shardedScrapeConfig: {enabled: true}\n"},
			wantKinds: []string{
				testPod, "Deployment/" + fullname, "Secret/" + fullname, "Secret/" + fullname + "-scrape-config", "Service/" + fullname, "ServiceAccount/" + fullname,
			},
			check: func(t *testing.T, r *rendering) {
				checkScrapeConfig(t, r, fullname+"."+namespace+".svc:10311")
			},
		},
		{
			name:   "sharded scrape config as a ScrapeConfig",
			values: []string{"shardedScrapeConfig: {enabled: true, resource: ScrapeConfig, namespace: prometheus, additionalLabels: {release: kube-prometheus-stack}, shards: [shard-0.example:10311, shard-1.example:10311]}\n"},
			wantKinds: []string{
				"Deployment/" + fullname, testPod, "ScrapeConfig/" + fullname, "Secret/" + fullname, "Service/" + fullname, "ServiceAccount/" + fullname,
			},
			check: func(t *testing.T, r *rendering) {
				checkScrapeConfig(t, r, "shard-0.example:10311", "shard-1.example:10311")
				sc := one[*monitoringv1alpha1.ScrapeConfig](t, r)
				if sc.Namespace != "prometheus" || sc.Labels["release"] != "kube-prometheus-stack" {
					t.Errorf("ScrapeConfig namespace %q labels %v", sc.Namespace, sc.Labels)
				}
			},
		},
		{
			name: "ServiceMonitor over TLS with basic auth and limits",
			values: []string{`serviceMonitor:
  enabled: true
  scheme: https
  tlsConfig: {ca: {secret: {name: exporter-tls, key: ca.crt}}, serverName: exporter.example}
  basicAuth: {secretName: exporter-basic-auth, passwordKey: pass}
  sampleLimit: 200000
  targetLimit: 4
`},
			wantKinds: []string{
				"Deployment/" + fullname, testPod, "Secret/" + fullname, "Service/" + fullname, "ServiceAccount/" + fullname, "ServiceMonitor/" + fullname,
			},
			check: func(t *testing.T, r *rendering) {
				sm := one[*monitoringv1.ServiceMonitor](t, r)
				if sm.Spec.SampleLimit == nil || *sm.Spec.SampleLimit != 200000 || sm.Spec.TargetLimit == nil || *sm.Spec.TargetLimit != 4 {
					t.Errorf("sampleLimit %v targetLimit %v, want 200000 and 4", sm.Spec.SampleLimit, sm.Spec.TargetLimit)
				}
				ep := sm.Spec.Endpoints[0]
				if ep.Scheme == nil || !strings.EqualFold(string(*ep.Scheme), "https") {
					t.Errorf("scheme %v, want https", ep.Scheme)
				}
				if tc := ep.TLSConfig; tc == nil || tc.CA.Secret == nil || tc.CA.Secret.Name != "exporter-tls" || tc.CA.Secret.Key != "ca.crt" ||
					tc.ServerName == nil || *tc.ServerName != "exporter.example" {
					t.Errorf("tlsConfig %+v", ep.TLSConfig)
				}
				if ba := ep.BasicAuth; ba == nil || ba.Username.Name != "exporter-basic-auth" || ba.Username.Key != "username" ||
					ba.Password.Name != "exporter-basic-auth" || ba.Password.Key != "pass" {
					t.Errorf("basicAuth %+v, want exporter-basic-auth's username and pass", ep.BasicAuth)
				}
			},
		},
		{
			name: "auth.existingSecret",
			values: []string{`config:
  accounts:
    - {name: main, account_sid: AC00000000000000000000000000000001}
    - {name: keyed, account_sid: AC00000000000000000000000000000002, api_key: SK00000000000000000000000000000002}
    - {name: own, account_sid: AC00000000000000000000000000000003, auth_token_file: /etc/twilio-trusthub-exporter-auth/own_token}
auth: {existingSecret: twilio-auth, apiSecretKey: api_secret}
`},
			wantKinds: []string{
				"Deployment/" + fullname, testPod, "Secret/" + fullname, "Service/" + fullname, "ServiceAccount/" + fullname,
			},
			check: func(t *testing.T, r *rendering) {
				const dir = "/etc/twilio-trusthub-exporter-auth"
				checkConfigSecret(t, r, map[string]any{"accounts": []any{
					map[string]any{"name": "main", "account_sid": "AC00000000000000000000000000000001", "auth_token_file": dir + "/auth_token"},
					map[string]any{"name": "keyed", "account_sid": "AC00000000000000000000000000000002", "api_key": "SK00000000000000000000000000000002", "api_secret_file": dir + "/api_secret"},
					map[string]any{"name": "own", "account_sid": "AC00000000000000000000000000000003", "auth_token_file": dir + "/own_token"},
				}})
				pod := one[*appsv1.Deployment](t, r).Spec.Template.Spec
				var vol *corev1.Volume
				for i := range pod.Volumes {
					if pod.Volumes[i].Name == "auth" {
						vol = &pod.Volumes[i]
					}
				}
				if vol == nil || vol.Secret == nil || vol.Secret.SecretName != "twilio-auth" || len(vol.Secret.Items) != 0 {
					t.Fatalf("auth volume %+v, want the whole Secret twilio-auth", vol)
				}
				var mounted bool
				for _, m := range pod.Containers[0].VolumeMounts {
					mounted = mounted || (m.Name == "auth" && m.MountPath == dir && m.ReadOnly && m.SubPath == "")
				}
				if !mounted {
					t.Errorf("auth volume not mounted read-only as a directory at %s: %+v", dir, pod.Containers[0].VolumeMounts)
				}
			},
		},
		{
			name: "commonLabels, namespaceOverride, strategy, revisionHistoryLimit",
			values: []string{`namespaceOverride: exporters
commonLabels: {example.com/team: messaging, example.com/cost-centre: "42"}
strategy: {type: Recreate}
revisionHistoryLimit: 3
serviceMonitor: {enabled: true}
prometheusRule: {enabled: true}
grafanaDashboard: {enabled: true}
shardedScrapeConfig: {enabled: true}
podDisruptionBudget: {enabled: true}
networkPolicy: {enabled: true}
ingress: {enabled: true}
`},
			wantKinds: []string{
				"ConfigMap/" + fullname + "-dashboard", "Deployment/" + fullname, "Ingress/" + fullname, "NetworkPolicy/" + fullname, testPod,
				"PodDisruptionBudget/" + fullname, "PrometheusRule/" + fullname, "Secret/" + fullname, "Secret/" + fullname + "-scrape-config",
				"Service/" + fullname, "ServiceAccount/" + fullname, "ServiceMonitor/" + fullname,
			},
			check: func(t *testing.T, r *rendering) {
				for _, o := range r.objs {
					if ns := objectMeta(o.typed).Namespace; ns != "exporters" {
						t.Errorf("%s %s in namespace %q, want exporters", o.kind, o.name, ns)
					}
				}
				sm := one[*monitoringv1.ServiceMonitor](t, r)
				if !reflect.DeepEqual(sm.Spec.NamespaceSelector.MatchNames, []string{"exporters"}) {
					t.Errorf("ServiceMonitor looks for the Service in %v, want [exporters]", sm.Spec.NamespaceSelector.MatchNames)
				}
				checkScrapeConfig(t, r, fullname+".exporters.svc:10311")
				d := one[*appsv1.Deployment](t, r)
				if d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType || d.Spec.RevisionHistoryLimit == nil || *d.Spec.RevisionHistoryLimit != 3 {
					t.Errorf("strategy %+v revisionHistoryLimit %v", d.Spec.Strategy, d.Spec.RevisionHistoryLimit)
				}
				if !strings.Contains(r.notes, "namespace exporters") || strings.Contains(r.notes, "kubectl -n "+namespace) {
					t.Errorf("NOTES do not name namespace exporters:\n%s", r.notes)
				}
			},
		},
		{
			name: "networkPolicy and ingress",
			values: []string{`networkPolicy:
  enabled: true
  ingressFrom: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: prometheus}}}]
ingress:
  enabled: true
  className: nginx
  annotations: {nginx.ingress.kubernetes.io/auth-type: basic}
  hosts: [{host: exporter.example.com, paths: [{path: /, pathType: Exact}]}, {paths: [{path: /metrics, pathType: Prefix}]}]
  tls: [{hosts: [exporter.example.com], secretName: exporter-tls}]
`},
			wantKinds: []string{
				"Deployment/" + fullname, "Ingress/" + fullname, "NetworkPolicy/" + fullname, testPod, "Secret/" + fullname,
				"Service/" + fullname, "ServiceAccount/" + fullname,
			},
			check: func(t *testing.T, r *rendering) {
				d := one[*appsv1.Deployment](t, r)
				np := one[*networkingv1.NetworkPolicy](t, r)
				if !reflect.DeepEqual(np.Spec.PodSelector.MatchLabels, d.Spec.Selector.MatchLabels) {
					t.Errorf("NetworkPolicy selects %v, not the exporter's pods %v", np.Spec.PodSelector.MatchLabels, d.Spec.Selector.MatchLabels)
				}
				in := np.Spec.Ingress
				if len(in) != 1 || len(in[0].Ports) != 1 || in[0].Ports[0].Port.String() != "http" || len(in[0].From) != 1 ||
					in[0].From[0].NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"] != "prometheus" {
					t.Errorf("NetworkPolicy ingress %+v, want port http from namespace prometheus", in)
				}
				if got := fmt.Sprint(np.Spec.PolicyTypes); got != "[Ingress Egress]" {
					t.Errorf("policyTypes %s", got)
				}
				var ports []string
				for _, e := range np.Spec.Egress {
					if len(e.To) != 0 {
						t.Errorf("egress rule %+v is limited to peers; Twilio has no fixed addresses", e)
					}
					for _, p := range e.Ports {
						ports = append(ports, fmt.Sprintf("%s/%s", *p.Protocol, p.Port))
					}
				}
				if got := strings.Join(ports, " "); got != "UDP/53 TCP/53 TCP/443" {
					t.Errorf("egress ports %s, want DNS and HTTPS", got)
				}

				ing := one[*networkingv1.Ingress](t, r)
				if ing.Spec.IngressClassName == nil || *ing.Spec.IngressClassName != "nginx" || ing.Annotations["nginx.ingress.kubernetes.io/auth-type"] != "basic" ||
					len(ing.Spec.TLS) != 1 || ing.Spec.TLS[0].SecretName != "exporter-tls" || len(ing.Spec.Rules) != 2 {
					t.Fatalf("Ingress %+v", ing.Spec)
				}
				var routes []string
				for _, rule := range ing.Spec.Rules {
					for _, p := range rule.HTTP.Paths {
						if b := p.Backend.Service; b == nil || b.Name != fullname || b.Port.Name != "http" {
							t.Errorf("path %s goes to %+v, want the Service's http port", p.Path, p.Backend)
						}
						routes = append(routes, fmt.Sprintf("%s%s(%s)", rule.Host, p.Path, *p.PathType))
					}
				}
				if got := strings.Join(routes, " "); got != "exporter.example.com/(Exact) /metrics(Prefix)" {
					t.Errorf("routes %s", got)
				}
			},
		},
		{
			name:   "networkPolicy without egress rules leaves egress open",
			values: []string{"networkPolicy: {enabled: true, egress: []}\n"},
			wantKinds: []string{
				"Deployment/" + fullname, "NetworkPolicy/" + fullname, testPod, "Secret/" + fullname, "Service/" + fullname, "ServiceAccount/" + fullname,
			},
			check: func(t *testing.T, r *rendering) {
				np := one[*networkingv1.NetworkPolicy](t, r)
				if got := fmt.Sprint(np.Spec.PolicyTypes); got != "[Ingress]" || len(np.Spec.Egress) != 0 {
					t.Errorf("policyTypes %s egress %+v, want Ingress alone", got, np.Spec.Egress)
				}
				if in := np.Spec.Ingress; len(in) != 1 || len(in[0].From) != 0 {
					t.Errorf("ingress %+v, want the port open to anyone", in)
				}
			},
		},
		{
			name: "extraManifests, as a map and as a string, through tpl; no test pod",
			values: []string{`test: {enabled: false}
extraManifests:
  - {apiVersion: v1, kind: ConfigMap, metadata: {name: '{{ .Release.Name }}-extra'}, data: {a: b}}
  - |
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: {{ include "twilio-trusthub-exporter.fullname" . }}-extra
      namespace: {{ .Release.Namespace }}
`},
			wantKinds: []string{
				"ConfigMap/" + fullname + "-extra", "ConfigMap/" + release + "-extra", "Deployment/" + fullname, "Secret/" + fullname,
				"Service/" + fullname, "ServiceAccount/" + fullname,
			},
			check: func(t *testing.T, r *rendering) {
				for _, o := range r.objs {
					if o.kind == "ConfigMap" && !o.fromExtraManifests() {
						t.Errorf("ConfigMap %s does not come from extra-manifests.yaml but %s", o.name, o.source)
					}
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := render(t, ch, values(t, tc.values...))
			want := append([]string(nil), tc.wantKinds...)
			sort.Strings(want)
			if got := kindsOf(r); !reflect.DeepEqual(got, want) {
				t.Errorf("rendered %v, want %v", got, want)
			}
			checkCommon(t, r)
			tc.check(t, r)
		})
	}
}

// checkScrapeConfig checks the sharded scrape job, in the Secret or the
// ScrapeConfig, whichever was rendered: the accounts discovered at the first
// shard, probed on their shard with the relabelling of
// examples/prometheus-sharded.yml (its addresses replaced by the shards',
// its modulus by their number).
func checkScrapeConfig(t *testing.T, r *rendering, shards ...string) {
	t.Helper()
	job := shardedJob(t, r)
	if job["job_name"] != "twilio-trusthub" || job["metrics_path"] != "/probe" || job["scrape_interval"] != "1m" || job["scrape_timeout"] != "30s" {
		t.Errorf("scrape job %v", job)
	}
	if got, want := fmt.Sprint(job["http_sd_configs"]), "[map[url:http://"+shards[0]+"/accounts]]"; got != want {
		t.Errorf("http_sd_configs %s, want %s", got, want)
	}

	var example struct {
		ScrapeConfigs []struct {
			RelabelConfigs []map[string]any `yaml:"relabel_configs"`
		} `yaml:"scrape_configs"`
	}
	if err := yamlv3.Unmarshal(readFile(t, "../examples/prometheus-sharded.yml"), &example); err != nil {
		t.Fatal(err)
	}
	var want []map[string]any
	for _, rc := range example.ScrapeConfigs[0].RelabelConfigs {
		switch {
		case rc["action"] == "hashmod":
			rc["modulus"] = len(shards)
		case rc["replacement"] == "exporter-0:10311":
			for i, addr := range shards {
				want = append(want, map[string]any{"source_labels": rc["source_labels"], "regex": strconv.Itoa(i), "target_label": "__address__", "replacement": addr})
			}
			continue
		case rc["replacement"] != nil:
			continue // the example's other replicas
		}
		want = append(want, rc)
	}
	if got := toGeneric(t, job["relabel_configs"]); !reflect.DeepEqual(got, toGeneric(t, want)) {
		t.Errorf("relabel_configs\n%v\nwant, as in examples/prometheus-sharded.yml,\n%v", got, want)
	}
}

// shardedJob returns the sharded scrape job as Prometheus reads it, from
// the Secret's scrape-configs.yaml or from the typed ScrapeConfig, the
// Operator's names turned into Prometheus' (sourceLabels is source_labels).
// Exactly one of the two must be rendered.
func shardedJob(t *testing.T, r *rendering) map[string]any {
	t.Helper()
	var secrets []*corev1.Secret
	var scs []*monitoringv1alpha1.ScrapeConfig
	for _, o := range r.objs {
		switch x := o.typed.(type) {
		case *corev1.Secret:
			if o.name == fullname+"-scrape-config" {
				secrets = append(secrets, x)
			}
		case *monitoringv1alpha1.ScrapeConfig:
			scs = append(scs, x)
		}
	}
	switch {
	case len(secrets) == 1 && len(scs) == 0:
		s := secrets[0]
		text, ok := s.StringData["scrape-configs.yaml"]
		if !ok || len(s.StringData) != 1 || len(s.Data) != 0 {
			t.Fatalf("scrape config Secret keys: stringData %v data %v, want scrape-configs.yaml alone", mapKeys(s.StringData), mapKeys(s.Data))
		}
		var jobs []map[string]any
		if err := yamlv3.Unmarshal([]byte(text), &jobs); err != nil {
			t.Fatalf("scrape-configs.yaml: %v\n%s", err, text)
		}
		if len(jobs) != 1 {
			t.Fatalf("%d scrape jobs, want 1:\n%s", len(jobs), text)
		}
		return jobs[0]
	case len(scs) == 1 && len(secrets) == 0:
		spec := scs[0].Spec
		if spec.JobName == nil || spec.MetricsPath == nil || spec.ScrapeInterval == nil || spec.ScrapeTimeout == nil || len(spec.HTTPSDConfigs) != 1 {
			t.Fatalf("ScrapeConfig spec incomplete: %+v", spec)
		}
		names := strings.NewReplacer("sourceLabels", "source_labels", "targetLabel", "target_label")
		var relabel []any
		for _, rc := range toGeneric(t, spec.RelabelConfigs).([]any) {
			m := map[string]any{}
			for k, v := range rc.(map[string]any) {
				m[names.Replace(k)] = v
			}
			relabel = append(relabel, m)
		}
		return map[string]any{
			"job_name":        *spec.JobName,
			"metrics_path":    *spec.MetricsPath,
			"scrape_interval": string(*spec.ScrapeInterval),
			"scrape_timeout":  string(*spec.ScrapeTimeout),
			"http_sd_configs": []any{map[string]any{"url": string(spec.HTTPSDConfigs[0].URL)}},
			"relabel_configs": relabel,
		}
	}
	t.Fatalf("%d scrape config Secrets and %d ScrapeConfigs, want one of either", len(secrets), len(scs))
	return nil
}

// checkCommon checks what holds with any values: security, probes, the
// namespaces, the labels that tie the objects together, and that no
// credential leaves the Secret.
func checkCommon(t *testing.T, r *rendering) {
	t.Helper()
	commonLabels, _ := r.values["commonLabels"].(map[string]any)
	for _, o := range r.objs {
		m := objectMeta(o.typed)
		switch {
		case o.fromExtraManifests(): // the user's own
		case o.kind == "ServiceMonitor", o.kind == "PrometheusRule", o.kind == "ConfigMap", o.kind == "ScrapeConfig",
			o.name == fullname+"-scrape-config": // may be elsewhere; checked per case
		default:
			if m.Namespace != r.namespace {
				t.Errorf("%s %s in namespace %q, want %q", o.kind, o.name, m.Namespace, r.namespace)
			}
		}
		if !o.fromExtraManifests() {
			if m.Labels["helm.sh/chart"] == "" || m.Labels["app.kubernetes.io/managed-by"] != "Helm" {
				t.Errorf("%s %s lacks the chart's labels: %v", o.kind, o.name, m.Labels)
			}
			for k, v := range commonLabels {
				if m.Labels[k] != v {
					t.Errorf("%s %s: label %s=%q, want commonLabels' %q", o.kind, o.name, k, m.Labels[k], v)
				}
			}
		}
		if o.kind == "ConfigMap" && (bytes.Contains(o.raw, []byte("auth_token")) || bytes.Contains(o.raw, []byte("account_sid"))) {
			t.Errorf("ConfigMap %s holds configuration:\n%s", o.name, o.raw)
		}
		if o.kind == "Secret" {
			continue
		}
		if bytes.Contains(o.raw, []byte(plantedToken)) {
			t.Errorf("%s %s holds the auth token", o.kind, o.name)
		}
	}
	if strings.Contains(r.manifest, plantedToken) || strings.Contains(r.hooks, plantedToken) || strings.Contains(r.notes, plantedToken) {
		t.Errorf("the auth token appears in clear text in the manifests, the hooks or the NOTES")
	}

	d := one[*appsv1.Deployment](t, r)
	pod := d.Spec.Template.Spec
	if !selects(d.Spec.Selector.MatchLabels, d.Spec.Template.Labels) {
		t.Errorf("the Deployment's selector %v does not select its pods %v", d.Spec.Selector.MatchLabels, d.Spec.Template.Labels)
	}
	svc := one[*corev1.Service](t, r)
	if !selects(svc.Spec.Selector, d.Spec.Template.Labels) {
		t.Errorf("the Service's selector %v does not select the pods %v", svc.Spec.Selector, d.Spec.Template.Labels)
	}
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Name != "http" || svc.Spec.Ports[0].Port != 10311 || svc.Spec.Ports[0].TargetPort.String() != "http" {
		t.Errorf("Service ports %+v", svc.Spec.Ports)
	}
	for k, v := range commonLabels {
		if d.Spec.Template.Labels[k] != v {
			t.Errorf("pod label %s=%q, want commonLabels' %q", k, d.Spec.Template.Labels[k], v)
		}
		if _, ok := d.Spec.Selector.MatchLabels[k]; ok {
			t.Errorf("commonLabels' %s is in the Deployment's selector, which cannot change", k)
		}
	}
	checkTestPod(t, r, d)

	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Errorf("the pods mount a Kubernetes API token they do not need")
	}
	ps := pod.SecurityContext
	if ps == nil || !isTrue(ps.RunAsNonRoot) || !is(ps.RunAsUser, 65532) || !is(ps.RunAsGroup, 65532) || !is(ps.FSGroup, 65532) ||
		ps.SeccompProfile == nil || ps.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod securityContext %+v", ps)
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Containers))
	}
	c := pod.Containers[0]
	sc := c.SecurityContext
	if sc == nil || !isTrue(sc.RunAsNonRoot) || !is(sc.RunAsUser, 65532) || !is(sc.RunAsGroup, 65532) ||
		!isTrue(sc.ReadOnlyRootFilesystem) || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.Capabilities == nil || !reflect.DeepEqual(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) != 0 ||
		sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("container securityContext %+v", sc)
	}
	for _, p := range []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{{"liveness", c.LivenessProbe, "/-/healthy"}, {"readiness", c.ReadinessProbe, "/-/ready"}} {
		if p.probe == nil || p.probe.HTTPGet == nil || p.probe.HTTPGet.Path != p.path || p.probe.HTTPGet.Port.String() != "http" {
			t.Errorf("%s probe %+v, want GET %s on port http", p.name, p.probe, p.path)
		}
	}
	if len(c.Ports) != 1 || c.Ports[0].Name != "http" || c.Ports[0].ContainerPort != 10311 {
		t.Errorf("container ports %+v", c.Ports)
	}
	for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if _, ok := c.Resources.Requests[res]; !ok {
			t.Errorf("no %s request", res)
		}
		if _, ok := c.Resources.Limits[res]; !ok {
			t.Errorf("no %s limit", res)
		}
	}
	if c.Resources.Limits.Memory().Cmp(*c.Resources.Requests.Memory()) < 0 {
		t.Errorf("memory limit below the request")
	}
	if v := pod.Volumes[0]; v.Name != "config" || v.Secret == nil || v.Secret.DefaultMode == nil || *v.Secret.DefaultMode != 0o440 {
		t.Errorf("config volume %+v, want a Secret with mode 0440", v)
	}
	// The configuration Secret is mounted as a directory: a subPath mount
	// would never see an updated Secret.
	if len(c.VolumeMounts) == 0 || c.VolumeMounts[0].Name != "config" || c.VolumeMounts[0].SubPath != "" || !c.VolumeMounts[0].ReadOnly ||
		!strings.HasPrefix(c.Args[0], "--config.file="+c.VolumeMounts[0].MountPath+"/") {
		t.Errorf("config mount %+v, args %q", c.VolumeMounts, c.Args)
	}
}

// checkConfigSecret checks that the Secret's config.yml is the values'
// config, that the pods' checksum is its hash, and, when it has accounts,
// that the exporter itself accepts it.
func checkConfigSecret(t *testing.T, r *rendering, want map[string]any) {
	t.Helper()
	s := one[*corev1.Secret](t, r)
	data, ok := s.Data["config.yml"]
	if !ok || len(s.Data) != 1 || len(s.StringData) != 0 {
		t.Fatalf("Secret keys: data %v stringData %v, want config.yml alone", mapKeys(s.Data), s.StringData)
	}
	if got := asGeneric(t, data); !reflect.DeepEqual(got, toGeneric(t, want)) {
		t.Errorf("config.yml in the Secret\n%s\nis not the values' config %v", data, want)
	}
	d := one[*appsv1.Deployment](t, r)
	sum := sha256.Sum256(data)
	if got := d.Spec.Template.Annotations["checksum/config"]; got != hex.EncodeToString(sum[:]) {
		t.Errorf("checksum/config %q is not the sha256 of the Secret's config.yml", got)
	}
	if accounts, _ := want["accounts"].([]any); len(accounts) == 0 {
		return
	}
	// The exporter's own strict loader: the file must not just be YAML but
	// a configuration it starts with. *_file paths must exist; they name
	// files mounted from elsewhere, so empty stand-ins are made for them.
	dir := t.TempDir()
	text := string(data)
	for _, a := range want["accounts"].([]any) {
		for _, k := range []string{"auth_token_file", "api_secret_file"} {
			if p, ok := a.(map[string]any)[k].(string); ok {
				local := filepath.Join(dir, filepath.Base(p))
				if err := os.WriteFile(local, []byte("stand-in\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				text = strings.ReplaceAll(text, p, local)
			}
		}
	}
	if _, err := config.Parse(strings.NewReader(text), dir); err != nil {
		t.Errorf("the exporter refuses the configuration the chart renders: %v", err)
	}
}

// checkRules checks that the PrometheusRule's groups are the rules file's
// (want), key for key, Prometheus' own templates included.
func checkRules(t *testing.T, r *rendering, want any) {
	t.Helper()
	var pr *obj
	for i := range r.objs {
		if r.objs[i].kind == "PrometheusRule" {
			pr = &r.objs[i]
		}
	}
	if pr == nil {
		t.Fatal("no PrometheusRule")
	}
	spec, _ := asGeneric(t, pr.raw)["spec"].(map[string]any)
	if got := spec["groups"]; !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", "  ")
		w, _ := json.MarshalIndent(want, "", "  ")
		t.Errorf("PrometheusRule groups differ from %s:\ngot  %s\nwant %s", rulesFile, g, w)
	}
	// Also through the typed object: what the Operator will read.
	typed := toGeneric(t, pr.typed.(*monitoringv1.PrometheusRule).Spec.Groups)
	if !reflect.DeepEqual(typed, want) {
		t.Errorf("the typed PrometheusRule's groups differ from %s", rulesFile)
	}
	if !bytes.Contains(pr.raw, []byte("{{ $labels.sid }}")) {
		t.Errorf("no Prometheus template ({{ $labels.sid }}) left in the rules: did Helm interpret them?")
	}
}

// checkRunbookURLs checks every runbook_url of the rules against base.
func checkRunbookURLs(t *testing.T, pr *monitoringv1.PrometheusRule, base string) {
	t.Helper()
	n := 0
	for _, g := range pr.Spec.Groups {
		for _, rule := range g.Rules {
			u, ok := rule.Annotations["runbook_url"]
			if !ok {
				continue
			}
			n++
			if want := base + "#" + strings.ToLower(rule.Alert); u != want {
				t.Errorf("%s: runbook_url %q, want %q", rule.Alert, u, want)
			}
		}
	}
	if n == 0 {
		t.Errorf("no alert in %s has a runbook_url annotation: the base URL replacement is untested", rulesFile)
	}
}

func checkDashboard(t *testing.T, r *rendering, want []byte) {
	t.Helper()
	cm := one[*corev1.ConfigMap](t, r)
	if cm.Namespace != "grafana" || cm.Labels["grafana_dashboard"] != "1" || cm.Labels["team"] != "messaging" || cm.Annotations["grafana_folder"] != "Twilio" {
		t.Errorf("dashboard ConfigMap namespace %q labels %v annotations %v", cm.Namespace, cm.Labels, cm.Annotations)
	}
	// Byte for byte, but for the final newline, which a YAML block scalar
	// always ends with.
	if got := cm.Data["twilio_trusthub.json"]; len(cm.Data) != 1 || strings.TrimRight(got, "\n") != strings.TrimRight(string(want), "\n") {
		t.Errorf("the dashboard ConfigMap's twilio_trusthub.json is not %s (keys %v)", dashFile, mapKeys(cm.Data))
	}
	if !json.Valid([]byte(cm.Data["twilio_trusthub.json"])) {
		t.Errorf("the dashboard is not JSON")
	}
}

// TestConfigChecksum checks that a change of the configuration changes the
// pods' checksum annotation, so that the pods roll, and that the same
// configuration keeps it.
func TestConfigChecksum(t *testing.T) {
	ch := loadChart(t)
	checksum := func(doc string) string {
		d := one[*appsv1.Deployment](t, render(t, ch, values(t, doc)))
		return d.Spec.Template.Annotations["checksum/config"]
	}
	base := "config: {cache_ttl: 5m, accounts: [{name: a, account_sid: AC00000000000000000000000000000001, auth_token: x}]}\n"
	for _, tc := range []struct {
		name, doc string
		same      bool
	}{
		{"same configuration", base, true},
		{"same configuration, other values", base + "replicaCount: 3\nextraArgs: [--log.level=debug]\n", true},
		{"another cache_ttl", strings.Replace(base, "5m", "10m", 1), false},
		{"another token", strings.Replace(base, "auth_token: x", "auth_token: y", 1), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := checksum(base), checksum(tc.doc)
			if a == "" || b == "" {
				t.Fatal("no checksum/config annotation")
			}
			if (a == b) != tc.same {
				t.Errorf("checksum %s before, %s after; same: %v, want %v", a, b, a == b, tc.same)
			}
		})
	}
}

// TestRunbookBaseReplacement feeds the chart a rules file of its own, so the
// replacement is proven whatever the repository's rules hold today.
func TestRunbookBaseReplacement(t *testing.T) {
	const rules = `groups:
  - name: g
    rules:
      - alert: SomeAlert
        expr: up == 0
        annotations:
          summary: '{{ $labels.instance }} is down'
          runbook_url: ` + defaultRunbooks + `#somealert
`
	for _, tc := range []struct {
		name, values, want string
	}{
		{"default", "", defaultRunbooks + "#somealert"},
		{"custom", "prometheusRule: {runbookBaseURL: '" + customRunbooks + "'}\n", customRunbooks + "#somealert"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ch := loadChart(t)
			replaced := false
			for _, f := range ch.Files {
				if f.Name == "files/twilio_trusthub.rules.yml" {
					f.Data = []byte(rules)
					replaced = true
				}
			}
			if !replaced {
				t.Fatal("the chart has no files/twilio_trusthub.rules.yml")
			}
			r := render(t, ch, values(t, "prometheusRule: {enabled: true}\n", tc.values))
			rule := one[*monitoringv1.PrometheusRule](t, r).Spec.Groups[0].Rules[0]
			if got := rule.Annotations["runbook_url"]; got != tc.want {
				t.Errorf("runbook_url %q, want %q", got, tc.want)
			}
			if got := rule.Annotations["summary"]; got != "{{ $labels.instance }} is down" {
				t.Errorf("summary %q: the Prometheus template did not pass through unchanged", got)
			}
		})
	}
}

// TestRenderRefuses checks the chart's own errors.
func TestRenderRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, file, content, want string
	}{
		{"rules missing", "files/twilio_trusthub.rules.yml", "", "files/twilio_trusthub.rules.yml is missing or empty"},
		{"rules not YAML", "files/twilio_trusthub.rules.yml", "groups: [\n", "files/twilio_trusthub.rules.yml: error"},
		{"dashboard missing", "files/twilio_trusthub.json", "", "files/twilio_trusthub.json is missing or empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ch := loadChart(t)
			for _, f := range ch.Files {
				if f.Name == tc.file {
					f.Data = []byte(tc.content)
				}
			}
			_, err := install(t, ch, values(t, "prometheusRule: {enabled: true}\ngrafanaDashboard: {enabled: true}\n"))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestRenderRefusesValues checks the chart's own errors for values the
// schema lets through.
func TestRenderRefusesValues(t *testing.T) {
	ch := loadChart(t)
	for _, tc := range []struct {
		name, values, want string
	}{
		{"commonLabels replacing a selector label", "commonLabels: {app.kubernetes.io/instance: other}\n",
			"commonLabels.app.kubernetes.io/instance: the chart's selector label cannot be overridden"},
		{"an api_key account with no apiSecretKey",
			"config: {accounts: [{name: keyed, account_sid: AC00000000000000000000000000000002, api_key: SK00000000000000000000000000000002}]}\nauth: {existingSecret: twilio-auth}\n",
			"config.accounts[0] has an api_key and no api_secret: set auth.apiSecretKey"},
		{"a token account with no tokenKey",
			"config: {accounts: [{name: main, account_sid: AC00000000000000000000000000000001}]}\nauth: {existingSecret: twilio-auth, tokenKey: ''}\n",
			"config.accounts[0] has no credential: set auth.tokenKey"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := install(t, ch, values(t, tc.values))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestImage checks the image reference each way of naming it gives.
func TestImage(t *testing.T) {
	ch := loadChart(t)
	const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	tag := ch.Metadata.AppVersion
	for _, tc := range []struct {
		name, values, want string
	}{
		{"default", "", "ghcr.io/twilio-trusthub-exporter/twilio_trusthub_exporter:" + tag},
		{"tag", "image: {tag: v2}\n", "ghcr.io/twilio-trusthub-exporter/twilio_trusthub_exporter:v2"},
		{"digest wins over the tag", "image: {tag: v2, digest: '" + digest + "'}\n", "ghcr.io/twilio-trusthub-exporter/twilio_trusthub_exporter@" + digest},
		{"registry replaces the repository's host", "image: {registry: registry.example.com}\n", "registry.example.com/twilio-trusthub-exporter/twilio_trusthub_exporter:" + tag},
		{"global.imageRegistry wins over image.registry", "global: {imageRegistry: 'mirror.example:5000'}\nimage: {registry: registry.example.com}\n",
			"mirror.example:5000/twilio-trusthub-exporter/twilio_trusthub_exporter:" + tag},
		{"registry before a repository without a host", "image: {registry: registry.example.com, repository: team/exporter}\n", "registry.example.com/team/exporter:" + tag},
		{"localhost is a host", "image: {registry: registry.example.com, repository: localhost/exporter}\n", "registry.example.com/exporter:" + tag},
		{"a repository without a host, no registry", "image: {repository: team/exporter}\n", "team/exporter:" + tag},
		{"a repository of its own host, no registry", "image: {repository: 'registry.example.com:5000/team/exporter'}\n", "registry.example.com:5000/team/exporter:" + tag},
		{"registry with a digest", "image: {registry: registry.example.com, digest: '" + digest + "'}\n", "registry.example.com/twilio-trusthub-exporter/twilio_trusthub_exporter@" + digest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := render(t, ch, values(t, tc.values))
			if got := one[*appsv1.Deployment](t, r).Spec.Template.Spec.Containers[0].Image; got != tc.want {
				t.Errorf("image %q, want %q", got, tc.want)
			}
			checkCommon(t, r) // the test pod runs the same image
		})
	}
}

// TestChartMetadata checks Chart.yaml's kubeVersion (Helm refuses an older
// cluster with it), maintainers and icon (a file of this repository). That
// its description names every kind is checked with the exporter's other
// descriptions (docs_test.go, at the repository's root).
func TestChartMetadata(t *testing.T) {
	ch := loadChart(t)
	md := ch.Metadata
	if md.KubeVersion == "" || len(md.Maintainers) == 0 || md.Maintainers[0].Name == "" || md.Maintainers[0].URL == "" {
		t.Errorf("kubeVersion %q, maintainers %+v", md.KubeVersion, md.Maintainers)
	}
	const raw = "https://raw.githubusercontent.com/twilio-trusthub-exporter/twilio_trusthub_exporter/main/"
	icon, ok := strings.CutPrefix(md.Icon, raw)
	if !ok {
		t.Fatalf("icon %q is not a file of this repository (%s...)", md.Icon, raw)
	}
	var svg struct {
		XMLName xml.Name
	}
	if err := xml.Unmarshal(readFile(t, filepath.Join("..", icon)), &svg); err != nil || svg.XMLName.Local != "svg" {
		t.Errorf("%s is not an SVG image: %v %v", icon, svg.XMLName, err)
	}

	for _, tc := range []struct {
		version string
		ok      bool
	}{{"v1.20.15", false}, {"v1.21.0", true}, {"v1.35.0", true}} {
		in := action.NewInstall(&action.Configuration{Log: t.Logf})
		in.DryRun, in.ClientOnly, in.ReleaseName, in.Namespace = true, true, release, namespace
		kv, err := chartutil.ParseKubeVersion(tc.version)
		if err != nil {
			t.Fatal(err)
		}
		in.KubeVersion = kv
		_, err = in.Run(ch, values(t))
		if (err == nil) != tc.ok || (err != nil && !strings.Contains(err.Error(), "kubeVersion")) {
			t.Errorf("Kubernetes %s: error %v, want ok %v", tc.version, err, tc.ok)
		}
	}
}

// TestPackagedChart packages the chart as `helm package` does, loads the
// archive again and renders it: the symbolic links to the rules and the
// dashboard must be stored as their contents, and the packaged chart must
// render exactly as the directory does.
func TestPackagedChart(t *testing.T) {
	fromDir := loadChart(t)
	for _, name := range []string{"files/twilio_trusthub.rules.yml", "files/twilio_trusthub.json"} {
		fi, err := os.Lstat(filepath.Join(chartDir, name))
		if err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Errorf("%s is not a symbolic link (%v): the one source of truth is the repository's file", name, err)
		}
	}
	tgz, err := chartutil.Save(fromDir, t.TempDir())
	if err != nil {
		t.Fatalf("packaging: %v", err)
	}
	entries := tarEntries(t, tgz)
	for name, want := range map[string]string{
		"files/twilio_trusthub.rules.yml": rulesFile,
		"files/twilio_trusthub.json":      dashFile,
	} {
		e, ok := entries[fromDir.Name()+"/"+name]
		if !ok {
			t.Errorf("%s is not in the package", name)
			continue
		}
		if e.typeflag != tar.TypeReg || !bytes.Equal(e.data, readFile(t, want)) {
			t.Errorf("%s in the package is not a regular file holding %s", name, want)
		}
	}
	fromTgz, err := loader.Load(tgz)
	if err != nil {
		t.Fatalf("loading the package: %v", err)
	}
	vals := values(t, allOn)
	a, b := render(t, fromDir, vals), render(t, fromTgz, vals)
	if a.manifest != b.manifest {
		t.Errorf("the packaged chart renders differently from the directory")
	}
	if a.notes != b.notes {
		t.Errorf("the packaged chart's NOTES differ from the directory's")
	}
}

type tarEntry struct {
	typeflag byte
	data     []byte
}

func tarEntries(t *testing.T, path string) map[string]tarEntry {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(readFile(t, path)))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	entries := map[string]tarEntry{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return entries
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		entries[h.Name] = tarEntry{h.Typeflag, data}
	}
}

// TestLint runs Helm's lint, as `helm lint --strict` does: an error or a
// warning fails the test.
func TestLint(t *testing.T) {
	type lintCase struct {
		name   string
		values []string
	}
	cases := []lintCase{
		{"defaults", nil},
		{"every toggle on", []string{allOn}},
		{"existingSecret", []string{"existingSecret: {name: twilio-exporter-config}\n"}},
	}
	ci, err := filepath.Glob(filepath.Join(chartDir, "ci", "*-values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range ci {
		cases = append(cases, lintCase{filepath.Join("ci", filepath.Base(f)), []string{string(readFile(t, f))}})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := action.NewLint()
			l.Namespace = namespace
			l.Strict = true
			kv, err := chartutil.ParseKubeVersion(kubeVersion)
			if err != nil {
				t.Fatal(err)
			}
			l.KubeVersion = kv
			res := l.Run([]string{chartDir}, values(t, tc.values...))
			for _, m := range res.Messages {
				if m.Severity >= support.WarningSev {
					t.Errorf("lint: %s", m)
				} else {
					t.Logf("lint: %s", m)
				}
			}
			for _, err := range res.Errors {
				t.Errorf("lint: %v", err)
			}
			if res.TotalChartsLinted != 1 {
				t.Errorf("linted %d charts, want 1", res.TotalChartsLinted)
			}
		})
	}
}

func selects(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func isTrue(b *bool) bool       { return b != nil && *b }
func is(p *int64, v int64) bool { return p != nil && *p == v }

func mapKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// TestValuesDocumented checks that every value is documented with a helm-docs
// "# --" comment (a map's comment documents its keys) and listed in the
// chart's README.
func TestValuesDocumented(t *testing.T) {
	var doc yamlv3.Node
	if err := yamlv3.Unmarshal(readFile(t, filepath.Join(chartDir, "values.yaml")), &doc); err != nil {
		t.Fatal(err)
	}
	readme := string(readFile(t, filepath.Join(chartDir, "README.md")))
	var walk func(prefix string, m *yamlv3.Node)
	n := 0
	walk = func(prefix string, m *yamlv3.Node) {
		for i := 0; i+1 < len(m.Content); i += 2 {
			key, val := m.Content[i], m.Content[i+1]
			path := prefix + key.Value
			switch {
			case strings.Contains(key.HeadComment, "# --"):
				n++
				if !strings.Contains(readme, "| `"+path+"` |") {
					t.Errorf("%s is not in the README's table of values", path)
				}
			case val.Kind == yamlv3.MappingNode && len(val.Content) > 0:
				walk(path+".", val)
			default:
				t.Errorf("%s has no \"# --\" comment", path)
			}
		}
	}
	walk("", doc.Content[0])
	if n == 0 {
		t.Error("no documented value found")
	}
}
