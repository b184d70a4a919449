package e2e

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/internal/proctest"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/simulator"
)

const (
	// shardSubaccounts is how many subaccounts the sharding test discovers
	// under its one parent and spreads over the replicas.
	shardSubaccounts = 200
	// shardParent is the configured name of the parent account; its
	// subaccounts are labelled by SID.
	shardParent = "isv"
)

// perAccount counts the requests a simulator answers, by the account they
// authenticate as (the basic auth user: the account's SID) and by whether
// they were answered with 2xx. The list of subaccounts is counted apart:
// every replica reads it with the parent's credentials, so counted with
// the listings it would make the parent look listed by both.
type perAccount struct {
	next http.Handler
	mu   sync.Mutex
	ok   map[string]int
	// failed counts the answers other than 2xx, by account.
	failed map[string]int
	// discoveries counts the requests for the list of accounts.
	discoveries int
}

func newPerAccount(next http.Handler) *perAccount {
	return &perAccount{next: next, ok: map[string]int{}, failed: map[string]int{}}
}

// statusRecorder keeps the status code an answer was sent with.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (c *perAccount) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &statusRecorder{ResponseWriter: w}
	c.next.ServeHTTP(rec, r)
	user, _, _ := r.BasicAuth()
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case r.URL.Path == simulator.AccountsPath:
		c.discoveries++
	case rec.code/100 == 2:
		c.ok[user]++
	default:
		c.failed[user]++
	}
}

// counts returns the listing requests made as the account sid: those
// answered with 2xx and the others.
func (c *perAccount) counts(sid string) (ok, failed int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ok[sid], c.failed[sid]
}

func (c *perAccount) discoveryRequests() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.discoveries
}

// accountInfo is one twilio_trusthub_account_info series as Prometheus
// holds it.
type accountInfo struct {
	friendlyName, parent, status string
}

// accountInfos returns the twilio_trusthub_account_info series by account,
// and every account that has more than one.
func accountInfos(promAddr string) (map[string]accountInfo, []string, error) {
	r, err := query(promAddr, `twilio_trusthub_account_info`)
	if err != nil {
		return nil, nil, err
	}
	var samples []struct {
		Metric map[string]string `json:"metric"`
	}
	if err := json.Unmarshal(r.Data.Result, &samples); err != nil {
		return nil, nil, err
	}
	out := map[string]accountInfo{}
	var dups []string
	for _, s := range samples {
		a := s.Metric["account"]
		if _, dup := out[a]; dup {
			dups = append(dups, a)
		}
		out[a] = accountInfo{friendlyName: s.Metric["friendly_name"], parent: s.Metric["parent"], status: s.Metric["status"]}
	}
	return out, dups, nil
}

// The sharded deployment of examples/prometheus-sharded.yml, for real: one
// parent account whose 200 subaccounts both exporter replicas discover,
// Prometheus discovering the accounts over /accounts and probing each on
// the replica hashmod assigns it. Every account is in Prometheus once and
// named by account_info, each was listed by one replica only, and the
// shipped rules evaluate cleanly over the probed series.
func TestSharding(t *testing.T) {
	eachPrometheus(t, sharding)
}

