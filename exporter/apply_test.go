package exporter

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	promconfig "github.com/prometheus/common/config"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/config"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/simulator"
)

const (
	sidB = "AC00000000000000000000000000000b0b"
	sidC = "AC00000000000000000000000000000c0c"
)

// byUser counts the requests the simulator behind it answers, by the
// basic-auth user: which accounts listed.
type byUser struct {
	h  http.Handler
	mu sync.Mutex
	n  map[string]int
}

func (b *byUser) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	user, _, _ := r.BasicAuth()
	b.mu.Lock()
	b.n[user]++
	b.mu.Unlock()
	b.h.ServeHTTP(w, r)
}

// take returns the SIDs that made requests since the last take, sorted.
func (b *byUser) take() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for u := range b.n {
		out = append(out, u)
	}
	clear(b.n)
	slices.Sort(out)
	return out
}

// applyEstate serves main, b and c, each with the fixture's
// Customer-Profiles and main's Trust Products.
func applyEstate(t *testing.T) (*simulator.Server, *byUser, string) {
	t.Helper()
	sim := simulator.New()
	for sid, token := range map[string]string{sidMain: "main-token", sidB: "b-token", sidC: "c-token"} {
		sim.AddAccount(sid, token, fixture())
	}
	sim.SetObjects(sidMain, kinds.TrustProducts, trustProducts())
	counter := &byUser{h: sim, n: map[string]int{}}
	srv := httptest.NewServer(counter)
	t.Cleanup(srv.Close)
	return sim, counter, srv.URL
}

// applySpec is the configuration every case starts from: main and b,
// Customer-Profiles only.
func applySpec(url string) config.Config {
	spec := config.Default()
	spec.APIURL, spec.MessagingAPIURL, spec.AccountsAPIURL = url, url, url
	spec.Resources = []*kinds.Kind{kinds.CustomerProfiles}
	spec.CacheTTL = 10 * time.Minute
	spec.Accounts = []config.Account{
		{Name: "main", AccountSID: sidMain, AuthToken: promconfig.Secret("main-token"), Resources: []*kinds.Kind{kinds.CustomerProfiles}},
		{Name: "b", AccountSID: sidB, AuthToken: promconfig.Secret("b-token"), Resources: []*kinds.Kind{kinds.CustomerProfiles}},
	}
	return spec
}

// upLines are the scrape's twilio_trusthub_up series.
func upLines(t *testing.T, e *Exporter) []string {
	t.Helper()
	lines := series(t, e, "twilio_trusthub_up[")
	slices.Sort(lines)
	return lines
}

