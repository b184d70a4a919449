package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/internal/proctest"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/simulator"
)

const (
	accountSID   = "AC0123456789abcdef0123456789abcdef"
	authToken    = "e2e-token-5a7c"
	rejectedSID  = "BUe2e00000000000000000000000000001"
	rejectedName = "E2E Rejected Dental"
	// suspendedBrandSID is the planted SUSPENDED brand (Twilio error 30990),
	// with TCR id suspendedBrandTCRID, for the alerts on suspended brands.
	suspendedBrandSID   = "BNe2e00000000000000000000000000001"
	suspendedBrandTCRID = "BE2ESUSP"
)

// webhook collects what Alertmanager sends.
type webhook struct {
	mu       sync.Mutex
	messages []amMessage
}

type amMessage struct {
	Receiver string `json:"receiver"`
	Status   string `json:"status"`
	Alerts   []struct {
		Status      string            `json:"status"`
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
	} `json:"alerts"`
}

func (w *webhook) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	var m amMessage
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
		http.Error(rw, err.Error(), http.StatusBadRequest)
		return
	}
	w.mu.Lock()
	w.messages = append(w.messages, m)
	w.mu.Unlock()
}

// firing returns the firing alert alertname for sid, if it arrived, and
// the receiver it went to.
func (w *webhook) firing(alertname, sid string) (map[string]string, map[string]string, string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, m := range w.messages {
		for _, a := range m.Alerts {
			if a.Status == "firing" && a.Labels["alertname"] == alertname && a.Labels["sid"] == sid {
				return a.Labels, a.Annotations, m.Receiver, true
			}
		}
	}
	return nil, nil, "", false
}

// prometheusBinaries returns the Prometheus servers to run the pipeline
// through: Debian's 2.x (on PATH) and a 3.x (PROMETHEUS3_BINARY, which
// scripts/test.sh builds from Prometheus' Go module and caches). Each one
// missing skips its subtest on a developer's machine and fails it in CI.
func prometheusBinaries() []struct{ name, env, major string } {
	return []struct{ name, env, major string }{
		{name: "prometheus-2", major: "2."},
		{name: "prometheus-3", env: "PROMETHEUS3_BINARY", major: "3."},
	}
}

// The whole path a user sets up, with the exporter run as two replicas (as
// in production): simulated TrustHub → two exporter processes → Prometheus
// scraping both and evaluating the shipped rules → Alertmanager with the
// example routing → a webhook. Run once per major Prometheus version and
// per_profile_status (full, the default, and sparse): the shipped rules and
// dashboard must hold with either.
func TestPipeline(t *testing.T) {
	for _, p := range prometheusBinaries() {
		for _, status := range []string{"full", "sparse"} {
			t.Run(p.name+"/"+status, func(t *testing.T) {
				var bin string
				if p.env == "" {
					bin = tool(t, "prometheus")
				} else {
					bin = fromEnv(t, p.env)
				}
				if out, err := exec.Command(bin, "--version").CombinedOutput(); err != nil || !strings.Contains(string(out), "version "+p.major) {
					t.Fatalf("%s --version: %v, want version %sx:\n%s", bin, err, p.major, out)
				}
				pipeline(t, bin, status)
			})
		}
	}
}

