package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
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

// shardAccounts is how many accounts the sharding test spreads.
const shardAccounts = 200

// perAccount counts the requests a simulator answers, by the account they
// authenticate as (the basic auth user: the account SID).
type perAccount struct {
	next http.Handler
	mu   sync.Mutex
	n    map[string]int
}

func (c *perAccount) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	user, _, _ := r.BasicAuth()
	c.mu.Lock()
	c.n[user]++
	c.mu.Unlock()
	c.next.ServeHTTP(w, r)
}

func (c *perAccount) count(sid string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[sid]
}

// The sharded deployment of examples/prometheus-sharded.yml, for real:
// 200 accounts, two exporter replicas, Prometheus discovering the accounts
// over /accounts and probing each on the replica hashmod assigns it.
// Every account is in Prometheus once, each was listed by one replica
// only, and the shipped rules evaluate cleanly over the probed series.
func TestSharding(t *testing.T) {
	for _, p := range prometheusBinaries() {
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
			sharding(t, bin)
		})
	}
}

func sharding(t *testing.T, promBin string) {
	dir := t.TempDir()
	now := time.Now()
	sim := simulator.New()
	var accounts strings.Builder
	sids := map[string]string{} // account name → SID
	for i := range shardAccounts {
		sid := fmt.Sprintf("AC%032x", 0xe2e000+i)
		name := fmt.Sprintf("customer-%03d", i)
		sids[name] = sid
		sim.AddAccount(sid, authToken, simulator.Generate(sid, 3, now, uint64(i)))
		fmt.Fprintf(&accounts, "  - name: %s\n    account_sid: %s\n    auth_token: %s\n", name, sid, authToken)
	}

	// The replicas share one configuration but for the API's address: each
	// reaches the simulator through its own counter, which tells which
	// replica listed which account.
	var counters []*perAccount
	var exporters []string
	for i := range 2 {
		c := &perAccount{next: sim, n: map[string]int{}}
		api := httptest.NewServer(c)
		t.Cleanup(api.Close)
		counters = append(counters, c)
		cfg := filepath.Join(dir, fmt.Sprintf("exporter-%d.yml", i))
		writeFile(t, cfg, fmt.Sprintf("api_url: %s\nmessaging_api_url: %[1]s\ncache_ttl: 1m\naccounts:\n%s", api.URL, accounts.String()))
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
		"refresh_interval: 1m", "refresh_interval: 5s",
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
	waitFor(t, 45*time.Second, fmt.Sprintf("all %d accounts probed and up", shardAccounts), func() (bool, error) {
		n, err := scalarQuery(promAddr, `count(twilio_trusthub_up == 1)`)
		return n == shardAccounts, err
	})
	allIn := time.Now()
	perAcct, err := vectorQuery(promAddr, `count by (account) (twilio_trusthub_up)`, "account")
	if err != nil {
		t.Fatal(err)
	}
	if len(perAcct) != shardAccounts {
		t.Errorf("%d accounts in Prometheus, want %d", len(perAcct), shardAccounts)
	}
	for name, n := range perAcct {
		if n != 1 {
			t.Errorf("account %s: %v twilio_trusthub_up series, want 1", name, n)
		}
	}
	if n, err := scalarQuery(promAddr, `count(up{job="twilio_trusthub"} == 1)`); err != nil || n != shardAccounts {
		t.Errorf("%v probe targets up, want %d (%v)", n, shardAccounts, err)
	}

	// Each account listed by exactly one replica, and both replicas used.
	var shares [2]int
	for name, sid := range sids {
		a, b := counters[0].count(sid), counters[1].count(sid)
		switch {
		case a > 0 && b > 0:
			t.Errorf("account %s listed by both replicas (%d and %d requests)", name, a, b)
		case a == 0 && b == 0:
			t.Errorf("account %s listed by no replica", name)
		case a > 0:
			shares[0]++
		default:
			shares[1]++
		}
	}
	if shares[0] == 0 || shares[1] == 0 {
		t.Errorf("accounts per replica %v: one replica serves them all", shares)
	}
	t.Logf("accounts per replica: %v", shares)

	// The shipped rules evaluate cleanly over the probed series.
	waitFor(t, 30*time.Second, "every rule evaluated after all accounts arrived", func() (bool, error) {
		rs, err := ruleHealth(promAddr)
		if err != nil {
			return false, err
		}
		for _, r := range rs {
			if r.LastEvaluation.Before(allIn.Add(time.Second)) {
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
