package twilio_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	promconfig "github.com/prometheus/common/config"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/internal/failure"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/simulator"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/twilio"
)

const (
	accountSID = "AC0123456789abcdef0123456789abcdef"
	token      = "tok-3f1e9a"
)

var now = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// fastRetry keeps retrying tests quick.
var fastRetry = twilio.RetryPolicy{Attempts: 4, Base: time.Millisecond, Max: 5 * time.Millisecond}

func newClient(t *testing.T, url string, auth *promconfig.BasicAuth, pageSize int) *twilio.Client {
	t.Helper()
	c, err := twilio.New(twilio.Options{BaseURL: url, MessagingURL: url, Auth: auth, PageSize: pageSize, UserAgent: "twilio_trusthub_exporter/test",
		Retry: fastRetry})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func tokenAuth() *promconfig.BasicAuth {
	return &promconfig.BasicAuth{Username: accountSID, Password: token}
}

func collectSIDs(t *testing.T, c *twilio.Client, f kinds.Filters) ([]string, int) {
	t.Helper()
	return collectKind(t, c, kinds.CustomerProfiles, f)
}

func collectKind(t *testing.T, c *twilio.Client, k *kinds.Kind, f kinds.Filters) ([]string, int) {
	t.Helper()
	var sids []string
	pages, err := c.List(context.Background(), k, f, func(p *kinds.Object) error {
		sids = append(sids, p.SID())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return sids, pages
}

// Every kind pages the same way, each under its own path and list key.
func TestListFollowsPages(t *testing.T) {
	for _, tc := range []struct {
		profiles, pageSize, wantPages int
	}{
		{2345, 1000, 3},
		{2345, 50, 47},
		{1000, 1000, 1},
		{1001, 1000, 2},
		{0, 1000, 1},
	} {
		for _, k := range kinds.All {
			if k.Parent != nil {
				continue // see TestListUnderParents
			}
			t.Run(fmt.Sprintf("%s %d by %d", k.Name, tc.profiles, tc.pageSize), func(t *testing.T) {
				listFollowsPages(t, k, tc.profiles, tc.pageSize, tc.wantPages)
			})
		}
	}
}

// listFollowsPages lists n objects of kind k, pageSize at a time.
func listFollowsPages(t *testing.T, k *kinds.Kind, n, pageSize, wantPages int) {
	sim := simulator.New()
	sim.AddAccount(accountSID, token, nil)
	profiles := simulator.Generate(accountSID, n, now, 1)
	sim.SetObjects(accountSID, k, profiles)
	srv := httptest.NewServer(sim)
	defer srv.Close()

	c := newClient(t, srv.URL, tokenAuth(), pageSize)
	sids, pages := collectKind(t, c, k, kinds.Filters{})
	if pages != wantPages || sim.Requests() != int64(wantPages) {
		t.Errorf("pages = %d, simulator saw %d requests; want %d", pages, sim.Requests(), wantPages)
	}
	if len(sids) != len(profiles) {
		t.Fatalf("listed %d profiles, want %d", len(sids), len(profiles))
	}
	for i, p := range profiles {
		if sids[i] != *p.SID {
			t.Fatalf("profile %d is %s, want %s: pages out of order", i, sids[i], *p.SID)
		}
	}
	if got := c.Requests(k)[200]; got != uint64(wantPages) {
		t.Errorf("client counted %d answers with 200, want %d", got, wantPages)
	}
	if got := sim.RequestsTo(k.ListPath); got != int64(wantPages) {
		t.Errorf("simulator saw %d requests to %s, want %d", got, k.ListPath, wantPages)
	}
}

func TestListFilters(t *testing.T) {
	sim := simulator.New()
	profiles := simulator.Generate(accountSID, 600, now, 2)
	sim.AddAccount(accountSID, token, profiles)
	srv := httptest.NewServer(sim)
	defer srv.Close()
	c := newClient(t, srv.URL, tokenAuth(), 7)

	count := func(keep func(simulator.ServedObject) bool) int {
		n := 0
		for _, p := range profiles {
			if keep(p) {
				n++
			}
		}
		return n
	}
	deref := func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	}
	policy := *profiles[1].PolicySID
	name := *profiles[3].FriendlyName
	for _, tc := range []struct {
		name   string
		filter kinds.Filters
		keep   func(simulator.ServedObject) bool
	}{
		{"status", kinds.Filters{kinds.FilterStatus: "twilio-rejected"}, func(p simulator.ServedObject) bool { return deref(p.Status) == "twilio-rejected" }},
		{"policy", kinds.Filters{kinds.FilterPolicySID: policy}, func(p simulator.ServedObject) bool { return deref(p.PolicySID) == policy }},
		{"friendly name", kinds.Filters{kinds.FilterFriendlyName: name}, func(p simulator.ServedObject) bool { return deref(p.FriendlyName) == name }},
		{"status and policy", kinds.Filters{kinds.FilterStatus: "draft", kinds.FilterPolicySID: policy}, func(p simulator.ServedObject) bool {
			return deref(p.Status) == "draft" && deref(p.PolicySID) == policy
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sids, _ := collectSIDs(t, c, tc.filter)
			want := count(tc.keep)
			if len(sids) != want || want == 0 {
				t.Errorf("listed %d profiles, want %d (and more than 0)", len(sids), want)
			}
		})
	}
}

func TestListAPIKeyAndUserAgent(t *testing.T) {
	sim := simulator.New()
	sim.AddAccount(accountSID, token, simulator.Generate(accountSID, 3, now, 3))
	sim.AddAPIKey(accountSID, "SK0123456789abcdef0123456789abcdef", "api-secret")
	var ua atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ua.Store(r.UserAgent())
		sim.ServeHTTP(w, r)
	}))
	defer srv.Close()
	c := newClient(t, srv.URL, &promconfig.BasicAuth{Username: "SK0123456789abcdef0123456789abcdef", Password: "api-secret"}, 1000)
	if sids, _ := collectSIDs(t, c, kinds.Filters{}); len(sids) != 3 {
		t.Errorf("listed %d, want 3", len(sids))
	}
	if got := ua.Load(); got != "twilio_trusthub_exporter/test" {
		t.Errorf("User-Agent = %q", got)
	}
}

