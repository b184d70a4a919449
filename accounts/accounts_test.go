package accounts

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	promconfig "github.com/prometheus/common/config"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/config"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/internal/failure"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/simulator"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/twilio"
)

const (
	sidParent = "AC00000000000000000000000000000001"
	sidOther  = "AC00000000000000000000000000000002"
	// canary is a subaccount's token planted to prove it never shows.
	canary = "planted-subaccount-token-6f1c"
)

func subSID(i int) string { return fmt.Sprintf("AC%032x", 0x100+i) }

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fixture is a simulator with a parent, five subaccounts (cust-0..2
// active, cust-3 suspended, other-4 active) and an unrelated account.
func fixture(t *testing.T) (*simulator.Server, string) {
	t.Helper()
	sim := simulator.New()
	sim.AddAccount(sidParent, "parent-token", nil)
	sim.AddAccount(sidOther, "other-token", nil)
	for i, name := range []string{"cust-0", "cust-1", "cust-2", "cust-3", "other-4"} {
		sim.AddSubaccount(sidParent, subSID(i), name, canary+fmt.Sprint(i))
	}
	sim.SetAccountStatus(subSID(3), "suspended")
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return sim, srv.URL
}

func newSet(t *testing.T, url string, sub *config.Subaccounts, o Options) *Set {
	t.Helper()
	spec := config.Default()
	spec.AccountsAPIURL = url
	spec.MaxStale = 30 * time.Minute
	if sub != nil && sub.Refresh == 0 {
		sub.Refresh = config.DefaultSubaccounts().Refresh
	}
	spec.Accounts = []config.Account{
		{Name: "isv", AccountSID: sidParent, AuthToken: "parent-token", Subaccounts: sub},
		{Name: "other", AccountSID: sidOther, AuthToken: "other-token"},
	}
	cfg, err := config.New(spec)
	if err != nil {
		t.Fatal(err)
	}
	o.Retry = twilio.RetryPolicy{Attempts: 1}
	s, err := New(cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// names returns the members' names with their friendly names.
func names(ms []Member) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Account.Name+"="+m.FriendlyName+"/"+m.Parent+"/"+m.Status)
	}
	return out
}

func member(i int, name, status string) string {
	return subSID(i) + "=" + name + "/isv/" + status
}

func TestDiscover(t *testing.T) {
	_, url := fixture(t)
	configured := []string{"isv=isv//", "other=other//"}
	for _, tc := range []struct {
		name string
		sub  config.Subaccounts
		want []string
	}{
		{name: "active, the parent skipped", sub: config.Subaccounts{Discover: true},
			want: []string{member(0, "cust-0", "active"), member(1, "cust-1", "active"), member(2, "cust-2", "active"), member(4, "other-4", "active")}},
		{name: "glob", sub: config.Subaccounts{Discover: true, FriendlyName: "cust-*"},
			want: []string{member(0, "cust-0", "active"), member(1, "cust-1", "active"), member(2, "cust-2", "active")}},
		{name: "exact name", sub: config.Subaccounts{Discover: true, FriendlyName: "cust-1"},
			want: []string{member(1, "cust-1", "active")}},
		{name: "two statuses", sub: config.Subaccounts{Discover: true, Status: []string{"suspended", "active"}, FriendlyName: "cust-[23]"},
			want: []string{member(2, "cust-2", "active"), member(3, "cust-3", "suspended")}},
		{name: "suspended only", sub: config.Subaccounts{Discover: true, Status: []string{"suspended"}},
			want: []string{member(3, "cust-3", "suspended")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var changes [][]Member
			s := newSet(t, url, &tc.sub, Options{OnChange: func(ms []Member) { changes = append(changes, ms) }})
			if got := names(s.Members()); !slices.Equal(got, configured) {
				t.Fatalf("before discovery: %v, want the configured %v", got, configured)
			}
			s.Refresh(context.Background())
			want := append(slices.Clone(configured), tc.want...)
			if got := names(s.Members()); !slices.Equal(got, want) {
				t.Errorf("members = %v\nwant %v", got, want)
			}
			if len(changes) != 1 || !slices.Equal(names(changes[0]), want) {
				t.Errorf("OnChange calls = %d, want one with the new set", len(changes))
			}
			for _, m := range s.Members()[2:] {
				a := m.Account.BasicAuth()
				if a.Username != m.Account.AccountSID || !strings.HasPrefix(string(a.Password), canary) || m.Account.UsesAPIKey() {
					t.Errorf("%s is not watched as itself with its own token", m.Account.Name)
				}
			}
			s.Refresh(context.Background())
			if len(changes) != 1 {
				t.Errorf("OnChange called again for an unchanged list")
			}
			if d := s.Discoveries(); len(d) != 1 || d[0].Account != "isv" || !d[0].Up || d[0].Discovered != len(tc.want) {
				t.Errorf("Discoveries() = %+v", d)
			}
		})
	}
}

