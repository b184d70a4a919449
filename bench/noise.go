package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// noiseDurations shortens the mixin's durations for runNoise: alerts fire
// after 5s instead of minutes, and nothing else changes.
const noiseDurations = `{objectFor: "5s", stuckInReviewFor: "5s"}`

// runNoise measures what a person gets from the alerts on the --demo
// estate: the exporter's demo, scraped every 2s by a Prometheus that
// evaluates rulesFile (every `for:` shortened, so that this takes a
// minute), and an Alertmanager with amConfig whose webhooks count every
// notification. Once the firing alerts have held still for the
// Alertmanager's group wait and more, it prints the alerts by severity,
// the notifications by receiver, and the objects the pages name.
//
// With rulesFile empty, the rules are the monitoring mixin's, generated
// with shorter durations; with amConfig empty, examples/alertmanager.yml
// (and its template).
func runNoise(rulesFile, amConfig, promBin, amBin, bin string) error {
	dir, bin, err := workdir("trusthub-noise", bin)
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	if promBin == "" {
		if promBin, err = exec.LookPath("prometheus"); err != nil {
			return fmt.Errorf("no prometheus on PATH: %w", err)
		}
	}
	if amBin == "" {
		for _, name := range []string{"prometheus-alertmanager", "alertmanager"} {
			if p, err := exec.LookPath(name); err == nil {
				amBin = p
				break
			}
		}
		if amBin == "" {
			return fmt.Errorf("no prometheus-alertmanager or alertmanager on PATH")
		}
	}

	var rules string
	if rulesFile == "" {
		rulesFile = "the monitoring mixin's rules (" + noiseDurations + ")"
		out := filepath.Join(dir, "mixin")
		cmd := exec.Command("go", "run", ".", "-out", out, "-config", noiseDurations)
		cmd.Dir = "mixin"
		if b, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("generating the mixin's rules: %w\n%s", err, b)
		}
		b, err := os.ReadFile(filepath.Join(out, "alerts", "twilio_trusthub.rules.yml")) //nolint:gosec // G304: our own temporary folder
		if err != nil {
			return err
		}
		rules = string(b)
	} else {
		b, err := os.ReadFile(rulesFile) //nolint:gosec // G304: the operator names the rules to measure
		if err != nil {
			return err
		}
		rules = regexp.MustCompile(`(?m)^(\s+)for: \S+$`).ReplaceAllString(string(b), "${1}for: 5s")
	}
	if err := os.WriteFile(filepath.Join(dir, "rules.yml"), []byte(rules), 0o600); err != nil { //nolint:gosec // G703: a file of our own temporary folder
		return err
	}

	// The webhooks: every notification, by receiver (the path).
	hook := &counter{byPath: map[string][]notification{}}
	srv := httptest.NewServer(hook)
	defer srv.Close()
	if amConfig == "" {
		amConfig = filepath.Join("examples", "alertmanager.yml")
	}
	amText, err := os.ReadFile(amConfig) //nolint:gosec // G304: the operator names the configuration to measure
	if err != nil {
		return err
	}
	am := strings.NewReplacer("http://localhost:5001", srv.URL, "group_wait: 30s", "group_wait: 15s").Replace(string(amText))
	if err := os.WriteFile(filepath.Join(dir, "alertmanager.yml"), []byte(am), 0o600); err != nil { //nolint:gosec // G703: a file of our own temporary folder
		return err
	}
	if tmpl, err := os.ReadFile(filepath.Join(filepath.Dir(amConfig), "alertmanager.tmpl")); err == nil { //nolint:gosec // G304: beside the configuration
		if err := os.WriteFile(filepath.Join(dir, "alertmanager.tmpl"), tmpl, 0o600); err != nil { //nolint:gosec // G703: a file of our own temporary folder
			return err
		}
	}

	expAddr, err := freeAddr()
	if err != nil {
		return err
	}
	exp, err := startProcess(bin, "http://"+expAddr+"/-/ready", "--demo", "--web.listen-address="+expAddr)
	if err != nil {
		return err
	}
	defer stopProcess(exp)
	amAddr, err := freeAddr()
	if err != nil {
		return err
	}
	amCmd, err := startProcess(amBin, "http://"+amAddr+"/-/ready", "--config.file="+filepath.Join(dir, "alertmanager.yml"),
		"--storage.path="+filepath.Join(dir, "am"), "--web.listen-address="+amAddr, "--cluster.listen-address=")
	if err != nil {
		return err
	}
	defer stopProcess(amCmd)
	promAddr, err := freeAddr()
	if err != nil {
		return err
	}
	promYML := fmt.Sprintf(`global: {scrape_interval: 2s, evaluation_interval: 1s, scrape_timeout: 2s}
rule_files: [%q]
alerting: {alertmanagers: [{static_configs: [{targets: [%q]}]}]}
scrape_configs: [{job_name: twilio_trusthub, static_configs: [{targets: [%q]}]}]
`, filepath.Join(dir, "rules.yml"), amAddr, expAddr)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(promYML), 0o600); err != nil {
		return err
	}
	prom, err := startProcess(promBin, "http://"+promAddr+"/-/ready", "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "prom"), "--web.listen-address="+promAddr)
	if err != nil {
		return err
	}
	defer stopProcess(prom)

	// Settled: the firing alerts unchanged for 30s (twice the group wait),
	// then the group wait again for their notifications.
	var bySeverity map[string]int
	stable, last := 0, ""
	for deadline := time.Now().Add(5 * time.Minute); stable < 30; time.Sleep(time.Second) {
		if time.Now().After(deadline) {
			return fmt.Errorf("the firing alerts did not settle in 5 minutes")
		}
		if bySeverity, err = firing(promAddr, "severity"); err != nil {
			return err
		}
		now := fmt.Sprint(bySeverity)
		if now == last && len(bySeverity) > 0 {
			stable++
		} else {
			stable, last = 0, now
		}
	}
	time.Sleep(20 * time.Second)

	fmt.Printf("The --demo estate through %s and %s:\n\n", rulesFile, amConfig)
	fmt.Println("| firing alerts | critical | warning | notifications to the pager | notifications to tickets | objects in the pages |")
	fmt.Println("|---:|---:|---:|---:|---:|---:|")
	total := 0
	for _, n := range bySeverity {
		total += n
	}
	pages, objects := hook.count("/pager")
	tickets, _ := hook.count("/tickets")
	fmt.Printf("| %d | %d | %d | %d | %d | %d |\n\n", total, bySeverity["critical"], bySeverity["warning"], pages, tickets, objects)
	byName, err := firing(promAddr, "alertname", "severity")
	if err != nil {
		return err
	}
	fmt.Println("Firing alerts by name and severity:")
	for _, k := range slices.Sorted(maps.Keys(byName)) {
		fmt.Printf("  %s: %d\n", k, byName[k])
	}
	fmt.Println()
	fmt.Println("Pages by alert and account:")
	for _, line := range hook.groups("/pager") {
		fmt.Println("  " + line)
	}
	return nil
}