// pipeline runs the path through promBin, the exporters set to
// per_profile_status status.
func pipeline(t *testing.T, promBin, status string) {
	amBin := tool(t, "prometheus-alertmanager", "alertmanager")
	promtool := tool(t, "promtool")
	dir := t.TempDir()

	// TrustHub, with generated profiles and one planted rejection.
	now := time.Now()
	profiles := simulator.Generate(accountSID, 300, now, 9)
	profiles = append(profiles, simulator.ServedObject{
		SID: simulator.Ptr(rejectedSID), Status: simulator.Ptr("twilio-rejected"), FriendlyName: simulator.Ptr(rejectedName),
		DateUpdated: simulator.Ptr(now.Add(-2 * time.Hour).Truncate(time.Second)),
		Errors:      []simulator.ErrorCode{{Code: 22215}, {Code: 22218}},
	})
	wantStatus := map[string]int{}
	for _, p := range profiles {
		if p.Status != nil {
			wantStatus[*p.Status]++
		}
	}
	sim := simulator.New()
	sim.AddAccount(accountSID, authToken, profiles)
	trustProducts := simulator.GenerateTrustProducts(accountSID, 120, now, 9)
	sim.SetObjects(accountSID, kinds.TrustProducts, trustProducts)
	// Messaging, on the same simulator (messaging_api_url points at it):
	// every status of every kind, and one planted suspended brand.
	msg := simulator.GenerateMessaging(20, now, 9, trustProducts)
	msg.Brands = append(msg.Brands, simulator.SuspendedBrand(suspendedBrandSID, suspendedBrandTCRID, *trustProducts[0].SID, now.Add(-time.Hour).Truncate(time.Second)))
	sim.SetMessaging(accountSID, msg)
	api := httptest.NewServer(sim)
	defer api.Close()

	// Two replicas of the exporter, configured alike, as a Deployment with
	// two pods or an HA pair runs them.
	writeFile(t, filepath.Join(dir, "exporter.yml"), fmt.Sprintf(
		"api_url: %s\nmessaging_api_url: %[1]s\ncache_ttl: 10s\nper_profile_status: %s\naccounts:\n  - name: main\n    account_sid: %s\n    auth_token: %s\n",
		api.URL, status, accountSID, authToken))
	var exporters []string
	for i := range 2 {
		addr := proctest.FreeAddr(t)
		start(t, fmt.Sprintf("exporter-%d", i), "http://"+addr+"/-/ready", proctest.Binary(t),
			"--config.file="+filepath.Join(dir, "exporter.yml"), "--web.listen-address="+addr)
		exporters = append(exporters, addr)
	}

	// The webhook and Alertmanager, from examples/alertmanager.yml.
	hook := &webhook{}
	hookSrv := httptest.NewServer(hook)
	defer hookSrv.Close()
	amAddr := proctest.FreeAddr(t)
	amConfig := substitute(t, "examples/alertmanager.yml", readFile(t, filepath.Join(repo, "examples", "alertmanager.yml")),
		"http://localhost:5001", hookSrv.URL,
		"group_wait: 30s", "group_wait: 1s",
		"group_interval: 5m", "group_interval: 1s",
	)
	writeFile(t, filepath.Join(dir, "alertmanager.yml"), amConfig)
	start(t, "alertmanager", "http://"+amAddr+"/-/ready", amBin,
		"--config.file="+filepath.Join(dir, "alertmanager.yml"),
		"--storage.path="+filepath.Join(dir, "am-data"),
		"--web.listen-address="+amAddr,
		"--cluster.listen-address=", // no gossip: a single instance on loopback
	)

	// The shipped rules, with every `for:` shortened so the test is quick.
	rules := readFile(t, filepath.Join(repo, "alerts", "twilio_trusthub.rules.yml"))
	forRe := regexp.MustCompile(`(?m)^(\s+)for: \S+$`)
	nRules := rulesIn(t, "rules", rules)
	if len(forRe.FindAllString(rules, -1)) != nRules {
		t.Fatal("the rules no longer have a `for:` per alert; update the test")
	}
	writeFile(t, filepath.Join(dir, "rules.yml"), forRe.ReplaceAllString(rules, "${1}for: 0s"))

	// Prometheus, from examples/prometheus.yml, scraping both replicas.
	promAddr := proctest.FreeAddr(t)
	promConfig := substitute(t, "examples/prometheus.yml", readFile(t, filepath.Join(repo, "examples", "prometheus.yml")),
		"scrape_interval: 1m", "scrape_interval: 1s",
		"evaluation_interval: 1m", "evaluation_interval: 1s",
		"scrape_timeout: 30s", "scrape_timeout: 1s",
		"../alerts/twilio_trusthub.rules.yml", filepath.Join(dir, "rules.yml"),
		"localhost:9093", amAddr,
		"'localhost:10311'", "'"+strings.Join(exporters, "', '")+"'",
	)
	writeFile(t, filepath.Join(dir, "prometheus.yml"), promConfig)
	start(t, "prometheus", "http://"+promAddr+"/-/ready", promBin,
		"--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "prom-data"),
		"--web.listen-address="+promAddr,
	)

	// Both replicas' per-profile series are in Prometheus: from here on, a
	// join that does not reduce replicas would meet duplicate series.
	waitFor(t, time.Minute, "both replicas' profiles in Prometheus", func() (bool, error) {
		v, err := scalarQuery(promAddr, `count(count by (instance) (twilio_trusthub_customer_profile_info{sid="`+rejectedSID+`"}))`)
		return v == 2, err
	})
	bothIn := time.Now()

	// The rejected profile reaches the webhook, named, on the pager route.
	var labels, annotations map[string]string
	var receiver string
	waitFor(t, 2*time.Minute, "a firing TwilioTrustHubProfileRejected for "+rejectedSID+" at the webhook", func() (bool, error) {
		var ok bool
		labels, annotations, receiver, ok = hook.firing("TwilioTrustHubProfileRejected", rejectedSID)
		return ok, nil
	})
	if labels["friendly_name"] != rejectedName || labels["account"] != "main" || labels["severity"] != "critical" {
		t.Errorf("alert labels = %v", labels)
	}
	if _, ok := labels["instance"]; ok {
		t.Errorf("the rejected alert carries instance=%q: each replica would page on its own", labels["instance"])
	}
	if receiver != "pager" {
		t.Errorf("the critical alert went to %q, want the pager", receiver)
	}
	if d := annotations["description"]; !strings.Contains(d, "22215, 22218") || !strings.Contains(d, rejectedName) {
		t.Errorf("description does not name the profile once with its codes: %q", d)
	}
	if !strings.HasPrefix(annotations["runbook_url"], "https://") || !strings.HasSuffix(annotations["runbook_url"], "#twiliotrusthubprofilerejected") {
		t.Errorf("runbook_url = %q", annotations["runbook_url"])
	}

	// The suspended A2P brand pages too: once, named by its TCR id, with
	// the error that halts its campaigns.
	waitFor(t, time.Minute, "a firing TwilioTrustHubA2PBrandSuspended for "+suspendedBrandSID+" at the webhook", func() (bool, error) {
		var ok bool
		labels, annotations, receiver, ok = hook.firing("TwilioTrustHubA2PBrandSuspended", suspendedBrandSID)
		return ok, nil
	})
	if labels["account"] != "main" || labels["severity"] != "critical" || receiver != "pager" {
		t.Errorf("suspended brand alert: labels %v, receiver %q", labels, receiver)
	}
	if _, ok := labels["instance"]; ok {
		t.Errorf("the suspended brand alert carries instance=%q", labels["instance"])
	}
	if d := annotations["summary"] + " " + annotations["description"]; !strings.Contains(d, suspendedBrandTCRID) || !strings.Contains(d, "30990") {
		t.Errorf("the suspended brand alert does not name %s and error 30990: %q", suspendedBrandTCRID, d)
	}
	if sets := hook.labelSets("TwilioTrustHubA2PBrandSuspended", suspendedBrandSID); len(sets) != 1 {
		t.Errorf("the suspended brand reached the webhook under %d label sets, want 1: %v", len(sets), sets)
	}

	// Every rule has been evaluated with both replicas' data in, and none
	// failed: health "ok" in the rules API, and no evaluation failure counted.
	rulesHealthy(t, promAddr, nRules, bothIn.Add(2*time.Second), "both replicas' data arrived")

	// Every dashboard query is valid PromQL against this Prometheus and
	// returns data.
	queries := dashboardQueries(t)
	for name, expr := range queries {
		deadline := time.Now().Add(30 * time.Second)
		for {
			n, err := instantQuery(promAddr, expr)
			if err != nil {
				t.Errorf("%s: %v\n%s", name, err, expr)
				break
			}
			if n > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("%s: no data after 30s\n%s", name, expr)
				break
			}
			time.Sleep(500 * time.Millisecond)
		}
	}

	// The dashboard's status totals count each profile once, not once per
	// replica: they equal the simulator's own counts and one replica's.
	statusExpr := ""
	for name, expr := range queries {
		if strings.Contains(name, ": Profiles by status (") {
			statusExpr = expr
		}
	}
	if statusExpr == "" {
		t.Fatal(`no "Profiles by status" panel in the dashboard`)
	}
	got, err := vectorQuery(promAddr, statusExpr, "status")
	if err != nil {
		t.Fatal(err)
	}
	oneReplica := replicaCounts(t, exporters[0])
	for status, n := range wantStatus {
		if got[status] != float64(n) || oneReplica[status] != float64(n) {
			t.Errorf("status %s: dashboard total %v, one replica %v, simulator %d", status, got[status], oneReplica[status], n)
		}
	}

	// promtool check metrics on what the exporter serves.
	resp, err := http.Get("http://" + exporters[0] + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	if out, err := cmd.CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) != 0 {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
	if bytes.Contains(body, []byte(authToken)) {
		t.Error("the auth token appears in /metrics")
	}

	// The exporters serve what per_profile_status asks for, so that the
	// assertions above held for that shape: sparse, one series of value 1
	// per profile; full, one per documented status, 1 for one of them.
	series := metricLines(t, "http://"+exporters[0]+"/metrics", "twilio_trusthub_customer_profile_status")
	ones := 0
	for _, v := range series {
		if v == 1 {
			ones++
		}
	}
	want := len(profiles)
	if status == "full" {
		want *= len(kinds.CustomerProfiles.Statuses)
	}
	if len(series) != want || ones != len(profiles) {
		t.Errorf("per_profile_status %s: %d customer_profile_status series, %d of them 1; want %d and %d", status, len(series), ones, want, len(profiles))
	}

	// One notification group for the rejected profile: every firing
	// notification that names it carries the same labels.
	if sets := hook.labelSets("TwilioTrustHubProfileRejected", rejectedSID); len(sets) != 1 {
		t.Errorf("the rejected profile reached the webhook under %d label sets, want 1: %v", len(sets), sets)
	}
}

