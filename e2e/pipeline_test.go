package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/internal/proctest"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/simulator"
)

// webhook collects what Alertmanager sends: the webhook receivers' JSON
// (one message per notification of a group) and the chat receivers'
// rendered messages, by path.
type webhook struct {
	mu       sync.Mutex
	messages []amMessage
	chats    map[string][]string
}

type amMessage struct {
	Receiver    string            `json:"receiver"`
	Status      string            `json:"status"`
	GroupLabels map[string]string `json:"groupLabels"`
	Alerts      []struct {
		Status      string            `json:"status"`
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
	} `json:"alerts"`
}

func (w *webhook) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	if strings.HasSuffix(r.URL.Path, "-chat") {
		// Alertmanager's Slack payload: the rendered title and text in
		// an attachment.
		var m struct {
			Attachments []struct{ Title, Text string } `json:"attachments"`
		}
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil || len(m.Attachments) == 0 {
			http.Error(rw, fmt.Sprint("no attachment: ", err), http.StatusBadRequest)
			return
		}
		w.mu.Lock()
		w.chats[r.URL.Path] = append(w.chats[r.URL.Path], m.Attachments[0].Title+"\n"+m.Attachments[0].Text)
		w.mu.Unlock()
		return
	}
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

// notifications counts the messages each group (alertname and account)
// of receiver was notified in, and how many said it resolved.
func (w *webhook) notifications(receiver string) (firing, resolved map[string]int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	firing, resolved = map[string]int{}, map[string]int{}
	for _, m := range w.messages {
		if m.Receiver != receiver {
			continue
		}
		group := m.GroupLabels["alertname"] + " " + m.GroupLabels["account"]
		firing[group]++
		for _, a := range m.Alerts {
			if a.Status == "resolved" {
				resolved[group]++
				break
			}
		}
	}
	return firing, resolved
}

// sidsNotified returns the sids of the alerts receiver was notified of.
func (w *webhook) sidsNotified(receiver string) map[string]bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := map[string]bool{}
	for _, m := range w.messages {
		if m.Receiver == receiver {
			for _, a := range m.Alerts {
				out[a.Labels["sid"]] = true
			}
		}
	}
	return out
}

// chat returns the rendered messages posted to path.
func (w *webhook) chat(path string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.chats[path]...)
}

// eachPrometheus runs test once per Prometheus server to hold the shipped
// files to: Debian's 2.x (on PATH) and a 3.x (PROMETHEUS3_BINARY, which
// scripts/test.sh builds from Prometheus' Go module and caches), each in a
// subtest named after it. One missing skips its subtest on a developer's
// machine and fails it in CI.
func eachPrometheus(t *testing.T, test func(t *testing.T, promBin string)) {
	for _, p := range []struct{ name, env, major string }{
		{name: "prometheus-2", major: "2."},
		{name: "prometheus-3", env: "PROMETHEUS3_BINARY", major: "3."},
	} {
		t.Run(p.name, func(t *testing.T) {
			var bin string
			if p.env == "" {
				bin = tool(t, "prometheus")
			} else {
				bin = fromEnv(t, p.env)
			}
			if out, err := exec.Command(bin, "--version").CombinedOutput(); err != nil || !strings.Contains(string(out), "version "+p.major) {
				t.Fatalf("%s --version: %v, want version %sx:\n%s", bin, err, p.major, out)
			}
			test(t, bin)
		})
	}
}

// The whole path a user sets up, with the exporter run as two replicas (as
// in production): a simulated Twilio → two exporter processes → Prometheus
// scraping both and evaluating the rules the mixin generates → Alertmanager
// with the example routing, inhibitions and template → webhooks. Run once
// per major Prometheus version and per_object_status (full, the default,
// and sparse): the rules and dashboard must hold with either. With full,
// the test also restarts a replica, stops both for a gap, and renames an
// object, and counts every notification: none may resolve or repeat.
func TestPipeline(t *testing.T) {
	eachPrometheus(t, func(t *testing.T, promBin string) {
		for _, status := range []string{"full", "sparse"} {
			t.Run(status, func(t *testing.T) { pipeline(t, promBin, status) })
		}
	})
}

