package server

import (
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/config"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/simulator"
)

// simHandler serves 25 profiles in 3 pages of 10 through the whole handler,
// the simulator misbehaving as f says. Few profiles keep the scrapes, not
// the paging, from dominating the test's time.
func simHandler(t *testing.T, f simulator.Fault, ttl time.Duration) (*simulator.Server, http.Handler) {
	t.Helper()
	sim := simulator.New()
	sim.AddAccount(mainSID, "tok", simulator.Generate(mainSID, 25, time.Now(), 3))
	sim.SetFault(f)
	return sim, handlerOf(t, testSetup{api: sim, spec: func(spec *config.Config) {
		spec.PageSize = 10
		spec.CacheTTL = ttl
		// The TrustHub kinds, whose requests the tests count.
		spec.Resources = []*kinds.Kind{kinds.CustomerProfiles, kinds.TrustProducts}
	}, options: Options{MaxRequests: 200, TimeoutOffset: 50 * time.Millisecond}})
}

func scrapeBody(h http.Handler, timeout string) (int, string) {
	r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	if timeout != "" {
		r.Header.Set(ScrapeTimeoutHeader, timeout)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code, w.Body.String()
}

// 100 simultaneous scrapes on a cold cache make one listing: 3 requests.
func TestHundredScrapesOneListing(t *testing.T) {
	// Each page answer is held back, so every scrape arrives during the listing.
	sim, h := simHandler(t, simulator.Fault{Delay: 100 * time.Millisecond}, time.Minute)
	var wg sync.WaitGroup
	var mu sync.Mutex
	ups := 0
	for range 100 {
		wg.Go(func() {
			code, body := scrapeBody(h, "30")
			mu.Lock()
			defer mu.Unlock()
			if code == http.StatusOK && strings.Contains(body, `twilio_trusthub_up{account="main"} 1`) {
				ups++
			}
		})
	}
	wg.Wait()
	// One listing of each kind: 3 pages of profiles, 1 (empty) page of
	// Trust Products.
	if cp, tp := sim.RequestsTo("/v1/CustomerProfiles"), sim.RequestsTo("/v1/TrustProducts"); cp != 3 || tp != 1 {
		t.Errorf("100 concurrent scrapes made %d + %d API requests, want 3 + 1 (one listing of each kind)", cp, tp)
	}
	if ups != 100 {
		t.Errorf("%d of 100 scrapes got the data", ups)
	}
}

// Two Prometheus servers of an HA pair, scraping the same exporter in turn
// within the cache TTL, share the listings: no doubled API traffic.
func TestHAPairSharesListings(t *testing.T) {
	sim, h := simHandler(t, simulator.Fault{}, time.Minute)
	for range 10 {
		var wg sync.WaitGroup
		for range 2 {
			wg.Go(func() { scrapeBody(h, "10") })
		}
		wg.Wait()
	}
	if cp, tp := sim.RequestsTo("/v1/CustomerProfiles"), sim.RequestsTo("/v1/TrustProducts"); cp != 3 || tp != 1 {
		t.Errorf("20 scrapes by two servers made %d + %d API requests, want 3 + 1", cp, tp)
	}
}

// A slow API: each scrape answers by its deadline, the listing finishes in
// the background, and nothing is left behind per scrape.
func TestSlowAPINoLeaks(t *testing.T) {
	// A TTL of 0: every scrape wants a fresh listing.
	sim, h := simHandler(t, simulator.Fault{}, 0)
	scrapeBody(h, "10") // one listing, so the baseline holds its idle connection
	time.Sleep(100 * time.Millisecond)
	baseline := runtime.NumGoroutine()

	// Each page now takes 300ms, a listing about a second; scrapes give up
	// after 100ms, 30 of them one after the other.
	sim.SetFault(simulator.Fault{Delay: 300 * time.Millisecond})
	before := sim.Requests()
	for range 30 {
		if code, _ := scrapeBody(h, "0.15"); code != http.StatusOK {
			t.Fatalf("scrape: HTTP %d", code)
		}
	}
	// Scrapes joined the listing under way instead of each starting one.
	if n := sim.Requests() - before; n >= 30 {
		t.Errorf("30 scrapes made %d API requests: they did not share listings", n)
	}
	// Heal the API; a patient scrape waits for the listing under way.
	sim.ClearFault()
	if _, body := scrapeBody(h, "10"); !strings.Contains(body, `twilio_trusthub_up{account="main"} 1`) {
		t.Errorf("not up once the slow listing finished:\n%s", body)
	}
	// Goroutines settle back: none is kept per scrape. A listing may leave
	// one more idle keep-alive connection than the baseline's (it asks for
	// the next page while reading the current one), which is three
	// goroutines: the client's read and write loops and the server's
	// connection. A leak per scrape would be 30 times that.
	const slack = 3
	var now int
	for range 100 {
		if now = runtime.NumGoroutine(); now <= baseline+slack {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if now > baseline+slack {
		buf := make([]byte, 1<<20)
		n := runtime.Stack(buf, true)
		t.Errorf("%d goroutines after 30 slow scrapes, %d before:\n%s", now, baseline, buf[:n])
	}
}