// A new subaccount appears at the next refresh, a closed one goes; a
// failed discovery keeps the list, up to max_stale, and says why.
func TestRefreshFollowsChangesAndSurvivesFailures(t *testing.T) {
	sim, url := fixture(t)
	c := &clock{t: time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)}
	var logs bytes.Buffer
	var mu sync.Mutex
	logger := log.NewLogfmtLogger(log.NewSyncWriter(&logs))
	var last []string
	s := newSet(t, url, &config.Subaccounts{Discover: true, FriendlyName: "cust-*"}, Options{
		Now: c.Now, Logger: level.NewFilter(logger, level.AllowDebug()),
		OnChange: func(ms []Member) { mu.Lock(); last = names(ms); mu.Unlock() },
	})
	ctx := context.Background()
	s.Refresh(ctx)
	sim.AddSubaccount(sidParent, subSID(9), "cust-9", canary+"9")
	sim.SetAccountStatus(subSID(1), "closed")
	s.Refresh(ctx)
	want := []string{"isv=isv//", "other=other//", member(0, "cust-0", "active"), member(2, "cust-2", "active"), member(9, "cust-9", "active")}
	if got := names(s.Members()); !slices.Equal(got, want) {
		t.Fatalf("after the refresh: %v\nwant %v", got, want)
	}
	mu.Lock()
	if !slices.Equal(last, want) {
		t.Errorf("OnChange last saw %v", last)
	}
	mu.Unlock()

	sim.SetFault(simulator.Fault{Path: simulator.AccountsPath, Status: 500, Code: 20500})
	c.Advance(10 * time.Minute)
	s.Refresh(ctx)
	if got := names(s.Members()); !slices.Equal(got, want) {
		t.Errorf("a failed discovery changed the list: %v", got)
	}
	d := s.Discoveries()[0]
	if d.Up || d.Discovered != 3 || d.Errors[failure.Server] != 1 {
		t.Errorf("after a failure: %+v, want down, 3 kept, one server error", d)
	}
	c.Advance(30 * time.Minute) // past max_stale since the last success
	s.Refresh(ctx)
	if got := names(s.Members()); !slices.Equal(got, want[:2]) {
		t.Errorf("past max_stale: %v, want the configured accounts only", got)
	}
	if d := s.Discoveries()[0]; d.Up || d.Discovered != 0 || d.Errors[failure.Server] != 2 {
		t.Errorf("past max_stale: %+v", d)
	}
	sim.ClearFault()
	s.Refresh(ctx)
	if d := s.Discoveries()[0]; !d.Up || d.Discovered != 3 {
		t.Errorf("after recovery: %+v", d)
	}
	if strings.Contains(logs.String(), canary) || strings.Contains(logs.String(), "parent-token") {
		t.Errorf("a token is in the logs:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), `level=error resource=subaccounts msg="listing failed" account=isv reason=server`) {
		t.Errorf("the failure is not logged:\n%s", logs.String())
	}
}

// Run refreshes on the refresh clock, with no one asking.
func TestRunRefreshesOnItsClock(t *testing.T) {
	sim, url := fixture(t)
	changed := make(chan []Member, 10)
	s := newSet(t, url, &config.Subaccounts{Discover: true, FriendlyName: "cust-0", Refresh: time.Millisecond}, Options{
		OnChange: func(ms []Member) { changed <- ms },
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s.Run(ctx)
	if got := names(<-changed); len(got) != 3 {
		t.Fatalf("first discovery: %v", got)
	}
	sim.SetAccountStatus(subSID(0), "closed")
	// No call to Refresh: the clock finds the change.
	if got := names(<-changed); len(got) != 2 {
		t.Fatalf("after closing: %v", got)
	}
}

func TestSameCredentials(t *testing.T) {
	spec := config.Default()
	spec.Accounts = []config.Account{{Name: "isv", AccountSID: sidParent, AuthToken: "t", Subaccounts: &config.Subaccounts{Discover: true, Refresh: 10 * time.Minute}}}
	cfg, err := config.New(spec)
	if err != nil {
		t.Fatal(err)
	}
	p := cfg.Accounts[0]
	a := p.Subaccount(subSID(0), "one")
	for _, tc := range []struct {
		name string
		b    config.Account
		want bool
	}{
		{"same", p.Subaccount(subSID(0), "one"), true},
		{"rotated token", p.Subaccount(subSID(0), promconfig.Secret("two")), false},
		{"another subaccount", p.Subaccount(subSID(1), "one"), false},
	} {
		if got := SameCredentials(a, tc.b); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