// firing counts the firing alerts by the values of the labels in by,
// joined with a space.
func firing(promAddr string, by ...string) (map[string]int, error) {
	q := fmt.Sprintf(`count by (%s) (ALERTS{alertstate="firing"})`, strings.Join(by, ", "))
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://"+promAddr+"/api/v1/query?query="+url.QueryEscape(q), nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	var r struct {
		Data struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, s := range r.Data.Result {
		var key []string
		for _, l := range by {
			key = append(key, s.Metric[l])
		}
		var n int
		_, _ = fmt.Sscan(fmt.Sprint(s.Value[1]), &n)
		out[strings.Join(key, " ")] = n
	}
	return out, nil
}

// notification is one webhook message of Alertmanager's.
type notification struct {
	GroupLabels map[string]string `json:"groupLabels"`
	Alerts      []json.RawMessage `json:"alerts"`
}

// counter keeps the webhook notifications by path.
type counter struct {
	mu     sync.Mutex
	byPath map[string][]notification
}

func (c *counter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var n notification
	if err := json.NewDecoder(r.Body).Decode(&n); err != nil {
		// A chat receiver's payload: not a notification to count.
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.byPath[r.URL.Path] = append(c.byPath[r.URL.Path], n)
}

// count returns how many notifications path got, and how many alerts they
// held.
func (c *counter) count(path string) (notifications, alerts int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range c.byPath[path] {
		alerts += len(n.Alerts)
	}
	return len(c.byPath[path]), alerts
}

// groups lists path's notifications by group, with their alerts.
func (c *counter) groups(path string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, n := range c.byPath[path] {
		var keys []string
		for k, v := range n.GroupLabels {
			keys = append(keys, k+"="+v)
		}
		sort.Strings(keys)
		out = append(out, fmt.Sprintf("%s: %d alerts", strings.Join(keys, " "), len(n.Alerts)))
	}
	sort.Strings(out)
	return out
}