// testDurations shortens the mixin's durations so that the pipeline takes
// seconds: an alert fires after 5s, keeps firing 40s past its last series
// (the test's gaps are shorter), and the health alerts wait long enough
// that a gap of the test does not fire them.
const testDurations = `{objectFor: "5s", stuckInReviewFor: "5s", keepFiringFor: "40s", listingFailingFor: "30s", apiUnreachableFor: "30s", exporterDownFor: "30s"}`

// pipeline runs the path through promBin, the exporters set to
// per_object_status status.
func pipeline(t *testing.T, promBin, status string) {
	amBin := tool(t, "prometheus-alertmanager", "alertmanager")
	promtool := tool(t, "promtool")
	dir := t.TempDir()

	// A demo-like estate of two accounts, and what must page.
	now := time.Now()
	estate := newEstate(now)
	wantPages := pages(estate, now)
	sim := serve(estate)
	api := httptest.NewServer(sim)
	defer api.Close()

	// Two replicas of the exporter, configured alike, as a Deployment with
	// two pods or an HA pair runs them.
	var yml strings.Builder
	fmt.Fprintf(&yml, "api_url: %s\nmessaging_api_url: %[1]s\ncache_ttl: 5s\nper_object_status: %s\naccounts:\n", api.URL, status)
	for _, a := range estate {
		fmt.Fprintf(&yml, "  - {name: %s, account_sid: %s, auth_token: %s}\n", a.name, a.sid, a.token)
	}
	writeFile(t, filepath.Join(dir, "exporter.yml"), yml.String())
	exporters := []string{proctest.FreeAddr(t), proctest.FreeAddr(t)}
	startExporter := func(i int) *proctest.Process {
		return start(t, fmt.Sprintf("exporter-%d", i), "http://"+exporters[i]+"/-/ready", proctest.Binary(t),
			"--config.file="+filepath.Join(dir, "exporter.yml"), "--web.listen-address="+exporters[i])
	}
	replicas := []*proctest.Process{startExporter(0), startExporter(1)}

	// The webhooks and Alertmanager, from examples/alertmanager.yml and
	// its template. A group waits 10s for its alerts (they all fire within
	// a few seconds of each other), and is notified again after 2s should
	// anything change: a resolved or re-fired alert shows at once.
	hook := &webhook{chats: map[string][]string{}}
	hookSrv := httptest.NewServer(hook)
	defer hookSrv.Close()
	amAddr := proctest.FreeAddr(t)
	amConfig := substitute(t, "examples/alertmanager.yml", readFile(t, filepath.Join(repo, "examples", "alertmanager.yml")),
		"http://localhost:5001", hookSrv.URL,
		"group_wait: 30s", "group_wait: 10s",
		"group_interval: 5m", "group_interval: 2s",
	)
	writeFile(t, filepath.Join(dir, "alertmanager.yml"), amConfig)
	writeFile(t, filepath.Join(dir, "alertmanager.tmpl"), readFile(t, filepath.Join(repo, "examples", "alertmanager.tmpl")))
	start(t, "alertmanager", "http://"+amAddr+"/-/ready", amBin,
		"--config.file="+filepath.Join(dir, "alertmanager.yml"),
		"--storage.path="+filepath.Join(dir, "am-data"),
		"--web.listen-address="+amAddr,
		"--cluster.listen-address=", // no gossip: a single instance on loopback
	)

	// The rules, generated by the mixin with shorter durations.
	rules := mixinRules(t, testDurations)
	nRules := rulesIn(t, "rules", rules)
	writeFile(t, filepath.Join(dir, "rules.yml"), rules)

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

	// Both replicas' per-object series are in Prometheus: from here on, a
	// join that does not reduce replicas would meet duplicate series.
	waitFor(t, time.Minute, "both replicas' profiles in Prometheus", func() (bool, error) {
		v, err := scalarQuery(promAddr, `count(count by (instance) (twilio_trusthub_customer_profile_info{sid="`+rejectedSID+`"}))`)
		return v == 2, err
	})
	bothIn := time.Now()

	// The pager gets one notification per (alertname, account) with a
	// problem that stops something, and no other: wait until the expected
	// groups have arrived, then as long again as a group waits, for any
	// that should not.
	if len(wantPages) < 6 {
		t.Fatalf("the estate pages for only %v; the test would prove less", wantPages)
	}
	var missing []string
	for deadline := time.Now().Add(2 * time.Minute); ; {
		got, _ := hook.notifications("pager")
		missing = slices.DeleteFunc(slices.Clone(wantPages), func(p string) bool { return got[p] > 0 })
		if len(missing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no page after 2m for %v; the pager got %v", missing, slices.Sorted(maps.Keys(got)))
		}
		time.Sleep(250 * time.Millisecond)
	}
	time.Sleep(12 * time.Second)
	checkPages := func(when string) {
		t.Helper()
		got, resolved := hook.notifications("pager")
		if !slices.Equal(slices.Sorted(maps.Keys(got)), wantPages) {
			t.Errorf("%s: the pager got notifications for %v, want exactly %v", when, slices.Sorted(maps.Keys(got)), wantPages)
		}
		for group, n := range got {
			if n != 1 {
				t.Errorf("%s: the pager got %d notifications for %s, want 1", when, n, group)
			}
		}
		if len(resolved) > 0 {
			t.Errorf("%s: the pager was told of resolved alerts in %v", when, resolved)
		}
	}
	checkPages("after the first alerts")
	t.Logf("pages: %d groups (%v)", len(wantPages), wantPages)

	// The planted rejection in use paged, named in annotations only.
	labels, annotations, receiver, ok := hook.firing("TwilioTrustHubProfileRejected", rejectedSID)
	if !ok || receiver != "pager" {
		t.Fatalf("the rejected profile in use: firing %v, to %q", ok, receiver)
	}
	if want := map[string]string{"alertname": "TwilioTrustHubProfileRejected", "account": "main", "sid": rejectedSID, "status": "twilio-rejected", "severity": "critical"}; !maps.Equal(labels, want) {
		t.Errorf("alert labels = %v, want %v: nothing that can change while the cause lasts", labels, want)
	}
	if annotations["name"] != rejectedName || annotations["error_codes"] != "22215, 22218" || annotations["impact"] != "2 phone numbers" {
		t.Errorf("annotations name %q, error_codes %q, impact %q", annotations["name"], annotations["error_codes"], annotations["impact"])
	}
	if !strings.HasPrefix(annotations["runbook_url"], "https://") || !strings.HasSuffix(annotations["runbook_url"], "#twiliotrusthubprofilerejected") {
		t.Errorf("runbook_url = %q", annotations["runbook_url"])
	}
	// The draft nothing uses is a ticket, never a page.
	if hook.sidsNotified("pager")[draftSID] || !hook.sidsNotified("tickets")[draftSID] {
		t.Errorf("the unused draft: paged %v, ticketed %v; want a ticket only", hook.sidsNotified("pager")[draftSID], hook.sidsNotified("tickets")[draftSID])
	}
	// The suspended brand pages, says what it stops, and stands for its
	// campaign, which pages nobody.
	_, annotations, _, ok = hook.firing("TwilioTrustHubA2PBrandSuspended", suspendedBrandSID)
	if d := annotations["summary"] + " " + annotations["description"]; !ok || !strings.Contains(d, suspendedBrandTCRID) || !strings.Contains(d, "30990") ||
		!strings.Contains(d, "blocks 1 campaign, 3 phone numbers") {
		t.Errorf("the suspended brand: firing %v, text %q", ok, d)
	}
	if hook.sidsNotified("pager")["QEe2e00000000000000000000000000001"] {
		t.Error("the suspended brand's campaign paged although the brand stands for it")
	}
	// The chat receiver got the same pages, rendered by the template: the
	// rejected profile's group lists it with its codes and what it stops.
	var rendered string
	for _, m := range hook.chat("/pager-chat") {
		if strings.Contains(m, "TwilioTrustHubProfileRejected in account main") {
			rendered = m
		}
	}
	if !strings.Contains(rendered, `"`+rejectedName+`" `+rejectedSID+` twilio-rejected, error 22215, 22218: blocks 2 phone numbers`) {
		t.Errorf("the rendered page does not list the rejected profile:\n%s", rendered)
	}
	if n := len(hook.chat("/pager-chat")); n != len(wantPages) {
		t.Errorf("%d chat pages, want one per group (%d)", n, len(wantPages))
	}

	// Every rule has been evaluated with both replicas' data in, and none
	// failed: health "ok" in the rules API, and no evaluation failure counted.
	rulesHealthy(t, promAddr, nRules, bothIn.Add(2*time.Second), "both replicas' data arrived")

	checkDashboard(t, promAddr, exporters[0], estate)

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
	for _, a := range estate {
		if bytes.Contains(body, []byte(a.token)) {
			t.Error("an auth token appears in /metrics")
		}
	}

	// The exporters serve what per_object_status asks for, so that the
	// assertions above held for that shape: sparse, one series of value 1
	// per profile; full, one per documented status, 1 for one of them.
	series := metricLines(t, "http://"+exporters[0]+"/metrics", "twilio_trusthub_customer_profile_status")
	ones := 0
	for _, v := range series {
		if v == 1 {
			ones++
		}
	}
	profiles := 0
	for _, a := range estate {
		profiles += len(a.profiles)
	}
	want := profiles
	if status == "full" {
		want *= len(kinds.CustomerProfiles.Statuses)
	}
	if len(series) != want || ones != profiles {
		t.Errorf("per_object_status %s: %d customer_profile_status series, %d of them 1; want %d and %d", status, len(series), ones, want, profiles)
	}
	if status != "full" {
		return
	}

	// Noise. None of these may resolve an alert or page again: a replica
	// restarted (a rollout), both stopped for a gap shorter than
	// keep_firing_for (a scrape gap, a node drained), and a rename.
	replicas[1].Cmd.Process.Kill() //nolint:errcheck // it may have exited
	_, _ = replicas[1].Wait(10 * time.Second)
	time.Sleep(5 * time.Second)
	replicas[1] = startExporter(1)
	for i := range replicas {
		replicas[i].Cmd.Process.Kill() //nolint:errcheck // it may have exited
		_, _ = replicas[i].Wait(10 * time.Second)
	}
	gap := time.Now()
	waitFor(t, 30*time.Second, "the gap to show in Prometheus", func() (bool, error) {
		v, err := scalarQuery(promAddr, `count(up{job="twilio_trusthub"} == 0)`)
		return v == 2, err
	})
	time.Sleep(10*time.Second - time.Since(gap))
	replicas[0], replicas[1] = startExporter(0), startExporter(1)
	// The rename: the rejected profile gets a new name; its alert keeps
	// its labels, and only its name annotation changes.
	for i := range estate[0].profiles {
		if deref(estate[0].profiles[i].SID) == rejectedSID {
			estate[0].profiles[i].FriendlyName = simulator.Ptr("E2E Renamed Dental")
		}
	}
	sim.SetObjects(accountSID, kinds.CustomerProfiles, estate[0].profiles)
	waitFor(t, time.Minute, "the new name in Prometheus", func() (bool, error) {
		v, err := scalarQuery(promAddr, `count(twilio_trusthub_customer_profile_info{friendly_name="E2E Renamed Dental"})`)
		return v == 2, err
	})
	waitFor(t, time.Minute, "the alert to carry the new name", func() (bool, error) {
		return alertAnnotation(promAddr, rejectedSID, "name") == "E2E Renamed Dental", nil
	})
	// As long again as a group is notified after a change, and a little.
	time.Sleep(5 * time.Second)
	checkPages("after a restart, a gap and a rename")
}

