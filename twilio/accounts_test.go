package twilio_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	promconfig "github.com/prometheus/common/config"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/internal/failure"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/simulator"
	. "github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/twilio"
)

const accountsParent = "AC00000000000000000000000000000001"

// accountsServer serves a parent with n subaccounts, named cust-0.., each
// with its own token tok-i.
func accountsServer(t *testing.T, n int) (*simulator.Server, string) {
	t.Helper()
	sim := simulator.New()
	sim.AddAccount(accountsParent, "parent-token", nil)
	for i := range n {
		sim.AddSubaccount(accountsParent, fmt.Sprintf("AC%032x", 0x100+i), fmt.Sprintf("cust-%d", i), fmt.Sprintf("tok-%d", i))
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return sim, srv.URL
}

func accountsClient(t *testing.T, url string, pageSize int) *Client {
	t.Helper()
	c, err := New(Options{AccountsURL: url, Auth: &promconfig.BasicAuth{Username: accountsParent, Password: "parent-token"}, PageSize: pageSize,
		Retry: RetryPolicy{Attempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestListAccounts(t *testing.T) {
	sim, url := accountsServer(t, 4)
	sim.SetAccountStatus(fmt.Sprintf("AC%032x", 0x101), "closed")
	for _, tc := range []struct {
		name      string
		pageSize  int
		q         AccountsQuery
		wantPages int
		want      []string // friendly names, in order
	}{
		// The parent is in the list; 5 accounts at 2 a page are 3 pages,
		// followed through the relative next_page_uri.
		{name: "paged", pageSize: 2, wantPages: 3, want: []string{accountsParent, "cust-0", "cust-1", "cust-2", "cust-3"}},
		{name: "one page", pageSize: 1000, wantPages: 1, want: []string{accountsParent, "cust-0", "cust-1", "cust-2", "cust-3"}},
		{name: "status", pageSize: 2, q: AccountsQuery{Status: "closed"}, wantPages: 1, want: []string{"cust-1"}},
		{name: "friendly name", pageSize: 1, q: AccountsQuery{FriendlyName: "cust-2"}, wantPages: 1, want: []string{"cust-2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := accountsClient(t, url, tc.pageSize)
			var got []string
			pages, err := c.ListAccounts(context.Background(), tc.q, func(a Account) error {
				got = append(got, a.FriendlyName)
				if a.SID != accountsParent {
					i := strings.TrimPrefix(a.FriendlyName, "cust-")
					if string(a.AuthToken) != "tok-"+i || a.OwnerAccountSID != accountsParent {
						t.Errorf("%s: token %q, owner %q; want its own token and the parent", a.FriendlyName, a.AuthToken, a.OwnerAccountSID)
					}
				}
				if a.DateCreated.IsZero() || a.DateCreated.Location() == nil || a.DateCreated.Year() != 2024 {
					t.Errorf("%s: date_created %v, want the RFC 2822 date read", a.FriendlyName, a.DateCreated)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if pages != tc.wantPages || strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("got %d pages of %v, want %d of %v", pages, got, tc.wantPages, tc.want)
			}
		})
	}
}

func TestListAccountsPagingGuards(t *testing.T) {
	for _, tc := range []struct {
		name, next string
		want       string
	}{
		{name: "another host", next: "https://evil.example/2010-04-01/Accounts.json?Page=1",
			want: "next_page_uri points to https://evil.example, not to accounts_api_url"},
		{name: "protocol-relative", next: "//evil.example/2010-04-01/Accounts.json",
			want: "next_page_uri points to http://evil.example"},
		{name: "loop", next: "self", want: "repeats an earlier page"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sim, url := accountsServer(t, 3)
			sim.SetFault(simulator.Fault{Path: simulator.AccountsPath, NextPageURL: tc.next})
			_, err := accountsClient(t, url, 2).ListAccounts(context.Background(), AccountsQuery{}, func(Account) error { return nil })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to say %q", err, tc.want)
			}
			if r := Reason(err); r != failure.Paging {
				t.Errorf("reason = %s, want %s", r, failure.Paging)
			}
		})
	}
}

func TestListAccountsErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fault  simulator.Fault
		token  string
		reason string
	}{
		{name: "wrong token", token: "nope", reason: failure.Auth},
		{name: "server error", fault: simulator.Fault{Path: simulator.AccountsPath, Status: 500, Code: 20500}, reason: failure.Server},
		{name: "not json", fault: simulator.Fault{Path: simulator.AccountsPath, Body: "<html>"}, reason: failure.Decode},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sim, url := accountsServer(t, 1)
			if tc.fault != (simulator.Fault{}) {
				sim.SetFault(tc.fault)
			}
			c := accountsClient(t, url, 1000)
			if tc.token != "" {
				c, _ = New(Options{AccountsURL: url, Auth: &promconfig.BasicAuth{Username: accountsParent, Password: promconfig.Secret(tc.token)}, PageSize: 10, Retry: RetryPolicy{Attempts: 1}})
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			_, err := c.ListAccounts(ctx, AccountsQuery{}, func(Account) error { return nil })
			if err == nil || Reason(err) != tc.reason {
				t.Fatalf("err = %v (reason %s), want reason %s", err, Reason(err), tc.reason)
			}
			if strings.Contains(err.Error(), "parent-token") || strings.Contains(err.Error(), "tok-0") {
				t.Errorf("the error shows a token: %v", err)
			}
			if c.AccountsRequests()[200]+c.AccountsRequests()[401]+c.AccountsRequests()[500] == 0 {
				t.Errorf("accounts requests counted: %v", c.AccountsRequests())
			}
		})
	}
}

// A subaccount's token is a secret: no %v of an Account shows it.
func TestAccountTokenIsSecret(t *testing.T) {
	a := Account{SID: "AC1", AuthToken: "planted-sub-token"}
	if s := fmt.Sprintf("%v %+v %#v", a, a, a); strings.Contains(s, "planted-sub-token") {
		t.Errorf("the token shows: %s", s)
	}
}

// The accounts list pages through the same loop as every kind: the same
// bound on pages and on the size of an answer, named by the 2010 API's
// link key.
func TestListAccountsBounds(t *testing.T) {
	for _, tc := range []struct {
		name     string
		maxPages int
		maxBytes int64
		want     string
		reason   string
	}{
		{name: "runaway paging", maxPages: 2, want: "gave up after 2 pages; next_page_uri never ended", reason: failure.Paging},
		{name: "oversized answer", maxBytes: 64, want: "answer larger than 64 bytes", reason: failure.Decode},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, url := accountsServer(t, 5) // three pages of two
			c, err := New(Options{AccountsURL: url, Auth: &promconfig.BasicAuth{Username: accountsParent, Password: "parent-token"}, PageSize: 2,
				Retry: RetryPolicy{Attempts: 1}, MaxPages: tc.maxPages, MaxPageBytes: tc.maxBytes})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.ListAccounts(context.Background(), AccountsQuery{}, func(Account) error { return nil })
			if err == nil || !strings.Contains(err.Error(), tc.want) || Reason(err) != tc.reason {
				t.Fatalf("err = %v (reason %s), want it to say %q, reason %s", err, Reason(err), tc.want, tc.reason)
			}
		})
	}
}

// A page's accounts are handed on once it is read whole: an error from fn
// ends the listing as fn said, not as a decoding failure.
func TestListAccountsCallbackError(t *testing.T) {
	_, url := accountsServer(t, 3)
	stop := fmt.Errorf("no more")
	n := 0
	pages, err := accountsClient(t, url, 2).ListAccounts(context.Background(), AccountsQuery{}, func(Account) error {
		n++
		if n == 3 {
			return stop
		}
		return nil
	})
	if err != stop || pages != 2 { //nolint:errorlint // the very error fn returned
		t.Errorf("pages %d, err %v; want 2 pages and fn's error as it is", pages, err)
	}
}
