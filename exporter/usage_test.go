package exporter

import (
	"net/http/httptest"
	"testing"
	"time"

	promconfig "github.com/prometheus/common/config"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/config"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/simulator"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/twilio"
)

// What uses the objects with a problem is listed within their kind's
// listing, once: listings of an unchanged estate make no such request
// until the counts age (usage_max_age), and an object whose date_updated
// changed is counted again on its own. A failed count keeps the last one
// and fails nothing.
func TestUsageListedOnceUntilChanged(t *testing.T) {
	clock := now
	sim := simulator.New()
	objects := fixture()
	sim.AddAccount(sidMain, "main-token", objects)
	sim.SetAssignments(sidMain, kinds.CustomerProfiles, []simulator.ServedAssignment{
		{SID: simulator.Ptr("RA1"), CustomerProfileSID: simulator.Ptr("BU02"), ChannelEndpointType: simulator.Ptr("phone-number")},
	})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	spec := config.Default()
	spec.APIURL, spec.MessagingAPIURL = srv.URL, srv.URL
	spec.Resources = []*kinds.Kind{kinds.CustomerProfiles}
	spec.CacheTTL = time.Minute
	spec.Accounts = []config.Account{{Name: "main", AccountSID: sidMain, AuthToken: promconfig.Secret("main-token")}}
	cfg, err := config.New(spec)
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(cfg, Options{Now: func() time.Time { return clock }, Retry: twilio.RetryPolicy{Attempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)

	// The five profiles with a problem: BU01 (expiring), BU02 (rejected),
	// BU03 (expired), BU04 (in review), BU05 (an unknown status).
	subjects := []string{"BU01", "BU02", "BU03", "BU04", "BU05"}
	requests := func() map[string]int64 {
		out := map[string]int64{"list": sim.RequestsTo(kinds.CustomerProfiles.ListPath)}
		for _, sid := range append(subjects, "BU11") {
			out[sid] = sim.RequestsTo(kinds.CustomerProfileEndpoints.Path(sid))
		}
		return out
	}
	for _, step := range []struct {
		name  string
		later time.Duration
		// change runs before the listing.
		change func()
		// want are the requests made by this listing.
		want           map[string]int64
		wantEndpoints  float64
		wantUsageError float64
	}{
		{name: "first listing: every profile with a problem", later: 0,
			want: map[string]int64{"list": 1, "BU01": 1, "BU02": 1, "BU03": 1, "BU04": 1, "BU05": 1}, wantEndpoints: 1},
		{name: "unchanged: the list only", later: 2 * time.Minute,
			want: map[string]int64{"list": 1}, wantEndpoints: 1},
		{name: "BU02 changed and gained a number: BU02 again", later: 2 * time.Minute,
			change: func() {
				objects[1].DateUpdated = simulator.Ptr(clock)
				sim.SetObjects(sidMain, kinds.CustomerProfiles, objects)
				sim.SetAssignments(sidMain, kinds.CustomerProfiles, []simulator.ServedAssignment{
					{SID: simulator.Ptr("RA1"), CustomerProfileSID: simulator.Ptr("BU02"), ChannelEndpointType: simulator.Ptr("phone-number")},
					{SID: simulator.Ptr("RA2"), CustomerProfileSID: simulator.Ptr("BU02"), ChannelEndpointType: simulator.Ptr("phone-number")},
				})
			},
			want: map[string]int64{"list": 1, "BU02": 1}, wantEndpoints: 2},
		{name: "a failing count keeps the last one", later: 61 * time.Minute,
			change: func() {
				sim.SetFault(simulator.Fault{Path: kinds.CustomerProfileEndpoints.Path("BU02"), Status: 500, Code: 20500})
			},
			want:          map[string]int64{"list": 1, "BU01": 1, "BU02": 1, "BU03": 1, "BU04": 1, "BU05": 1},
			wantEndpoints: 2, wantUsageError: 1},
	} {
		clock = clock.Add(step.later)
		if step.change != nil {
			step.change()
		}
		before := requests()
		g := gatherer(t, e)
		if up := seriesValue(t, g, "twilio_trusthub_up", "main"); up != 1 {
			t.Fatalf("%s: up = %v", step.name, up)
		}
		after := requests()
		for key := range after {
			if d := after[key] - before[key]; d != step.want[key] {
				t.Errorf("%s: %s: %d requests, want %d", step.name, key, d, step.want[key])
			}
		}
		if got := seriesValue(t, g, "twilio_trusthub_customer_profile_channel_endpoints", "main", "BU02", "phone-number"); got != step.wantEndpoints {
			t.Errorf("%s: BU02's endpoints = %v, want %v", step.name, got, step.wantEndpoints)
		}
		if got := seriesValue(t, g, "twilio_trusthub_usage_listing_errors_total", "main", "customer_profiles"); got != step.wantUsageError {
			t.Errorf("%s: usage errors = %v, want %v", step.name, got, step.wantUsageError)
		}
	}
}