// alertAnnotation returns an annotation of the firing alert about sid, as
// Prometheus holds it now.
func alertAnnotation(promAddr, sid, name string) string {
	resp, err := http.Get("http://" + promAddr + "/api/v1/alerts")
	if err != nil {
		return ""
	}
	defer func() { _ = resp.Body.Close() }()
	var r struct {
		Data struct {
			Alerts []struct {
				Labels      map[string]string `json:"labels"`
				Annotations map[string]string `json:"annotations"`
				State       string            `json:"state"`
			} `json:"alerts"`
		} `json:"data"`
	}
	if json.NewDecoder(resp.Body).Decode(&r) != nil {
		return ""
	}
	for _, a := range r.Data.Alerts {
		if a.Labels["sid"] == sid && a.State == "firing" {
			return a.Annotations[name]
		}
	}
	return ""
}

// checkDashboard runs every dashboard query against the Prometheus and
// requires data from each, and the status totals to count each profile
// once, not once per replica: the simulator's counts, and one replica's.
func checkDashboard(t *testing.T, promAddr, exporter string, estate []*estateAccount) {
	t.Helper()
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
	statusExpr := ""
	for name, expr := range queries {
		if strings.Contains(name, ": Customer-Profiles by status (") {
			statusExpr = expr
		}
	}
	if statusExpr == "" {
		t.Fatal(`no "Customer-Profiles by status" panel in the dashboard`)
	}
	got, err := vectorQuery(promAddr, statusExpr, "status")
	if err != nil {
		t.Fatal(err)
	}
	wantStatus := map[string]int{}
	for _, a := range estate {
		for _, p := range a.profiles {
			if p.Status != nil {
				wantStatus[*p.Status]++
			}
		}
	}
	oneReplica := replicaCounts(t, exporter)
	for status, n := range wantStatus {
		if got[status] != float64(n) || oneReplica[status] != float64(n) {
			t.Errorf("status %s: dashboard total %v, one replica %v, simulator %d", status, got[status], oneReplica[status], n)
		}
	}
}

