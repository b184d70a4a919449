package e2e

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/internal/proctest"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/simulator"
)

// scaleSubaccounts is how many subaccounts the dashboard is held to: an
// ISV's estate.
const scaleSubaccounts = 1000

// maxPanelRows bounds what any dashboard query may return: a person reads a
// panel of 50 rows; one of 5,000 is a wall.
const maxPanelRows = 50

// Every dashboard query, run against a real Prometheus holding an estate
// of 1,000 discovered subaccounts with objects of every kind, problems
// among them: each returns data, and none more than 50 series or rows. Run
// with Prometheus 2 and 3.
func TestDashboardAtScale(t *testing.T) {
	eachPrometheus(t, dashboardAtScale)
}

func dashboardAtScale(t *testing.T, promBin string) {
	dir := t.TempDir()
	now := time.Now()
	sim := simulator.New()
	parentSID := fmt.Sprintf("AC%032x", 0x5ca1e000)
	parentToken := rand.Text()
	sim.AddAccount(parentSID, parentToken, nil)
	for i := range scaleSubaccounts {
		sid := fmt.Sprintf("AC%032x", 0x5ca1e001+i)
		seed := uint64(1000 + i)
		sim.AddSubaccount(parentSID, sid, fmt.Sprintf("customer-%04d", i), rand.Text())
		profiles := simulator.Generate(sid, 4, now, seed)
		sim.SetObjects(sid, kinds.CustomerProfiles, profiles)
		sim.SetAssignments(sid, kinds.CustomerProfiles, simulator.GenerateAssignments(kinds.CustomerProfiles, profiles, now, seed))
		trustProducts := simulator.GenerateTrustProducts(sid, 2, now, seed)
		sim.SetObjects(sid, kinds.TrustProducts, trustProducts)
		// Every tenth has brands, campaigns and verifications in every
		// status; the others a couple in review.
		brands := 2
		if i%10 == 0 {
			brands = 8
		}
		m := simulator.GenerateMessaging(brands, now, seed, trustProducts)
		simulator.LinkProfiles(&m, profiles)
		sim.SetMessaging(sid, m)
	}
	api := httptest.NewServer(sim)
	t.Cleanup(api.Close)
	writeFile(t, filepath.Join(dir, "token"), parentToken)
	writeFile(t, filepath.Join(dir, "exporter.yml"), fmt.Sprintf(`api_url: %s
messaging_api_url: %[1]s
accounts_api_url: %[1]s
cache_ttl: 10m
max_concurrent_listings: 20
accounts:
  - name: isv
    account_sid: %s
    auth_token_file: token
    subaccounts: {discover: true}
`, api.URL, parentSID))
	expAddr := proctest.FreeAddr(t)
	start(t, "exporter", "http://"+expAddr+"/-/ready", proctest.Binary(t), "--config.file="+filepath.Join(dir, "exporter.yml"), "--web.listen-address="+expAddr)

	// The rules too: the dashboard reads the usage recording rule and ALERTS.
	writeFile(t, filepath.Join(dir, "rules.yml"), mixinRules(t, testDurations))
	promAddr := proctest.FreeAddr(t)
	writeFile(t, filepath.Join(dir, "prometheus.yml"), fmt.Sprintf(`global: {scrape_interval: 20s, evaluation_interval: 5s, scrape_timeout: 20s}
rule_files: [%q]
scrape_configs: [{job_name: twilio_trusthub, static_configs: [{targets: [%q]}]}]
`, filepath.Join(dir, "rules.yml"), expAddr))
	start(t, "prometheus", "http://"+promAddr+"/-/ready", promBin, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "prom-data"), "--web.listen-address="+promAddr)

	// Every subaccount listed, every kind up, and the alerts evaluated on it.
	waitFor(t, 5*time.Minute, "every subaccount's every kind up in Prometheus", func() (bool, error) {
		v, err := scalarQuery(promAddr, `count(twilio_trusthub_resource_up == 1)`)
		return v == float64((scaleSubaccounts+1)*len(kinds.All)), err
	})
	waitFor(t, time.Minute, "the usage recording rule and the alerts over the whole estate", func() (bool, error) {
		v, err := scalarQuery(promAddr, `count(ALERTS{alertstate="firing",severity="critical"})`)
		return v > maxPanelRows, err
	})
	// The rate and increase panels read [1m]: two successful scrapes in
	// it. A fast first listing can have every kind up after one scrape.
	waitFor(t, 2*time.Minute, "two successful scrapes within the last minute", func() (bool, error) {
		v, err := scalarQuery(promAddr, `sum_over_time(up{job="twilio_trusthub"}[55s])`)
		return v >= 2, err
	})

	for _, expr := range []string{`up{job="twilio_trusthub"}`, `scrape_duration_seconds{job="twilio_trusthub"}`, `scrape_samples_scraped{job="twilio_trusthub"}`} {
		v, err := scalarQuery(promAddr, expr)
		t.Logf("%s = %v (%v)", expr, v, err)
	}
	// Every query at one moment: just after a successful scrape, so that
	// one failed on a busy machine (its staleness markers hide the data)
	// cannot empty a panel.
	last, err := scalarQuery(promAddr, `max(timestamp(up{job="twilio_trusthub"} == 1))`)
	if err != nil || last == 0 {
		t.Fatalf("no successful scrape: %v", err)
	}
	at := fmt.Sprintf("%.3f", last+1)
	var report []string
	for name, expr := range dashboardQueries(t) {
		n, err := instantQueryAt(promAddr, expr, at)
		switch {
		case err != nil:
			t.Errorf("%s: %v\n%s", name, err, expr)
		case n == 0:
			t.Errorf("%s: no data at %d subaccounts\n%s", name, scaleSubaccounts, expr)
		case n > maxPanelRows:
			t.Errorf("%s: %d series or rows at %d subaccounts, want at most %d\n%s", name, n, scaleSubaccounts, maxPanelRows, expr)
		}
		report = append(report, fmt.Sprintf("%3d  %s", n, name))
	}
	sort.Strings(report)
	t.Logf("series or rows per dashboard query at %d subaccounts:\n%s", scaleSubaccounts, strings.Join(report, "\n"))
	// The estate had problems to show: the bound above cut real lists.
	if r, err := query(promAddr, `count(sid:twilio_trusthub_usage:sum > 0)`); err != nil {
		t.Fatal(err)
	} else {
		var s []struct{ Value [2]any }
		_ = json.Unmarshal(r.Data.Result, &s)
		t.Logf("objects in use with something counted: %v", s)
	}
}
