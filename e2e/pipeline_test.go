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
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/internal/proctest"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/simulator"
)

const (
	accountSID   = "AC0123456789abcdef0123456789abcdef"
	authToken    = "e2e-token-5a7c"
	rejectedSID  = "BUe2e00000000000000000000000000001"
	rejectedName = "E2E Rejected Dental"
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

// rejected returns the firing rejected-profile alert for sid, if it arrived,
// and the receiver it went to.
func (w *webhook) rejected(sid string) (map[string]string, map[string]string, string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, m := range w.messages {
		for _, a := range m.Alerts {
			if a.Status == "firing" && a.Labels["alertname"] == "TwilioTrustHubProfileRejected" && a.Labels["sid"] == sid {
				return a.Labels, a.Annotations, m.Receiver, true
			}
		}
	}
	return nil, nil, "", false
}

// The whole path a user sets up: simulated TrustHub → the exporter binary →
// Prometheus scraping it and evaluating the shipped rules → Alertmanager
// with the example routing → a webhook.
func TestPipeline(t *testing.T) {
	promBin := tool(t, "prometheus")
	amBin := tool(t, "prometheus-alertmanager", "alertmanager")
	promtool := tool(t, "promtool")
	dir := t.TempDir()

	// TrustHub, with generated profiles and one planted rejection.
	now := time.Now()
	profiles := simulator.Generate(accountSID, 300, now, 9)
	profiles = append(profiles, simulator.Profile{
		SID: simulator.Ptr(rejectedSID), Status: simulator.Ptr("twilio-rejected"), FriendlyName: simulator.Ptr(rejectedName),
		DateUpdated: simulator.Ptr(now.Add(-2 * time.Hour).Truncate(time.Second)),
		Errors:      []simulator.ErrorCode{{Code: 22215}, {Code: 22218}},
	})
	sim := simulator.New()
	sim.AddAccount(accountSID, authToken, profiles)
	api := httptest.NewServer(sim)
	defer api.Close()

	// The exporter.
	exporterAddr := proctest.FreeAddr(t)
	writeFile(t, filepath.Join(dir, "exporter.yml"), fmt.Sprintf(
		"api_url: %s\ncache_ttl: 10s\naccounts:\n  - name: main\n    account_sid: %s\n    auth_token: %s\n", api.URL, accountSID, authToken))
	start(t, "exporter", "http://"+exporterAddr+"/-/ready", proctest.Binary(t),
		"--config.file="+filepath.Join(dir, "exporter.yml"), "--web.listen-address="+exporterAddr)

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
	if len(forRe.FindAllString(rules, -1)) != 7 {
		t.Fatal("the rules no longer have a `for:` per alert; update the test")
	}
	writeFile(t, filepath.Join(dir, "rules.yml"), forRe.ReplaceAllString(rules, "${1}for: 0s"))

	// Prometheus, from examples/prometheus.yml.
	promAddr := proctest.FreeAddr(t)
	promConfig := substitute(t, "examples/prometheus.yml", readFile(t, filepath.Join(repo, "examples", "prometheus.yml")),
		"scrape_interval: 1m", "scrape_interval: 1s",
		"evaluation_interval: 1m", "evaluation_interval: 1s",
		"scrape_timeout: 30s", "scrape_timeout: 1s",
		"../alerts/twilio_trusthub.rules.yml", filepath.Join(dir, "rules.yml"),
		"localhost:9093", amAddr,
		"localhost:10311", exporterAddr,
	)
	writeFile(t, filepath.Join(dir, "prometheus.yml"), promConfig)
	start(t, "prometheus", "http://"+promAddr+"/-/ready", promBin,
		"--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "prom-data"),
		"--web.listen-address="+promAddr,
	)

	// The rejected profile reaches the webhook, named, on the pager route.
	deadline := time.Now().Add(2 * time.Minute)
	var labels, annotations map[string]string
	var receiver string
	for {
		var ok bool
		if labels, annotations, receiver, ok = hook.rejected(rejectedSID); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no firing TwilioTrustHubProfileRejected for %s at the webhook after 2 minutes", rejectedSID)
		}
		time.Sleep(250 * time.Millisecond)
	}
	if labels["friendly_name"] != rejectedName || labels["account"] != "main" || labels["severity"] != "critical" {
		t.Errorf("alert labels = %v", labels)
	}
	if receiver != "pager" {
		t.Errorf("the critical alert went to %q, want the pager", receiver)
	}
	if d := annotations["description"]; !strings.Contains(d, "22215, 22218") || !strings.Contains(d, rejectedName) {
		t.Errorf("description does not name the profile and its codes: %q", d)
	}

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

	// promtool check metrics on what the exporter serves.
	resp, err := http.Get("http://" + exporterAddr + "/metrics")
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
}

// instantQuery runs expr and returns how many series or samples came back.
func instantQuery(promAddr, expr string) (int, error) {
	resp, err := http.Get("http://" + promAddr + "/api/v1/query?query=" + url.QueryEscape(expr))
	if err != nil {
		return 0, err
	}
	defer func() { _ = resp.Body.Close() }()
	var r struct {
		Status    string `json:"status"`
		Error     string `json:"error"`
		ErrorType string `json:"errorType"`
		Data      struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return 0, err
	}
	if r.Status != "success" {
		return 0, fmt.Errorf("%s: %s", r.ErrorType, r.Error)
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
