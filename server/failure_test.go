package server

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/config"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/exporter"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/internal/failure"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/simulator"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/twilio"
)

// Each way TrustHub can misbehave, through the whole handler: up turns 0,
// the failure is counted under its reason, the last good counts are still
// served (max_stale), and once the API heals a scrape after the short
// failure backoff brings up back to 1, well before the cache TTL.
func TestFailureModes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fault  simulator.Fault
		reason string
	}{
		{"rate limited", simulator.Fault{Status: 429, Code: 20429}, failure.RateLimited},
		{"server error", simulator.Fault{Status: 503, Code: 20503}, failure.Server},
		{"connection dropped", simulator.Fault{Drop: true}, failure.Network},
		{"auth", simulator.Fault{Status: 401, Code: 20003}, failure.Auth},
		{"forbidden", simulator.Fault{Status: 403, Code: 20403}, failure.Auth},
		{"malformed JSON", simulator.Fault{Body: `{"meta": {"next_page_url": null}, "results": [{"sid": "BU1"`}, failure.Decode},
		{"no meta", simulator.Fault{Body: `{"results": []}`}, failure.Decode},
		{"results not a list", simulator.Fault{Body: `{"meta": {}, "results": 7}`}, failure.Decode},
		{"repeated page", simulator.Fault{NextPageURL: "self"}, failure.Paging},
		{"other host", simulator.Fault{NextPageURL: "http://other.invalid/v1/CustomerProfiles?Page=1"}, failure.Paging},
		{"slower than the timeout", simulator.Fault{Delay: 2 * time.Second}, failure.Timeout},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sim := simulator.New()
			sim.AddAccount(mainSID, "tok", simulator.Generate(mainSID, 25, time.Now(), 3))
			clock := &fakeClock{t: time.Now()}
			// The process's counters, by reason, as main.go registers them.
			totals := prometheus.NewRegistry()
			byReason := func() string {
				mfs, err := totals.Gather()
				if err != nil {
					t.Fatal(err)
				}
				var b strings.Builder
				for _, mf := range mfs {
					if _, err := expfmt.MetricFamilyToText(&b, mf); err != nil {
						t.Fatal(err)
					}
				}
				return b.String()
			}
			h := handlerOf(t, testSetup{api: sim, spec: func(spec *config.Config) {
				spec.PageSize = 10
				spec.CacheTTL = 10 * time.Minute
				spec.Timeout = 500 * time.Millisecond
				spec.FailureBackoff = 50 * time.Millisecond
			}, exporter: exporter.Options{Now: clock.Now, Retry: twilio.RetryPolicy{Attempts: 3, Base: time.Millisecond, Max: 2 * time.Millisecond}, Registerer: totals}})
			has := func(body, line string) bool { return strings.Contains(body, line+"\n") }

			_, body := scrapeBody(h, "")
			if !has(body, `twilio_trusthub_up{account="main"} 1`) {
				t.Fatalf("not up before the fault:\n%s", body)
			}
			counts := `twilio_trusthub_customer_profiles{account="main",status="`
			// The cache expires (within max_stale); the API misbehaves.
			clock.Advance(15 * time.Minute)
			sim.SetFault(tc.fault)
			_, body = scrapeBody(h, "")
			if tc.reason == failure.Timeout {
				// The scrape waits as long as the listing may take, so it can
				// end just before the listing records its timeout; and each
				// kind's listing times out on its own.
				timedOut := `twilio_trusthub_listing_errors_total{account="main",resource="customer_profiles"} 1`
				for i := 0; i < 100 && !has(body, timedOut); i++ {
					time.Sleep(20 * time.Millisecond)
					_, body = scrapeBody(h, "")
				}
			}
			if !has(body, `twilio_trusthub_up{account="main"} 0`) {
				t.Errorf("up is not 0 during the fault")
			}
			if !has(body, `twilio_trusthub_listing_errors_total{account="main",resource="customer_profiles"} 1`) {
				t.Errorf("the failure is not counted:\n%s", grep(body, "listing_errors_total"))
			}
			if got := byReason(); !has(got, `twilio_trusthub_exporter_listing_errors_total{reason="`+tc.reason+`",resource="customer_profiles"} 1`) {
				t.Errorf("the failure is not counted under reason %q:\n%s", tc.reason, grep(got, "listing_errors_total"))
			}
			if !strings.Contains(body, counts) {
				t.Error("the last good counts are not served within max_stale")
			}
			// Within the backoff nothing is tried: a failing API is not hammered.
			requests := sim.Requests()
			scrapeBody(h, "")
			if sim.Requests() != requests {
				t.Errorf("a scrape within the failure backoff called the API %d times", sim.Requests()-requests)
			}
			// Healed: after the backoff, the next scrape lists and up is 1.
			sim.ClearFault()
			clock.Advance(time.Second)
			_, body = scrapeBody(h, "")
			if !has(body, `twilio_trusthub_up{account="main"} 1`) {
				t.Errorf("up is not back to 1 after the API healed:\n%s", grep(body, "twilio_trusthub_up"))
			}
			// Beyond max_stale a failure drops the counts.
			clock.Advance(2 * time.Hour)
			sim.SetFault(tc.fault)
			clock.Advance(time.Hour)
			_, body = scrapeBody(h, "")
			if strings.Contains(body, counts) {
				t.Error("counts older than max_stale are still served")
			}
		})
	}
}

func grep(body, s string) string {
	var out []string
	for _, l := range strings.Split(body, "\n") {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