func sharding(t *testing.T, promBin string) {
	dir := t.TempDir()
	now := time.Now()
	sim := simulator.New()
	parentSID := fmt.Sprintf("AC%032x", 0xe2e000)
	parentToken := rand.Text()
	sim.AddAccount(parentSID, parentToken, simulator.Generate(parentSID, 3, now, 1))
	// Every subaccount has a token of its own, known to the exporter only
	// from the parent's list of subaccounts: a listing made with any other
	// account's token is refused with 401.
	want := map[string]accountInfo{shardParent: {friendlyName: shardParent}}
	sids := []string{parentSID}
	for i := range shardSubaccounts {
		sid := fmt.Sprintf("AC%032x", 0xe2e001+i)
		name := fmt.Sprintf("customer-%03d", i)
		sim.AddSubaccount(parentSID, sid, name, rand.Text())
		sim.SetObjects(sid, kinds.CustomerProfiles, simulator.Generate(sid, 3, now, uint64(i+2)))
		want[sid] = accountInfo{friendlyName: name, parent: shardParent, status: "active"}
		sids = append(sids, sid)
	}
	label := func(sid string) string { // the account label of a SID
		if sid == parentSID {
			return shardParent
		}
		return sid
	}
	tokenFile := filepath.Join(dir, "parent_token")
	writeFile(t, tokenFile, parentToken)

	// The replicas share one configuration but for the API's address: each
	// reaches the simulator through its own counter, which tells which
	// replica listed which account. A short refresh has the list of
	// subaccounts read again during the test: a refresh that finds the
	// same accounts must change nothing Prometheus sees.
	var counters []*perAccount
	var exporters []string
	for i := range 2 {
		c := newPerAccount(sim)
		api := httptest.NewServer(c)
		t.Cleanup(api.Close)
		counters = append(counters, c)
		cfg := filepath.Join(dir, fmt.Sprintf("exporter-%d.yml", i))
		writeFile(t, cfg, fmt.Sprintf(`api_url: %s
messaging_api_url: %[1]s
accounts_api_url: %[1]s
cache_ttl: 1m
accounts:
  - name: %s
    account_sid: %s
    auth_token_file: %s
    subaccounts:
      discover: true
      refresh: 5s
`, api.URL, shardParent, parentSID, filepath.Base(tokenFile)))
		addr := proctest.FreeAddr(t)
		start(t, fmt.Sprintf("exporter-%d", i), "http://"+addr+"/-/ready", proctest.Binary(t),
			"--config.file="+cfg, "--web.listen-address="+addr)
		exporters = append(exporters, addr)
	}

	rules := readFile(t, filepath.Join(repo, "alerts", "twilio_trusthub.rules.yml"))
	nRules := rulesIn(t, "rules", rules)
	writeFile(t, filepath.Join(dir, "rules.yml"), regexp.MustCompile(`(?m)^(\s+)for: \S+$`).ReplaceAllString(rules, "${1}for: 0s"))

	promAddr := proctest.FreeAddr(t)
	promConfig := substitute(t, "examples/prometheus-sharded.yml", readFile(t, filepath.Join(repo, "examples", "prometheus-sharded.yml")),
		"scrape_interval: 1m", "scrape_interval: 2s",
		"evaluation_interval: 1m", "evaluation_interval: 1s",
		"scrape_timeout: 30s", "scrape_timeout: 2s",
		"refresh_interval: 1m", "refresh_interval: 2s",
		"../alerts/twilio_trusthub.rules.yml", filepath.Join(dir, "rules.yml"),
		"localhost:9093", proctest.FreeAddr(t), // no Alertmanager: the alerts are not the point here
		"exporter-0:10311", exporters[0],
		"exporter-1:10311", exporters[1],
	)
	writeFile(t, filepath.Join(dir, "prometheus.yml"), promConfig)
	start(t, "prometheus", "http://"+promAddr+"/-/ready", promBin,
		"--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "prom-data"),
		"--web.listen-address="+promAddr,
	)

	// Every account in Prometheus, each once, and listed.
	waitFor(t, 45*time.Second, fmt.Sprintf("the parent and its %d subaccounts probed and up", shardSubaccounts), func() (bool, error) {
		n, err := scalarQuery(promAddr, `count(twilio_trusthub_up == 1)`)
		return n == float64(len(want)), err
	})
	allIn := time.Now()
	perAcct, err := vectorQuery(promAddr, `count by (account) (twilio_trusthub_up)`, "account")
	if err != nil {
		t.Fatal(err)
	}
	for a, n := range perAcct {
		if _, ok := want[a]; !ok {
			t.Errorf("account %q in Prometheus: neither the parent nor a subaccount's SID", a)
		} else if n != 1 {
			t.Errorf("account %s: %v twilio_trusthub_up series, want 1", a, n)
		}
	}
	for a := range want {
		if _, ok := perAcct[a]; !ok {
			t.Errorf("account %s not in Prometheus", a)
		}
	}
	if n, err := scalarQuery(promAddr, `count(up{job="twilio_trusthub"} == 1)`); err != nil || n != float64(len(want)) {
		t.Errorf("%v probe targets up, want %d (%v)", n, len(want), err)
	}
	// Each replica's own metrics, once per replica, and no account's.
	waitFor(t, 20*time.Second, "both replicas' own metrics scraped", func() (bool, error) {
		n, err := scalarQuery(promAddr, `count(twilio_trusthub_exporter_build_info{job="twilio_trusthub_exporter"})`)
		return n == 2, err
	})
	if n, err := scalarQuery(promAddr, `count({job="twilio_trusthub_exporter", account!=""}) or vector(0)`); err != nil || n != 0 {
		t.Errorf("%v series with an account in the replicas' own metrics, want 0 (%v)", n, err)
	}
	if n, err := scalarQuery(promAddr, `count(twilio_trusthub_exporter_build_info)`); err != nil || n != 2 {
		t.Errorf("%v build_info series, want 2: one per replica (%v)", n, err)
	}

	// Each subaccount named, by its friendly name and its parent, once.
	infos, dups, err := accountInfos(promAddr)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range dups {
		t.Errorf("account %s: more than one twilio_trusthub_account_info series", a)
	}
	for a, w := range want {
		if got, ok := infos[a]; !ok {
			t.Errorf("account %s: no twilio_trusthub_account_info", a)
		} else if got != w {
			t.Errorf("account %s: twilio_trusthub_account_info %+v, want %+v", a, got, w)
		}
	}
	if len(infos) != len(want) {
		t.Errorf("%d accounts in twilio_trusthub_account_info, want %d", len(infos), len(want))
	}
	// The parent's discovery is probed with the parent, on one replica.
	if d, err := vectorQuery(promAddr, `twilio_trusthub_discovered_subaccounts`, "account"); err != nil || len(d) != 1 || d[shardParent] != shardSubaccounts {
		t.Errorf("twilio_trusthub_discovered_subaccounts %v, want {%s: %d} (%v)", d, shardParent, shardSubaccounts, err)
	}

	// Each account listed by exactly one replica, and both replicas used.
	// Both discovered the subaccounts: each reads the list itself.
	for i, c := range counters {
		if n := c.discoveryRequests(); n == 0 {
			t.Errorf("replica %d never read the list of subaccounts", i)
		}
	}
	var shares [2]int
	for _, sid := range sids {
		a, fa := counters[0].counts(sid)
		b, fb := counters[1].counts(sid)
		if fa+fb > 0 {
			t.Errorf("account %s: %d and %d listing requests refused or failed", label(sid), fa, fb)
		}
		switch {
		case a > 0 && b > 0:
			t.Errorf("account %s listed by both replicas (%d and %d requests)", label(sid), a, b)
		case a == 0 && b == 0:
			t.Errorf("account %s listed by no replica", label(sid))
		case a > 0:
			shares[0]++
		default:
			shares[1]++
		}
	}
	if shares[0] == 0 || shares[1] == 0 {
		t.Errorf("accounts per replica %v: one replica serves them all", shares)
	}
	t.Logf("accounts per replica: %v; list of subaccounts read %d and %d times",
		shares, counters[0].discoveryRequests(), counters[1].discoveryRequests())

	// The shipped rules evaluate cleanly over the probed series.
	rulesHealthy(t, promAddr, nRules, allIn.Add(time.Second), "all accounts arrived")
}