// instantQuery runs expr and returns how many series or samples came back.
func instantQuery(promAddr, expr string) (int, error) {
	r, err := query(promAddr, expr)
	if err != nil {
		return 0, err
	}
	if r.Data.ResultType == "scalar" {
		return 1, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(r.Data.Result, &items); err != nil {
		return 0, err
	}
	return len(items), nil
}

// labelSets returns the distinct label sets under which a firing alert
// for sid arrived.
func (w *webhook) labelSets(alertname, sid string) []map[string]string {
	w.mu.Lock()
	defer w.mu.Unlock()
	seen := map[string]map[string]string{}
	for _, m := range w.messages {
		for _, a := range m.Alerts {
			if a.Status == "firing" && a.Labels["alertname"] == alertname && a.Labels["sid"] == sid {
				b, _ := json.Marshal(a.Labels) // map keys marshal sorted
				seen[string(b)] = a.Labels
			}
		}
	}
	var out []map[string]string
	for _, l := range seen {
		out = append(out, l)
	}
	return out
}

// waitFor polls cond until it holds, failing the test after d or on an error.
func waitFor(t *testing.T, d time.Duration, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		ok, err := cond()
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s after %s", what, d)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

type queryResult struct {
	Status    string `json:"status"`
	Error     string `json:"error"`
	ErrorType string `json:"errorType"`
	Data      struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	} `json:"data"`
}

func query(promAddr, expr string) (*queryResult, error) {
	resp, err := http.Get("http://" + promAddr + "/api/v1/query?query=" + url.QueryEscape(expr))
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	var r queryResult
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return nil, err
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("%s: %s", r.ErrorType, r.Error)
	}
	return &r, nil
}