// A configuration applied lists again only what it changes: what would
// list the same keeps its cache, so a reload of the same file asks
// Twilio nothing, and a new token re-lists that account alone.
func TestApplyListsOnlyWhatChanged(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*config.Config, *simulator.Server)
		// relisted are the accounts (their SIDs) that list again.
		relisted []string
		up       []string
	}{
		{
			name:   "the same configuration",
			change: func(*config.Config, *simulator.Server) {},
			up:     []string{"b", "main"},
		},
		{
			name: "timings and the bound on listings",
			change: func(c *config.Config, _ *simulator.Server) {
				c.CacheTTL, c.MaxStale, c.Timeout, c.FailureBackoff = 20*time.Minute, time.Hour, 5*time.Second, time.Second
				c.MaxConcurrentListings = 2
			},
			up: []string{"b", "main"},
		},
		{
			name: "one account's token",
			change: func(c *config.Config, sim *simulator.Server) {
				sim.AddAccount(sidB, "b-token-2", fixture())
				c.Accounts[1].AuthToken = "b-token-2"
			},
			relisted: []string{sidB},
			up:       []string{"b", "main"},
		},
		{
			name: "an account added",
			change: func(c *config.Config, _ *simulator.Server) {
				c.Accounts = append(c.Accounts, config.Account{Name: "c", AccountSID: sidC, AuthToken: "c-token", Resources: []*kinds.Kind{kinds.CustomerProfiles}})
			},
			relisted: []string{sidC},
			up:       []string{"b", "c", "main"},
		},
		{
			name:   "an account removed",
			change: func(c *config.Config, _ *simulator.Server) { c.Accounts = c.Accounts[:1] },
			up:     []string{"main"},
		},
		{
			name: "a kind added to one account",
			change: func(c *config.Config, _ *simulator.Server) {
				c.Accounts[0].Resources = []*kinds.Kind{kinds.CustomerProfiles, kinds.TrustProducts}
			},
			relisted: []string{sidMain},
			up:       []string{"b", "main"},
		},
		{
			name:     "the page size",
			change:   func(c *config.Config, _ *simulator.Server) { c.PageSize = 2 },
			relisted: []string{sidB, sidMain},
			up:       []string{"b", "main"},
		},
		{
			name:     "per-object series turned off",
			change:   func(c *config.Config, _ *simulator.Server) { c.PerObjectMetrics = false },
			relisted: []string{sidB, sidMain},
			up:       []string{"b", "main"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sim, counter, url := applyEstate(t)
			e := startExporter(t, applySpec(url), Options{Now: func() time.Time { return now }})
			e.Scrape(context.Background())
			if got := counter.take(); !slices.Equal(got, []string{sidB, sidMain}) {
				t.Fatalf("the first scrape listed %v", got)
			}

			next := applySpec(url)
			tc.change(&next, sim)
			cfg, err := config.New(next)
			if err != nil {
				t.Fatal(err)
			}
			if err := e.Apply(cfg); err != nil {
				t.Fatal(err)
			}
			up := upLines(t, e)
			if got := counter.take(); !slices.Equal(got, tc.relisted) {
				t.Errorf("listed again: %v, want %v", got, tc.relisted)
			}
			var want []string
			for _, name := range tc.up {
				want = append(want, "twilio_trusthub_up[account="+name+"] 1")
			}
			if !slices.Equal(up, want) {
				t.Errorf("after the change:\n%s\nwant\n%s", strings.Join(up, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// A shorter cache_ttl takes effect on the entries kept: they list again
// once the new TTL has passed, not the old one.
func TestApplyTimingsTakeEffect(t *testing.T) {
	_, counter, url := applyEstate(t)
	clock := now
	e := startExporter(t, applySpec(url), Options{Now: func() time.Time { return clock }})
	e.Scrape(context.Background())
	counter.take()

	spec := applySpec(url)
	spec.CacheTTL = time.Minute
	cfg, err := config.New(spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(2 * time.Minute) // within the old TTL, past the new
	e.Scrape(context.Background())
	if got := counter.take(); !slices.Equal(got, []string{sidB, sidMain}) {
		t.Errorf("listed %v two minutes on with a one-minute TTL, want both accounts", got)
	}
}

// A configuration that cannot be applied changes nothing.
func TestApplyRefusedKeepsRunning(t *testing.T) {
	_, counter, url := applyEstate(t)
	cfg, err := config.New(applySpec(url))
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(cfg, Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	e.Scrape(context.Background())
	counter.take()

	// What config.New would refuse, built past it: a client that cannot
	// be built.
	bad := *cfg
	bad.APIURL = "http://[::1"
	bad.Accounts = bad.Accounts[:1]
	err = e.Apply(&bad)
	if err == nil || !strings.Contains(err.Error(), "api_url") {
		t.Fatalf("Apply: %v, want an error naming api_url", err)
	}
	if got, want := upLines(t, e), []string{"twilio_trusthub_up[account=b] 1", "twilio_trusthub_up[account=main] 1"}; !slices.Equal(got, want) {
		t.Errorf("after the refused configuration: %v, want %v", got, want)
	}
	if got := counter.take(); len(got) != 0 {
		t.Errorf("listed %v after a refused configuration", got)
	}
}

// A parent whose discovery is unchanged keeps the subaccounts it found,
// without listing them again; they take its new resources at once.
func TestApplyKeepsDiscoveredSubaccounts(t *testing.T) {
	sim, url := isv(t, 2)
	e, set := isvExporter(t, url, 10, nil)
	set.Refresh(context.Background())
	e.Scrape(context.Background())
	before := e.Accounts()
	discoveries, profiles := sim.RequestsTo(simulator.AccountsPath), sim.RequestsTo(kinds.CustomerProfiles.ListPath)

	cfg := *e.cfg
	cfg.Accounts = slices.Clone(cfg.Accounts)
	cfg.Accounts[0].Resources = []*kinds.Kind{kinds.CustomerProfiles, kinds.TrustProducts}
	if err := e.Apply(&cfg); err != nil {
		t.Fatal(err)
	}
	if got := e.Accounts(); !slices.Equal(got, before) {
		t.Fatalf("accounts after the reload: %v, want %v", got, before)
	}
	if got := series(t, e, `twilio_trusthub_resource_up[account=`+subSID(1)+` resource=trust_products] 1`); len(got) != 1 {
		t.Errorf("the subaccount does not list the parent's new kind: %v", got)
	}
	if got := series(t, e, `twilio_trusthub_customer_profiles[account=`+subSID(1)+` status=twilio-rejected] 1`); len(got) != 1 {
		t.Errorf("the subaccount's Customer-Profiles are not kept: %v", got)
	}
	if got := sim.RequestsTo(simulator.AccountsPath) - discoveries; got != 0 {
		t.Errorf("%d discovery requests after the reload, want 0", got)
	}
	if got := sim.RequestsTo(kinds.CustomerProfiles.ListPath) - profiles; got != 0 {
		t.Errorf("%d Customer-Profiles requests after the reload, want 0", got)
	}
}

// No more than max_requests_per_account requests are in flight to one
// account, across its five listings (each with its parents, usage counts
// and pages asked for ahead) and a parent's discovery; accounts do not
// share the bound.
func TestRequestsPerAccountBounded(t *testing.T) {
	const bound = 3
	sim := simulator.New()
	estate := func(sid string) {
		profiles := simulator.Generate(sid, 60, now, 7)
		sim.AddAccount(sid, sid+"-token", profiles)
		sim.SetAssignments(sid, kinds.CustomerProfiles, simulator.GenerateAssignments(kinds.CustomerProfiles, profiles, now, 7))
		tps := simulator.GenerateTrustProducts(sid, 20, now, 7)
		sim.SetObjects(sid, kinds.TrustProducts, tps)
		m := simulator.GenerateMessaging(40, now, 7, tps)
		simulator.LinkProfiles(&m, profiles)
		sim.SetMessaging(sid, m)
	}
	estate(sidMain)
	estate(sidB)
	for i := range 5 {
		sim.AddSubaccount(sidMain, subSID(i), fmt.Sprintf("cust-%d", i), fmt.Sprintf("sub-token-%d", i))
	}
	// Each answer waits, so that requests overlap unless bounded.
	sim.SetFault(simulator.Fault{Delay: 10 * time.Millisecond})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	spec := config.Default()
	spec.APIURL, spec.MessagingAPIURL, spec.AccountsAPIURL = srv.URL, srv.URL, srv.URL
	spec.PageSize = 5 // many pages: pages asked for ahead overlap
	spec.MaxRequestsPerAccount = bound
	spec.Accounts = []config.Account{
		{Name: "main", AccountSID: sidMain, AuthToken: sidMain + "-token", Subaccounts: &config.Subaccounts{Discover: true, Refresh: time.Hour}},
		{Name: "b", AccountSID: sidB, AuthToken: sidB + "-token"},
	}
	cfg, err := config.New(spec)
	if err != nil {
		t.Fatal(err)
	}
	e, err := build(cfg, Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	var wg sync.WaitGroup
	wg.Go(func() { e.set.Refresh(context.Background()) }) // the discovery, as main
	wg.Go(func() { e.Scrape(context.Background()) })
	wg.Wait()
	up := upLines(t, e)
	for _, line := range up {
		if !strings.HasSuffix(line, " 1") {
			t.Errorf("not up: %s", line)
		}
	}
	if len(up) != 7 {
		t.Fatalf("%d accounts up, want 7 (main, b and five subaccounts): %v", len(up), up)
	}
	for _, sid := range []string{sidMain, sidB} {
		got := sim.MaxInFlightOf(sid)
		t.Logf("%s: at most %d requests in flight", sid, got)
		if got > bound {
			t.Errorf("%s had %d requests in flight at once; the bound is %d", sid, got, bound)
		}
		if got < 2 {
			t.Errorf("%s never had two requests in flight: the test shows nothing", sid)
		}
	}
}
