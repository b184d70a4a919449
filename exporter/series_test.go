package exporter

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/simulator"
)

// maxQuietSeries is what a quiet account may cost Prometheus in aggregate
// series: an ISV's thousands of subaccounts are mostly quiet, and each
// costs this many series in every Prometheus that scrapes them.
const maxQuietSeries = 60

// A quiet account (three approved profiles, every other kind empty) costs
// at most maxQuietSeries aggregate series, and still carries each kind's
// documented statuses at 0 and its failure counter at 0, so that the first
// failure shows in increase().
func TestQuietAccountSeries(t *testing.T) {
	sim := simulator.New()
	var profiles []simulator.ServedObject
	for i := range 3 {
		profiles = append(profiles, simulator.ServedObject{
			SID: simulator.Ptr(string(rune('A'+i)) + "U0123456789abcdef0123456789abcd"), FriendlyName: simulator.Ptr("quiet"),
			Status: simulator.Ptr("twilio-approved"), ValidUntil: simulator.Ptr(now.Add(300 * 24 * time.Hour)),
		})
	}
	sim.AddAccount(sidMain, "main-token", profiles)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	e := mainExporter(t, srv.URL, srv.URL)
	mfs, err := gatherer(t, e).Gather()
	if err != nil {
		t.Fatal(err)
	}
	byFamily, total := map[string]int{}, 0
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if labelValue(m, "account") == "main" && labelValue(m, "sid") == "" {
				byFamily[mf.GetName()]++
				total++
			}
		}
	}
	t.Logf("%d aggregate series for a quiet account: %v", total, byFamily)
	if total > maxQuietSeries {
		t.Errorf("%d aggregate series for a quiet account, want at most %d", total, maxQuietSeries)
	}
	for _, k := range kinds.All {
		for _, status := range k.Statuses {
			want := 0.0
			if k == kinds.CustomerProfiles && status == "twilio-approved" {
				want = float64(len(profiles))
			}
			if got := seriesValue(t, gatherer(t, e), k.Metric(k.Plural), "main", status); got != want {
				t.Errorf("%s{status=%q} = %v, want %v", k.Name, status, got, want)
			}
		}
		if got := seriesValue(t, gatherer(t, e), "twilio_trusthub_listing_errors_total", "main", k.Name); got != 0 {
			t.Errorf("listing_errors_total{resource=%q} = %v, want 0 from the start", k.Name, got)
		}
	}
}