func TestListAuthFailure(t *testing.T) {
	sim := simulator.New()
	sim.AddAccount(accountSID, token, nil)
	srv := httptest.NewServer(sim)
	defer srv.Close()
	c := newClient(t, srv.URL, &promconfig.BasicAuth{Username: accountSID, Password: "wrong-secret-value"}, 1000)
	_, err := c.List(context.Background(), kinds.CustomerProfiles, kinds.Filters{}, func(*kinds.Object) error { return nil })
	var apiErr *twilio.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 401 || apiErr.Code != 20003 || !twilio.IsAuth(err) {
		t.Fatalf("error = %v, want a 401 APIError with Twilio code 20003", err)
	}
	if strings.Contains(err.Error(), "wrong-secret-value") {
		t.Error("the error text holds the secret")
	}
	if want := "page 0: Twilio answered HTTP 401: error 20003: Authenticate (https://www.twilio.com/docs/errors/20003)"; err.Error() != want {
		t.Errorf("error text = %q, want %q", err, want)
	}
	if c.Requests(kinds.CustomerProfiles)[401] != 1 {
		t.Errorf("requests by code = %v, want one 401", c.Requests(kinds.CustomerProfiles))
	}
}

// A token file is re-read on use: rotating it needs no restart.
func TestTokenFileRotation(t *testing.T) {
	sim := simulator.New()
	sim.AddAccount(accountSID, token, simulator.Generate(accountSID, 5, now, 4))
	srv := httptest.NewServer(sim)
	defer srv.Close()
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte("old-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, srv.URL, &promconfig.BasicAuth{Username: accountSID, PasswordFile: file}, 1000)
	list := func() error {
		_, err := c.List(context.Background(), kinds.CustomerProfiles, kinds.Filters{}, func(*kinds.Object) error { return nil })
		return err
	}
	if err := list(); !twilio.IsAuth(err) {
		t.Fatalf("with the old token: %v, want an auth error", err)
	}
	if err := os.WriteFile(file, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := list(); err != nil {
		t.Fatalf("after rotation: %v", err)
	}
}

// pageServer answers every request with the same page whose next_page_url is next(r).
func pageServer(t *testing.T, next func(r *http.Request) string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := "null"
		if u := next(r); u != "" {
			n = `"` + u + `"`
		}
		fmt.Fprintf(w, `{"meta": {"next_page_url": %s}, "results": [{"sid": "BU1", "status": "draft"}]}`, n)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// A kind under parents (A2P campaigns under Messaging Services) pages
// through the parents' list, then through each parent's list: every object
// once, one request per page of each.
func TestListUnderParents(t *testing.T) {
	for _, tc := range []struct {
		name      string
		campaigns []int // per service
		pageSize  int
	}{
		{"no services", nil, 1000},
		{"services without campaigns", []int{0, 0, 0}, 1000},
		{"one page each", []int{3, 1, 0, 2}, 1000},
		{"several pages each, services paged too", []int{5, 0, 7, 1, 2, 9, 4}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sim := simulator.New()
			sim.AddAccount(accountSID, token, nil)
			var m simulator.Messaging
			want := map[string]bool{}
			wantRequests := max(1, (len(tc.campaigns)+tc.pageSize-1)/tc.pageSize)
			for i, n := range tc.campaigns {
				mg := fmt.Sprintf("MG%032x", i)
				m.Services = append(m.Services, simulator.ServedService{SID: simulator.Ptr(mg)})
				for j := range n {
					qe := fmt.Sprintf("QE%016x%016x", i, j)
					m.Campaigns = append(m.Campaigns, simulator.ServedCampaign{SID: simulator.Ptr(qe), MessagingServiceSID: simulator.Ptr(mg), CampaignStatus: simulator.Ptr("VERIFIED")})
					want[qe] = true
				}
				// A service without a campaign is not registered for A2P:
				// its campaigns are not asked for.
				if n > 0 {
					wantRequests += (n + tc.pageSize - 1) / tc.pageSize
				}
			}
			sim.SetMessaging(accountSID, m)
			srv := httptest.NewServer(sim)
			defer srv.Close()
			c := newClient(t, srv.URL, tokenAuth(), tc.pageSize)
			sids, pages := collectKind(t, c, kinds.A2PCampaigns, kinds.Filters{})
			got := map[string]bool{}
			for _, sid := range sids {
				if got[sid] {
					t.Errorf("%s listed twice", sid)
				}
				got[sid] = true
			}
			if len(got) != len(want) {
				t.Errorf("listed %d campaigns, want %d", len(got), len(want))
			}
			for sid := range want {
				if !got[sid] {
					t.Errorf("%s not listed", sid)
				}
			}
			if pages != wantRequests || sim.Requests() != int64(wantRequests) || c.Requests(kinds.A2PCampaigns)[200] != uint64(wantRequests) {
				t.Errorf("%d pages, simulator saw %d requests, client counted %v; want %d", pages, sim.Requests(), c.Requests(kinds.A2PCampaigns), wantRequests)
			}
			if sim.RequestsTo("/v1/Services") != int64(max(1, (len(tc.campaigns)+tc.pageSize-1)/tc.pageSize)) {
				t.Errorf("%d requests for the services", sim.RequestsTo("/v1/Services"))
			}
		})
	}
}

// One service's page failing fails the whole listing of campaigns; so does
// the list of services failing.
func TestListUnderParentsFails(t *testing.T) {
	for _, tc := range []struct{ name, path, want string }{
		{"a service's campaigns", "/v1/Services/MG02/Compliance/Usa2p", "Messaging Service MG02: page 0: Twilio answered HTTP 403"},
		{"the services", "/v1/Services", "listing Messaging Services: page 0: Twilio answered HTTP 403"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sim := simulator.New()
			sim.AddAccount(accountSID, token, nil)
			var m simulator.Messaging
			for _, mg := range []string{"MG01", "MG02", "MG03"} {
				m.Services = append(m.Services, simulator.ServedService{SID: simulator.Ptr(mg)})
				m.Campaigns = append(m.Campaigns, simulator.ServedCampaign{SID: simulator.Ptr("QE" + mg), MessagingServiceSID: simulator.Ptr(mg)})
			}
			sim.SetMessaging(accountSID, m)
			sim.SetFault(simulator.Fault{Path: tc.path, Status: 403, Code: 20003})
			srv := httptest.NewServer(sim)
			defer srv.Close()
			c := newClient(t, srv.URL, tokenAuth(), 1000)
			_, err := c.List(context.Background(), kinds.A2PCampaigns, kinds.Filters{}, func(*kinds.Object) error { return nil })
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) || twilio.Reason(err) != failure.Auth {
				t.Errorf("error %v (reason %s), want %q", err, twilio.Reason(err), tc.want)
			}
		})
	}
}

