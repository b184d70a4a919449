package e2e

import (
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/internal/proctest"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/simulator"
)

// A listing that fails once, between two scrapes, shows in increase() over
// the next hour, in Prometheus 2 and 3 without feature flags: in the
// account's own counter, present at 0 from the start, and in the
// process's counter by reason, which a job scraping /metrics has.
// (Neither version reads a counter's created timestamp by default, so a
// series born at 1 would show no increase at all.)
func TestOneFailureShowsInIncrease(t *testing.T) {
	eachPrometheus(t, func(t *testing.T, promBin string) {
		dir := t.TempDir()
		sim := simulator.New()
		const sid = "AC0e2e0000000000000000000000000042"
		sim.AddAccount(sid, "tok", simulator.Generate(sid, 3, time.Now(), 1))
		api := httptest.NewServer(sim)
		defer api.Close()
		writeFile(t, filepath.Join(dir, "exporter.yml"), fmt.Sprintf("api_url: %s\nmessaging_api_url: %[1]s\ncache_ttl: 2s\nfailure_backoff: 1s\n"+
			"accounts:\n  - {name: main, account_sid: %s, auth_token: tok}\n", api.URL, sid))
		exporter := proctest.FreeAddr(t)
		start(t, "exporter", "http://"+exporter+"/-/ready", proctest.Binary(t),
			"--config.file="+filepath.Join(dir, "exporter.yml"), "--web.listen-address="+exporter)
		promAddr := proctest.FreeAddr(t)
		writeFile(t, filepath.Join(dir, "prometheus.yml"), "global: {scrape_interval: 1s, scrape_timeout: 1s}\n"+
			"scrape_configs:\n  - job_name: twilio_trusthub\n    static_configs: [{targets: ['"+exporter+"']}]\n")
		start(t, "prometheus", "http://"+promAddr+"/-/ready", promBin,
			"--config.file="+filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path="+filepath.Join(dir, "data"),
			"--web.listen-address="+promAddr)

		const (
			account  = `twilio_trusthub_listing_errors_total{account="main",resource="customer_profiles"}`
			byReason = `twilio_trusthub_exporter_listing_errors_total{reason="auth",resource="customer_profiles"}`
		)
		// Both counters are in, at 0, for a few scrapes.
		waitFor(t, time.Minute, "the counters at 0 in Prometheus", func() (bool, error) {
			a, err := scalarQuery(promAddr, "count_over_time("+account+"[1m]) and max_over_time("+account+"[1m]) == 0")
			if err != nil {
				return false, err
			}
			r, err := scalarQuery(promAddr, "count_over_time("+byReason+"[1m]) and max_over_time("+byReason+"[1m]) == 0")
			return a >= 3 && r >= 3, err
		})

		// One refused request: one failed listing, not retried (auth).
		sim.SetFault(simulator.Fault{Times: 1, Path: kinds.CustomerProfiles.ListPath, Status: 401, Code: 20003})
		failedAt := time.Now()
		waitFor(t, time.Minute, "the failure in Prometheus", func() (bool, error) {
			a, err := scalarQuery(promAddr, account)
			if err != nil {
				return false, err
			}
			r, err := scalarQuery(promAddr, byReason)
			return a == 1 && r == 1, err
		})
		// Listed again after the backoff, and scraped a few more times.
		waitFor(t, time.Minute, "up again", func() (bool, error) {
			v, err := scalarQuery(promAddr, `min_over_time(twilio_trusthub_up{account="main"}[3s])`)
			return v == 1, err
		})

		// Now, and as Prometheus would evaluate it 59 minutes after the
		// failure, from the samples it has: the window still holds a 0.
		for _, at := range []time.Time{time.Now(), failedAt.Add(59 * time.Minute)} {
			ts := strconv.FormatInt(at.Unix(), 10)
			for _, expr := range []string{
				"increase(" + account + "[1h])",
				`sum by (reason) (increase(twilio_trusthub_exporter_listing_errors_total{resource="customer_profiles"}[1h]))`,
			} {
				r, err := queryAt(promAddr, expr+" > 0.5", ts)
				if err != nil {
					t.Fatal(err)
				}
				if n, err := instantQueryAt(promAddr, expr+" > 0.5", ts); err != nil || n != 1 {
					t.Errorf("at %s: %s > 0.5 gave %d series (%v): %s", at.Format(time.TimeOnly), expr, n, err, r.Data.Result)
				}
			}
		}
	})
}