// vectorQuery runs expr and returns each sample's value by the value of label.
func vectorQuery(promAddr, expr, label string) (map[string]float64, error) {
	r, err := query(promAddr, expr)
	if err != nil {
		return nil, err
	}
	var samples []struct {
		Metric map[string]string `json:"metric"`
		Value  [2]any            `json:"value"`
	}
	if err := json.Unmarshal(r.Data.Result, &samples); err != nil {
		return nil, fmt.Errorf("%s: %w", expr, err)
	}
	out := map[string]float64{}
	for _, s := range samples {
		k := s.Metric[label]
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("%s: two samples with %s=%q", expr, label, k)
		}
		str, _ := s.Value[1].(string)
		if out[k], err = strconv.ParseFloat(str, 64); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// scalarQuery runs an expression that yields at most one sample; no sample is 0.
func scalarQuery(promAddr, expr string) (float64, error) {
	m, err := vectorQuery(promAddr, expr, "__name__")
	if err != nil || len(m) == 0 {
		return 0, err
	}
	for _, v := range m {
		return v, nil
	}
	return 0, nil
}

type ruleState struct {
	Name           string    `json:"name"`
	Health         string    `json:"health"`
	LastError      string    `json:"lastError"`
	LastEvaluation time.Time `json:"lastEvaluation"`
}

// rulesHealthy waits until all nRules rules have been evaluated after
// since (when what had arrived), then requires each to be healthy and
// Prometheus to have counted no failed evaluation.
func rulesHealthy(t *testing.T, promAddr string, nRules int, since time.Time, what string) {
	t.Helper()
	waitFor(t, 30*time.Second, "every rule evaluated after "+what, func() (bool, error) {
		rs, err := ruleHealth(promAddr)
		if err != nil {
			return false, err
		}
		for _, r := range rs {
			if r.LastEvaluation.Before(since) {
				return false, nil
			}
		}
		return len(rs) == nRules, nil
	})
	rs, err := ruleHealth(promAddr)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.Health != "ok" || r.LastError != "" {
			t.Errorf("rule %s: health %q: %s", r.Name, r.Health, r.LastError)
		}
	}
	if n := counterTotal(t, "http://"+promAddr+"/metrics", "prometheus_rule_evaluation_failures_total"); n != 0 {
		t.Errorf("prometheus_rule_evaluation_failures_total = %v, want 0", n)
	}
}