// Each kind is listed from its own host, and follows next_page_url only on
// that host: a Messaging page pointing at the TrustHub host is refused as
// much as one pointing anywhere else.
func TestListHostSplit(t *testing.T) {
	trustHub, messaging := simulator.New(), simulator.New()
	for _, sim := range []*simulator.Server{trustHub, messaging} {
		sim.AddAccount(accountSID, token, nil)
	}
	trustHubSrv, messagingSrv := httptest.NewServer(trustHub), httptest.NewServer(messaging)
	defer trustHubSrv.Close()
	defer messagingSrv.Close()
	c, err := twilio.New(twilio.Options{BaseURL: trustHubSrv.URL, MessagingURL: messagingSrv.URL, Auth: tokenAuth(), PageSize: 1000, Retry: fastRetry})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range kinds.All {
		if _, err := c.List(context.Background(), k, kinds.Filters{}, func(*kinds.Object) error { return nil }); err != nil {
			t.Fatalf("%s: %v", k.Name, err)
		}
	}
	if trustHub.Requests() != 2 || trustHub.RequestsTo("/v1/CustomerProfiles") != 1 || messaging.Requests() != 3 || messaging.RequestsTo("/v1/Services") != 1 {
		t.Errorf("TrustHub saw %d requests, Messaging %d; want 2 and 3, each on its own paths", trustHub.Requests(), messaging.Requests())
	}
	for _, tc := range []struct {
		k          *kinds.Kind
		sim        *simulator.Server
		next, want string
	}{
		{kinds.BrandRegistrations, messaging, trustHubSrv.URL + "/v1/a2p/BrandRegistrations?Page=1", "not to messaging_api_url"},
		{kinds.TollfreeVerifications, messaging, trustHubSrv.URL + "/v1/Tollfree/Verifications?Page=1", "not to messaging_api_url"},
		{kinds.TrustProducts, trustHub, messagingSrv.URL + "/v1/TrustProducts?Page=1", "not to api_url"},
	} {
		before := trustHub.Requests() + messaging.Requests()
		tc.sim.SetFault(simulator.Fault{NextPageURL: tc.next, Times: 1})
		_, err := c.List(context.Background(), tc.k, kinds.Filters{}, func(*kinds.Object) error { return nil })
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "not following it with the credentials") {
			t.Errorf("%s: error %v, want a refusal naming %q", tc.k.Name, err, tc.want)
		}
		if n := trustHub.Requests() + messaging.Requests() - before; n != 1 {
			t.Errorf("%s: %d requests, want only the first page", tc.k.Name, n)
		}
	}
	// Without a messaging_api_url, Messaging kinds are not listed at all.
	c, err = twilio.New(twilio.Options{BaseURL: trustHubSrv.URL, Auth: tokenAuth(), PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.List(context.Background(), kinds.BrandRegistrations, kinds.Filters{}, func(*kinds.Object) error { return nil }); err == nil {
		t.Error("listed a Messaging kind without its URL")
	}
}

func TestListRefusesOtherHost(t *testing.T) {
	var leaked atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { leaked.Add(1) }))
	defer other.Close()
	srv := pageServer(t, func(*http.Request) string { return other.URL + "/v1/CustomerProfiles?Page=1" })
	c := newClient(t, srv.URL, tokenAuth(), 1000)
	_, err := c.List(context.Background(), kinds.CustomerProfiles, kinds.Filters{}, func(*kinds.Object) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "not following it with the credentials") {
		t.Fatalf("error = %v, want a refusal to follow", err)
	}
	if leaked.Load() != 0 {
		t.Error("the other host was called")
	}
}

