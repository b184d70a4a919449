package exporter

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/accounts"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/config"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/simulator"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/twilio"
)

// subCanary starts every subaccount's token here: planted to prove no
// token shows in metrics, errors or logs.
const subCanary = "planted-discovered-token-93ad"

func subSID(i int) string { return fmt.Sprintf("AC%032x", 0x200+i) }

// isv is a simulator with the parent main (its fixture) and n
// subaccounts cust-i, each with one Customer-Profile of its own, BUi.
func isv(t *testing.T, n int) (*simulator.Server, string) {
	t.Helper()
	sim := simulator.New()
	sim.AddAccount(sidMain, "main-token", fixture())
	for i := range n {
		addSub(sim, i)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return sim, srv.URL
}

func addSub(sim *simulator.Server, i int) {
	sim.AddSubaccount(sidMain, subSID(i), fmt.Sprintf("cust-%d", i), fmt.Sprintf("%s-%d", subCanary, i))
	sim.SetObjects(subSID(i), kinds.CustomerProfiles, []simulator.ServedObject{
		{SID: simulator.Ptr(fmt.Sprintf("BU%032x", i)), Status: simulator.Ptr("twilio-rejected"), Errors: []simulator.ErrorCode{{Code: 22215}}},
	})
}

// isvExporter watches main's Customer-Profiles and discovers its
// subaccounts, without the discovery's clock: tests refresh.
func isvExporter(t *testing.T, url string, maxListings int, logger log.Logger) (*Exporter, *accounts.Set) {
	t.Helper()
	spec := config.Default()
	spec.APIURL, spec.MessagingAPIURL, spec.AccountsAPIURL = url, url, url
	spec.Resources = []*kinds.Kind{kinds.CustomerProfiles}
	spec.MaxConcurrentListings = maxListings
	spec.Accounts = []config.Account{{Name: "isv", AccountSID: sidMain, AuthToken: "main-token", Subaccounts: &config.Subaccounts{Discover: true, Refresh: 10 * time.Minute}}}
	cfg, err := config.New(spec)
	if err != nil {
		t.Fatal(err)
	}
	e, err := build(cfg, Options{Now: func() time.Time { return now }, Logger: logger, Retry: twilio.RetryPolicy{Attempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e, e.set
}

// series returns the lines of a whole scrape (aggregates and per-object
// series) that contain want.
func series(t *testing.T, e *Exporter, want string) []string {
	t.Helper()
	var b bytes.Buffer
	mfs, err := e.Scrape(context.Background()).Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			fmt.Fprintf(&b, "%s%v %v\n", mf.GetName(), labelsOf(m.GetLabel()), value(m))
		}
	}
	var out []string
	for line := range strings.SplitSeq(b.String(), "\n") {
		if strings.Contains(line, want) {
			out = append(out, line)
		}
	}
	return out
}

func TestDiscoveredSubaccountsAreWatched(t *testing.T) {
	sim, url := isv(t, 2)
	e, set := isvExporter(t, url, 10, nil)
	if got := e.Accounts(); !slices.Equal(got, []string{"isv"}) {
		t.Fatalf("before discovery: %v", got)
	}
	set.Refresh(context.Background())
	if got, want := e.Accounts(), []string{subSID(0), subSID(1), "isv"}; !slices.Equal(got, want) {
		t.Fatalf("after discovery: %v, want %v", got, want)
	}
	for _, want := range []string{
		`twilio_trusthub_account_info[account=` + subSID(0) + ` friendly_name=cust-0 parent=isv status=active] 1`,
		`twilio_trusthub_account_info[account=isv friendly_name=isv parent= status=] 1`,
		`twilio_trusthub_up[account=` + subSID(1) + `] 1`,
		`twilio_trusthub_customer_profile_errors[account=` + subSID(1) + ` code=22215] 1`,
		`twilio_trusthub_customer_profile_info[account=` + subSID(0) + ` friendly_name= policy_sid= sid=BU` + fmt.Sprintf("%032x", 0) + `] 1`,
		`twilio_trusthub_discovery_up[account=isv] 1`,
		`twilio_trusthub_discovered_subaccounts[account=isv] 2`,
		`twilio_trusthub_discovery_errors_total[account=isv reason=server] 0`,
		// The discovery's requests are counted with the listings'.
		`twilio_trusthub_api_requests_total[account=isv code=200 resource=accounts] 1`,
	} {
		if got := series(t, e, want); len(got) != 1 {
			t.Errorf("want one series %s", want)
		}
	}
	// Each subaccount is listed with its own token: main's profiles are
	// not in a subaccount's.
	for _, want := range []string{"status=twilio-rejected] 1", "status=twilio-approved] 0"} {
		if got := series(t, e, `twilio_trusthub_customer_profiles[account=`+subSID(0)+" "+want); len(got) != 1 {
			t.Errorf("subaccount 0's counts lack %s", want)
		}
	}

	// A new one appears, a closed one goes with its series.
	addSub(sim, 2)
	sim.SetAccountStatus(subSID(0), "closed")
	set.Refresh(context.Background())
	if got, want := e.Accounts(), []string{subSID(1), subSID(2), "isv"}; !slices.Equal(got, want) {
		t.Fatalf("after the change: %v, want %v", got, want)
	}
	if got := series(t, e, subSID(0)); len(got) != 0 {
		t.Errorf("the closed subaccount's series stay: %v", got)
	}
	if got := series(t, e, `twilio_trusthub_up[account=`+subSID(2)+`] 1`); len(got) != 1 {
		t.Errorf("the new subaccount is not listed")
	}

	// A failed discovery keeps the list and says why.
	sim.SetFault(simulator.Fault{Path: simulator.AccountsPath, Status: 401, Code: 20003})
	set.Refresh(context.Background())
	if got, want := e.Accounts(), []string{subSID(1), subSID(2), "isv"}; !slices.Equal(got, want) {
		t.Errorf("a failed discovery changed the accounts: %v", got)
	}
	for _, want := range []string{
		`twilio_trusthub_discovery_up[account=isv] 0`,
		`twilio_trusthub_discovery_errors_total[account=isv reason=auth] 1`,
		`twilio_trusthub_discovered_subaccounts[account=isv] 2`,
	} {
		if got := series(t, e, want); len(got) != 1 {
			t.Errorf("want one series %s", want)
		}
	}
	if got := series(t, e, subCanary); len(got) != 0 {
		t.Errorf("a discovered token is in the metrics: %v", got)
	}
}

// A subaccount whose own token TrustHub refuses (it was rotated after the
// list was read) is down with reason auth, and its error names no token.
func TestDiscoveredTokenRefused(t *testing.T) {
	sim, url := isv(t, 1)
	var logs bytes.Buffer
	logger := level.NewFilter(log.NewLogfmtLogger(log.NewSyncWriter(&logs)), level.AllowDebug())
	e, set := isvExporter(t, url, 10, logger)
	set.Refresh(context.Background())
	// The simulator now takes another token; the exporter holds the old.
	sim.AddAccount(subSID(0), "rotated", nil)
	for _, want := range []string{
		`twilio_trusthub_up[account=` + subSID(0) + `] 0`,
		`twilio_trusthub_listing_errors_total[account=` + subSID(0) + ` resource=customer_profiles] 1`,
	} {
		if got := series(t, e, want); len(got) != 1 {
			t.Errorf("want one series %s", want)
		}
	}
	var lastErr string
	for _, st := range e.Scrape(context.Background()).Status() {
		if st.Account == subSID(0) {
			lastErr = st.State.LastError
		}
	}
	if !strings.Contains(lastErr, "authentication failed for account "+subSID(0)) || !strings.Contains(lastErr, "401") {
		t.Errorf("last error = %q", lastErr)
	}
	for what, text := range map[string]string{"the error": lastErr, "the logs": logs.String()} {
		if strings.Contains(text, subCanary) || strings.Contains(text, "main-token") {
			t.Errorf("a token is in %s: %s", what, text)
		}
	}
	if !strings.Contains(logs.String(), "listing failed") {
		t.Errorf("the failure is not logged:\n%s", logs.String())
	}
}

// Fifty subaccounts share the one bound on listings in flight.
func TestManySubaccountsBounded(t *testing.T) {
	const n, bound = 50, 3
	sim, url := isv(t, n)
	// The parent lists nothing: the usage of its fixture's objects is
	// counted usage.FanOut requests at a time within one listing's slot,
	// and the simulator counts requests, not listings. Each subaccount's
	// listing makes one request at a time.
	sim.SetObjects(sidMain, kinds.CustomerProfiles, nil)
	// Each answer waits, so that listings overlap if nothing bounds them.
	sim.SetFault(simulator.Fault{Path: kinds.CustomerProfiles.ListPath, Delay: 20 * time.Millisecond})
	e, set := isvExporter(t, url, bound, nil)
	set.Refresh(context.Background())
	if got := len(e.Accounts()); got != n+1 {
		t.Fatalf("%d accounts, want %d", got, n+1)
	}
	var wg sync.WaitGroup
	for range 3 { // concurrent scrapes wait for the same listings
		wg.Go(func() { e.Scrape(context.Background()) })
	}
	wg.Wait()
	if got := gatherAndCount(t, e.Scrape(context.Background()), "twilio_trusthub_up"); got != n+1 {
		t.Errorf("%d up series, want %d", got, n+1)
	}
	up := series(t, e, "twilio_trusthub_up[")
	for _, line := range up {
		if !strings.HasSuffix(line, " 1") {
			t.Errorf("not up: %s", line)
		}
	}
	t.Logf("max in flight: %d", sim.MaxInFlight())
	if got := sim.MaxInFlight(); got > bound || got < 1 {
		t.Errorf("the simulator saw %d listings in flight at once; the bound is %d", got, bound)
	}
}

// labelsOf writes labels as [name=value ...], in the metric's order.
func labelsOf(ls []*dto.LabelPair) string {
	parts := make([]string, len(ls))
	for i, l := range ls {
		parts[i] = l.GetName() + "=" + l.GetValue()
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func value(m *dto.Metric) float64 {
	if m.GetCounter() != nil {
		return m.GetCounter().GetValue()
	}
	return m.GetGauge().GetValue()
}

// Every account's listings, and the discovery, share one pool of
// connections: listed one at a time, fifty subaccounts and their parent
// need one connection, not one each. (Each subaccount has one object
// whose usage is counted, and the parent none: the counts of several
// objects of one listing go usage.FanOut at a time, each on a connection.)
func TestSubaccountsShareConnections(t *testing.T) {
	const n = 50
	sim := simulator.New()
	sim.AddAccount(sidMain, "main-token", nil)
	for i := range n {
		addSub(sim, i)
	}
	var opened atomic.Int64
	srv := httptest.NewUnstartedServer(sim)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			opened.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	e, set := isvExporter(t, srv.URL, 1, nil)
	set.Refresh(context.Background())
	if got := gatherAndCount(t, e.Scrape(context.Background()), "twilio_trusthub_up"); got != n+1 {
		t.Fatalf("%d up series, want %d", got, n+1)
	}
	if got := series(t, e, "twilio_trusthub_up[account="+subSID(n-1)+"] 1"); len(got) != 1 {
		t.Error("the last subaccount is not up")
	}
	if got := opened.Load(); got != 1 {
		t.Errorf("%d connections opened for a discovery and %d listings one at a time, want 1", got, n+1)
	}
}

// gatherAndCount counts the series of family name that g gathers.
func gatherAndCount(t *testing.T, g prometheus.Gatherer, name string) int {
	t.Helper()
	n, err := testutil.GatherAndCount(g, name)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
