package collector

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/cache"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/simulator"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/snapshot"
)

// listingsOf returns one listing per snapshot for each account, served
// without a client.
func listingsOf(t *testing.T, snaps []*snapshot.Snapshot, accounts ...string) []Listing {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	var listings []Listing
	for _, account := range accounts {
		for _, snap := range snaps {
			list := func(context.Context) (*snapshot.Snapshot, error) { return snap, nil }
			listings = append(listings, Listing{
				Account: account, Kind: snap.Kind,
				Entry:    cache.NewEntry(ctx, account, list, cache.Options{TTL: time.Hour, Timeout: time.Minute}),
				Requests: func(func(int, uint64) bool) {},
			})
		}
	}
	return listings
}

// accountsIn returns the distinct account label values of a scrape.
func accountsIn(t *testing.T, s *Scrape) []string {
	t.Helper()
	mfs, err := s.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "account" && !slices.Contains(seen, l.GetValue()) {
					seen = append(seen, l.GetValue())
				}
			}
		}
	}
	slices.Sort(seen)
	return seen
}

func TestScrapeAccount(t *testing.T) {
	snap := snapshotOf(t, kinds.CustomerProfiles, []simulator.ServedObject{{SID: new("BU00000000000000000000000000000001"), Status: new("twilio-approved")}})
	e := New(listingsOf(t, []*snapshot.Snapshot{snap}, "zeta", "alpha"), Options{
		PerObject: true,
		Discovery: func() []DiscoveryState {
			return []DiscoveryState{{Account: "alpha", Up: true, Discovered: 1}}
		},
	})
	if got, want := e.Accounts(), []string{"alpha", "zeta"}; !slices.Equal(got, want) {
		t.Fatalf("Accounts() = %v, want %v", got, want)
	}
	e.SetAccounts(listingsOf(t, []*snapshot.Snapshot{snap}, "zeta", "alpha", "AC01"), map[string]AccountInfo{
		"AC01": {FriendlyName: "cust-1", Parent: "alpha", Status: "active"},
	})
	if got, want := e.Accounts(), []string{"AC01", "alpha", "zeta"}; !slices.Equal(got, want) {
		t.Fatalf("Accounts() after SetAccounts = %v, want %v", got, want)
	}
	for _, tc := range []struct {
		name     string
		ok       bool
		accounts []string
		info     string
		status   AccountInfo // what Status() says of the account
	}{
		{name: "AC01", ok: true, accounts: []string{"AC01"},
			info:   `twilio_trusthub_account_info{account="AC01",friendly_name="cust-1",parent="alpha",status="active"} 1`,
			status: AccountInfo{FriendlyName: "cust-1", Parent: "alpha", Status: "active"}},
		{name: "alpha", ok: true, accounts: []string{"alpha"},
			info:   `twilio_trusthub_account_info{account="alpha",friendly_name="alpha",parent="",status=""} 1`,
			status: AccountInfo{FriendlyName: "alpha"}},
		{name: "nope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, ok := e.ScrapeAccount(context.Background(), tc.name)
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v", ok, tc.ok)
			}
			if !ok {
				return
			}
			got := accountsIn(t, s)
			if !slices.Equal(got, tc.accounts) {
				t.Errorf("accounts in the scrape = %v, want %v", got, tc.accounts)
			}
			if st := s.Status(); len(st) != 1 || st[0].Account != tc.name || st[0].Info != tc.status {
				t.Errorf("Status() = %v, want the one listing of %s", st, tc.name)
			}
			if got := objectsIn(t, s, expfmt.FmtText); !strings.Contains(got, `sid="BU00000000000000000000000000000001"`) {
				t.Errorf("the per-object series are %q; want the account's profile", got)
			}
			n, err := testutil.GatherAndCount(s, "twilio_trusthub_account_info", "twilio_trusthub_discovery_up")
			if err != nil {
				t.Fatal(err)
			}
			wantN := 1
			if tc.name == "alpha" {
				wantN = 2 // its discovery belongs to it
			}
			if n != wantN {
				t.Errorf("account_info and discovery_up series = %d, want %d", n, wantN)
			}
			if err := testutil.GatherAndCompare(s, strings.NewReader("# HELP twilio_trusthub_account_info "+
				e.d.accountInfo.Help()+"\n# TYPE twilio_trusthub_account_info gauge\n"+tc.info+"\n"), "twilio_trusthub_account_info"); err != nil {
				t.Error(err)
			}
		})
	}
	// The whole scrape has every account and the discovery of each parent.
	got := accountsIn(t, e.Scrape(context.Background()))
	if want := []string{"AC01", "alpha", "zeta"}; !slices.Equal(got, want) {
		t.Errorf("accounts in the full scrape = %v, want %v", got, want)
	}
}

// TestSetAccountsWhileScraping swaps the set of accounts while scrapes
// run; under -race it proves the swap and the scrapes share nothing
// unguarded, and each scrape sees one whole set.
func TestSetAccountsWhileScraping(t *testing.T) {
	snap := snapshotOf(t, kinds.CustomerProfiles, []simulator.ServedObject{{SID: new("BU00000000000000000000000000000001"), Status: new("draft")}})
	sets := [][]Listing{
		listingsOf(t, []*snapshot.Snapshot{snap}, "a"),
		listingsOf(t, []*snapshot.Snapshot{snap}, "a", "b", "c"),
	}
	e := New(sets[0], Options{PerObject: true})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 50 {
				s := e.Scrape(context.Background())
				if got := objectsIn(t, s, expfmt.FmtOpenMetrics_1_0_0); !strings.Contains(got, "# EOF") {
					t.Errorf("the per-object series are %q", got)
				}
				if n, err := testutil.GatherAndCount(s, "twilio_trusthub_up"); err != nil || n != 1 && n != 3 {
					t.Errorf("up series = %d, want 1 or 3: one whole set", n)
				}
				_ = e.Accounts()
			}
		})
	}
	for i := range 100 {
		e.SetAccounts(sets[i%2], nil)
	}
	wg.Wait()
}