func TestListStopsAtRepeatedPage(t *testing.T) {
	srv := pageServer(t, func(r *http.Request) string {
		// Page 1 points back at page 1.
		return "/v1/CustomerProfiles?PageSize=1000&Page=1"
	})
	c := newClient(t, srv.URL, tokenAuth(), 1000)
	pages, err := c.List(context.Background(), kinds.CustomerProfiles, kinds.Filters{}, func(*kinds.Object) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "repeats an earlier page") {
		t.Fatalf("error = %v, want a repeat to be detected", err)
	}
	if pages != 2 {
		t.Errorf("fetched %d pages, want 2 (the first, then the one that repeats)", pages)
	}
}

func TestListNonJSONError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "<html>bad gateway</html>", http.StatusBadGateway)
	}))
	defer srv.Close()
	c := newClient(t, srv.URL, tokenAuth(), 1000)
	_, err := c.List(context.Background(), kinds.CustomerProfiles, kinds.Filters{}, func(*kinds.Object) error { return nil })
	if want := "page 0: Twilio answered HTTP 502"; err == nil || err.Error() != want || twilio.Reason(err) != failure.Server {
		t.Fatalf("error = %v, want %q", err, want)
	}
}

func TestListHonoursContext(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	c := newClient(t, srv.URL, tokenAuth(), 1000)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.List(ctx, kinds.CustomerProfiles, kinds.Filters{}, func(*kinds.Object) error { return nil })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error = %v, want the context's deadline", err)
	}
}