// instantQuery runs expr and returns how many series or samples came back.
func instantQuery(promAddr, expr string) (int, error) { return instantQueryAt(promAddr, expr, "") }

// instantQueryAt is instantQuery at the evaluation time at (see queryAt).
func instantQueryAt(promAddr, expr, at string) (int, error) {
	r, err := queryAt(promAddr, expr, at)
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

func query(promAddr, expr string) (*queryResult, error) { return queryAt(promAddr, expr, "") }

// queryAt runs expr at the evaluation time at (Unix seconds), or now when
// at is empty.
func queryAt(promAddr, expr, at string) (*queryResult, error) {
	u := "http://" + promAddr + "/api/v1/query?query=" + url.QueryEscape(expr)
	if at != "" {
		u += "&time=" + at
	}
	resp, err := http.Get(u)
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

// replicaCounts returns one exporter's profile counts by status, summed
// over its accounts.
func replicaCounts(t *testing.T, addr string) map[string]float64 {
	t.Helper()
	re := regexp.MustCompile(`^\{account="[^"]+",status="([^"]+)"\}$`)
	out := map[string]float64{}
	for labels, v := range metricLines(t, "http://"+addr+"/metrics", "twilio_trusthub_customer_profiles") {
		if m := re.FindStringSubmatch(labels); m != nil {
			out[m[1]] += v
		}
	}
	return out
}