// ruleHealth returns every rule's state from the rules API.
func ruleHealth(promAddr string) ([]ruleState, error) {
	resp, err := http.Get("http://" + promAddr + "/api/v1/rules")
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	var r struct {
		Status string `json:"status"`
		Data   struct {
			Groups []struct {
				Rules []ruleState `json:"rules"`
			} `json:"groups"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return nil, err
	}
	var out []ruleState
	for _, g := range r.Data.Groups {
		out = append(out, g.Rules...)
	}
	return out, nil
}

// metricLines returns the sample lines of a text exposition at u whose metric
// name is name, as labels → value.
func metricLines(t *testing.T, u, name string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, line := range strings.Split(string(body), "\n") {
		rest, ok := strings.CutPrefix(line, name)
		if !ok || (rest != "" && rest[0] != '{' && rest[0] != ' ') {
			continue
		}
		i := strings.LastIndexByte(rest, ' ')
		v, err := strconv.ParseFloat(rest[i+1:], 64)
		if err != nil {
			t.Fatalf("%s: %q: %v", u, line, err)
		}
		out[strings.TrimSpace(rest[:i])] = v
	}
	return out
}

// counterTotal sums every sample of a counter family at u.
func counterTotal(t *testing.T, u, name string) float64 {
	t.Helper()
	var sum float64
	for _, v := range metricLines(t, u, name) {
		sum += v
	}
	return sum
}

// replicaCounts returns one exporter's profile counts of account main by status.
func replicaCounts(t *testing.T, addr string) map[string]float64 {
	t.Helper()
	re := regexp.MustCompile(`^\{account="main",status="([^"]+)"\}$`)
	out := map[string]float64{}
	for labels, v := range metricLines(t, "http://"+addr+"/metrics", "twilio_trusthub_customer_profiles") {
		if m := re.FindStringSubmatch(labels); m != nil {
			out[m[1]] = v
		}
	}
	return out
}