// A next-page link may be a path, as the 2010 API's next_page_uri is: the
// one paging loop resolves it against the host's base URL.
func TestRelativeNextPageLink(t *testing.T) {
	srv := pageServer(t, func(r *http.Request) string {
		if r.URL.Query().Get("Page") == "1" {
			return ""
		}
		return kinds.CustomerProfiles.ListPath + "?Page=1"
	})
	c := newClient(t, srv.URL, tokenAuth(), 50)
	sids, pages := collectKind(t, c, kinds.CustomerProfiles, kinds.Filters{})
	if pages != 2 || len(sids) != 2 {
		t.Errorf("%d pages, %d objects; want 2 and 2", pages, len(sids))
	}
}

// Campaigns are not asked for under a Messaging Service whose
// us_app_to_person_registered is false: it has none. True, null, absent
// or unreadable (an anomaly), they are.
func TestListSkipsServicesNotRegistered(t *testing.T) {
	services := map[string]string{"MGtrue": `true`, "MGfalse": `false`, "MGnull": `null`, "MGodd": `"yes"`, "MGabsent": ``}
	var mu sync.Mutex
	asked := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == kinds.MessagingServices.ListPath {
			var items []string
			for sid, v := range services {
				item := fmt.Sprintf(`{"sid": %q`, sid)
				if v != "" {
					item += `, "us_app_to_person_registered": ` + v
				}
				items = append(items, item+"}")
			}
			fmt.Fprintf(w, `{"meta": {"next_page_url": null}, "services": [%s]}`, strings.Join(items, ", "))
			return
		}
		sid := strings.Split(strings.TrimPrefix(r.URL.Path, "/v1/Services/"), "/")[0]
		mu.Lock()
		asked[sid] = true
		mu.Unlock()
		// sid is one of the test's own: the body is JSON, quoted.
		fmt.Fprintf(w, `{"meta": {"next_page_url": null}, "compliance": [{"sid": %q, "campaign_status": "VERIFIED"}]}`, "QE"+sid) //nolint:gosec // a test server answering JSON
	}))
	defer srv.Close()
	c := newClient(t, srv.URL, tokenAuth(), 1000)
	sids, _ := collectKind(t, c, kinds.A2PCampaigns, kinds.Filters{})
	slices.Sort(sids)
	if want := []string{"QEMGabsent", "QEMGnull", "QEMGodd", "QEMGtrue"}; !slices.Equal(sids, want) {
		t.Errorf("campaigns %v, want %v", sids, want)
	}
	if asked["MGfalse"] || len(asked) != 4 {
		t.Errorf("campaigns asked for under %v; not under MGfalse", asked)
	}
}
