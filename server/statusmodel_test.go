package server

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/simulator"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/snapshot"
)

// The impact estate's objects, each with what uses it.
const (
	// inUseSID is a rejected profile with two phone numbers assigned.
	inUseSID = "BU00000000000000000000000000000001"
	// unusedSID is a rejected profile nothing uses, rejected after it.
	unusedSID = "BU00000000000000000000000000000002"
	// builtOnSID is an approved profile expiring in 5 days that a brand
	// (under which a campaign) and a verification are built on.
	builtOnSID = "BU00000000000000000000000000000003"
	// lapsedSID is an approved profile that expired 2 days ago, unused.
	lapsedSID = "BU00000000000000000000000000000004"
	// suspendedSID is a suspended brand whose suspended campaign's
	// Messaging Service has three numbers.
	suspendedSID         = "BN00000000000000000000000000000002"
	suspendedCampaignSID = "QE00000000000000000000000000000002"
	// otherSID is the other account's profile, rejected most recently.
	otherSID = "BU0000000000000000000000000000000f"
)

// impactEstate is two accounts with problems whose impact is known, a
// healthy one and one whose only profile is a draft.
func impactEstate(now time.Time) []statusAccount {
	day := 24 * time.Hour
	ago := func(d time.Duration) *time.Time { return simulator.Ptr(now.Add(-d).Truncate(time.Second)) }
	str := simulator.Ptr[string]
	main := statusAccount{name: "main", sid: statusSID, token: statusToken, profiles: []simulator.ServedObject{
		rejected(inUseSID, "Numbers in use", now.Add(-3*time.Hour), 22215),
		rejected(unusedSID, "Old draft", now.Add(-time.Hour), 22216),
		approved(builtOnSID, "Built on", now.Add(5*day)),
		approved(lapsedSID, "Lapsed", now.Add(-2*day)),
	}}
	for _, pn := range []string{"PN01", "PN02"} {
		main.assignments = append(main.assignments, simulator.ServedAssignment{
			SID: str("RA" + pn), CustomerProfileSID: str(inUseSID), ChannelEndpointType: str("phone-number"), ChannelEndpointSID: str(pn),
		})
	}
	suspended := simulator.SuspendedBrand(suspendedSID, "BSUSP1", "", now.Add(-2*time.Hour).Truncate(time.Second))
	suspended.A2PProfileBundleSID = nil
	main.messaging = simulator.Messaging{
		Brands: []simulator.ServedBrand{
			{SID: str("BN00000000000000000000000000000001"), Status: str("APPROVED"), TCRID: str("BOK1"), CustomerProfileBundleSID: str(builtOnSID)},
			suspended,
		},
		Services: []simulator.ServedService{{SID: str("MG01")}, {SID: str("MG02")}},
		Campaigns: []simulator.ServedCampaign{
			{SID: str("QE00000000000000000000000000000001"), MessagingServiceSID: str("MG01"), BrandRegistrationSID: str("BN00000000000000000000000000000001"),
				CampaignID: str("COK1"), CampaignStatus: str("VERIFIED")},
			{SID: str(suspendedCampaignSID), MessagingServiceSID: str("MG02"), BrandRegistrationSID: str(suspendedSID),
				CampaignID: str("CSUSP1"), CampaignStatus: str("SUSPENDED"), DateUpdated: ago(2 * time.Hour)},
		},
		Verifications: []simulator.ServedVerification{
			{SID: str("HH00000000000000000000000000000001"), Status: str("TWILIO_APPROVED"), CustomerProfileSID: str(builtOnSID), BusinessName: str("Built")},
		},
	}
	for _, pn := range []string{"PN11", "PN12", "PN13"} {
		main.messaging.PhoneNumbers = append(main.messaging.PhoneNumbers, simulator.ServedPhoneNumber{SID: str(pn), ServiceSID: str("MG02")})
	}
	return []statusAccount{
		main,
		{name: "other", sid: statusOtherSID, token: statusToken, profiles: []simulator.ServedObject{
			rejected(otherSID, "Other", now.Add(-30*time.Minute), 22219),
		}},
		{name: "calm", sid: "AC000000000000000000000000000000ca", token: statusToken, profiles: []simulator.ServedObject{
			approved("BU000000000000000000000000000000ca", "Fine", now.Add(300*day)),
		}},
		{name: "drafty", sid: "AC000000000000000000000000000000df", token: statusToken, profiles: []simulator.ServedObject{
			profile("BU000000000000000000000000000000df", "Unfinished", "draft"),
		}},
	}
}

// modelOf serves the accounts, lists them once, and returns the page's
// model for a query string; tune adjusts the handler first.
func modelOf(t *testing.T, accounts []statusAccount, tune func(*statusHandler)) func(query string) statusPage {
	t.Helper()
	sim := simulator.New()
	for _, a := range accounts {
		sim.AddAccount(a.sid, statusToken, a.profiles)
		sim.SetAssignments(a.sid, kinds.CustomerProfiles, a.assignments)
		sim.SetMessaging(a.sid, a.messaging)
	}
	rel := testSetup{api: sim, spec: statusSpec(false, accounts)}.start(t).rel
	h, err := newStatusHandler(rel, Options{Name: "twilio_trusthub_exporter", TelemetryPath: "/metrics", Logger: log.NewNopLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if tune != nil {
		tune(h)
	}
	return func(raw string) statusPage {
		t.Helper()
		v, err := url.ParseQuery(raw)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cur := rel.running()
		return h.page(cur.exp.Scrape(ctx), cur.exp.ExpiryWindow(), parseQuery(v))
	}
}

func rowSIDs(p statusPage) []string {
	var out []string
	for _, r := range p.Action.Rows {
		out = append(out, r.SID)
	}
	return out
}

// The needs-action list: in use first (broken before expiring, the most
// used first), then by urgency; narrowed by account, kind and status.
func TestStatusPageActions(t *testing.T) {
	page := modelOf(t, impactEstate(time.Now()), nil)
	all := []string{suspendedSID, suspendedCampaignSID, inUseSID, builtOnSID, otherSID, unusedSID, lapsedSID}
	for _, tc := range []struct {
		query  string
		code   int
		rows   []string
		total  int
		exact  bool
		notice string
	}{
		{query: "", code: 200, rows: all, total: 7, exact: true},
		{query: "account=other", code: 200, rows: []string{otherSID}, total: 1, exact: true},
		{query: "account=main&kind=brand_registrations", code: 200, rows: []string{suspendedSID}, total: 1, exact: true},
		// A suspended campaign is rejected: its kind knows only the good statuses.
		{query: "status=SUSPENDED", code: 200, rows: []string{suspendedSID, suspendedCampaignSID}, total: 2, exact: true},
		{query: "kind=customer_profiles&status=twilio-approved", code: 200, rows: []string{builtOnSID, lapsedSID}, total: 2, exact: true},
		{query: "kind=customer_profiles&status=twilio-rejected", code: 200, rows: []string{inUseSID, otherSID, unusedSID}, total: 3, exact: true},
		{query: "account=calm", code: 200, total: 0, exact: true},
		{query: "account=nope", code: 404, rows: all, total: 7, exact: true, notice: "No account is named “nope”"},
		{query: "kind=nope&account=other", code: 400, rows: []string{otherSID}, total: 1, exact: true, notice: "There is no kind “nope”"},
	} {
		t.Run("?"+tc.query, func(t *testing.T) {
			p := page(tc.query)
			if p.Code != tc.code || !strings.HasPrefix(p.Notice, tc.notice) || (tc.notice == "") != (p.Notice == "") {
				t.Errorf("code %d, notice %q; want %d, %q", p.Code, p.Notice, tc.code, tc.notice)
			}
			if got := rowSIDs(p); !slices.Equal(got, tc.rows) {
				t.Errorf("rows\n got %v\nwant %v", got, tc.rows)
			}
			if p.Action.Total != tc.total || p.Action.Exact != tc.exact || p.Action.More != 0 {
				t.Errorf("total %d (exact %v, %d more), want %d (exact %v)", p.Action.Total, p.Action.Exact, p.Action.More, tc.total, tc.exact)
			}
		})
	}
	p := page("")
	if a := p.Action; a.Rejected != 5 || a.Expired != 1 || a.Expiring != 1 || a.InUse != 4 {
		t.Errorf("rejected %d, expired %d, expiring %d, in use %d; want 5, 1, 1, 4", a.Rejected, a.Expired, a.Expiring, a.InUse)
	}
}

// What uses each object, as its row says it, and where every SID and
// error code links to.
func TestStatusPageImpactAndLinks(t *testing.T) {
	p := modelOf(t, impactEstate(time.Now()), nil)("")
	texts := func(r actionRow) []string {
		out := slices.Clone(r.Impact.Own)
		if r.Impact.Built != "" {
			out = append(out, r.Impact.Built)
		}
		return append(out, r.Impact.Via...)
	}
	want := map[string][]string{
		suspendedSID:         {"1 campaign", "3 phone numbers"},
		suspendedCampaignSID: {"3 phone numbers"},
		inUseSID:             {"2 phone-number assignments"},
		builtOnSID:           {"1 brand, 1 campaign, 1 verification"},
		otherSID:             nil,
		unusedSID:            nil,
		lapsedSID:            nil,
	}
	for _, r := range p.Action.Rows {
		if got := texts(r); !slices.Equal(got, want[r.SID]) {
			t.Errorf("%s is used by %q, want %q", r.SID, got, want[r.SID])
		}
		k := kinds.CustomerProfiles
		switch r.SID[:2] {
		case "BN":
			k = kinds.BrandRegistrations
		case "QE":
			k = kinds.A2PCampaigns
		}
		if r.Console != k.Console || !strings.HasPrefix(r.Console, "https://console.twilio.com/") {
			t.Errorf("%s links to %q, want %s's Console page", r.SID, r.Console, k.Name)
		}
		for _, c := range r.Codes {
			if c.Link != "https://www.twilio.com/docs/errors/"+strconv.FormatInt(c.Code, 10) {
				t.Errorf("%s: error %d links to %q", r.SID, c.Code, c.Link)
			}
		}
		if wantLink := "/?account=" + map[bool]string{true: "other", false: "main"}[r.SID == otherSID]; r.AccountLink != wantLink {
			t.Errorf("%s: account link %q, want %q", r.SID, r.AccountLink, wantLink)
		}
		if r.Updated != "" && !strings.HasSuffix(r.UpdatedAt, " UTC") || r.Expiry != "" && !strings.HasSuffix(r.ValidUntil, " UTC") {
			t.Errorf("%s: times %q %q, %q %q: want each as an age and in UTC", r.SID, r.Updated, r.UpdatedAt, r.Expiry, r.ValidUntil)
		}
	}
	brand := p.Action.Rows[0]
	if g := brand.Impact.Groups; len(g) != 1 || !slices.Equal(g[0].SIDs, []string{suspendedCampaignSID}) || g[0].Console != kinds.A2PCampaigns.Console {
		t.Errorf("the campaign under the suspended brand: %+v", g)
	}
	if r := p.Action.Rows[3]; r.SID != builtOnSID || len(r.Impact.Groups) != 3 || r.Impact.Groups[0].Title != kinds.BrandRegistrations.Title || !r.InUse {
		t.Errorf("what is built on the expiring profile: %+v", r.Impact)
	}
	if r := p.Action.Rows[4]; r.InUse || r.Impact.Built != "" {
		t.Errorf("%s is used by nothing: %+v", r.SID, r.Impact)
	}
	if len(brand.Codes) != 1 || brand.Codes[0].Code != simulator.ErrorBrandSuspended {
		t.Errorf("the suspended brand's codes: %v", brand.Codes)
	}
	for _, tc := range []struct {
		q    query
		want string
	}{
		{query{}, "/"},
		{query{Account: "a b&c"}, "/?account=a+b%26c"},
		{query{Account: "main", Kind: "customer_profiles"}, "/?account=main&kind=customer_profiles"},
		{query{Kind: "a2p_campaigns", Status: "FAILED", Page: 3}, "/?kind=a2p_campaigns&page=3&status=FAILED"},
		{query{Page: 1}, "/"},
	} {
		if got := tc.q.link(); got != tc.want {
			t.Errorf("%+v links to %q, want %q", tc.q, got, tc.want)
		}
	}
}

// The front page lists the accounts with something to act on, the most
// urgent first, a page at a time, and folds the healthy into a count.
func TestStatusPageAccounts(t *testing.T) {
	page := modelOf(t, impactEstate(time.Now()), func(h *statusHandler) { h.accountRows = 2 })
	names := func(p statusPage) []string {
		var out []string
		for _, a := range p.Accounts {
			out = append(out, a.Name+" "+a.HealthText)
		}
		return out
	}
	for _, tc := range []struct {
		query      string
		accounts   []string
		prev, next string
	}{
		{"", []string{"main problems", "other problems"}, "", "/?page=2"},
		{"page=2", []string{"drafty not approved"}, "/", ""},
		{"page=99", []string{"drafty not approved"}, "/", ""},
		{"page=x", []string{"main problems", "other problems"}, "", "/?page=2"},
	} {
		p := page(tc.query)
		if got := names(p); !slices.Equal(got, tc.accounts) || p.Prev != tc.prev || p.Next != tc.next {
			t.Errorf("%q: accounts %q, previous %q, next %q; want %q, %q, %q", tc.query, got, p.Prev, p.Next, tc.accounts, tc.prev, tc.next)
		}
		if p.Summary != (summary{Accounts: 4, Action: 2, Review: 1, Healthy: 1}) || p.Listed != 3 {
			t.Errorf("%q: summary %+v, %d listed", tc.query, p.Summary, p.Listed)
		}
	}
	p := page("")
	main := p.Accounts[0]
	if main.Detail != "6 to act on, 4 in use" || main.Link != "/?account=main" {
		t.Errorf("main: %q, %q", main.Detail, main.Link)
	}
	var cells []string
	for _, c := range main.Cells {
		cells = append(cells, c.State+"|"+strings.Join(c.Parts, ", ")+"|"+c.Link)
	}
	if want := []string{
		"|2 rejected, 1 expired, 1 expiring|/?account=main&kind=customer_profiles",
		"||/?account=main&kind=trust_products",
		"|1 rejected|/?account=main&kind=brand_registrations",
		"|1 rejected|/?account=main&kind=a2p_campaigns",
		"||/?account=main&kind=tollfree_verifications",
	}; !slices.Equal(cells, want) {
		t.Errorf("main's cells\n got %q\nwant %q", cells, want)
	}
	// Totals per kind: the profiles' statuses across every account.
	profiles := p.Kinds[0]
	var statuses []string
	for _, s := range profiles.Statuses {
		statuses = append(statuses, s.Status+"="+thousands(s.Objects)+"/"+thousands(s.Accounts))
	}
	if want := "draft=1/1 pending-review=0/0 in-review=0/0 twilio-approved=3/2 twilio-rejected=3/2"; strings.Join(statuses, " ") != want ||
		profiles.Total != 7 || profiles.Listings != 4 || profiles.Up != 4 || profiles.Expired != 1 || profiles.Expiring != 1 {
		t.Errorf("profiles' totals %q, %+v", statuses, profiles)
	}
	// A filtered list is all the page shows.
	if f := page("kind=customer_profiles"); !f.Filtered || f.Accounts != nil || f.Kinds != nil || len(f.Action.Rows) != 5 {
		t.Errorf("the list filtered by kind: filtered %v, %d accounts, %d kinds, %d rows", f.Filtered, len(f.Accounts), len(f.Kinds), len(f.Action.Rows))
	}
	// An account's page: its listings, and only its rows.
	d := page("account=main")
	if d.Account == nil || d.Account.Name != "main" || len(d.Account.Listings) != 5 || d.Accounts != nil || d.Kinds != nil {
		t.Fatalf("main's page: %+v", d.Account)
	}
	if l := d.Account.Listings[0]; l.State != "up" || l.Total != 4 || l.LastSuccess == "" || !strings.HasSuffix(l.LastSuccess, " UTC") {
		t.Errorf("main's profiles: %+v", l)
	}
}

// Discovered subaccounts are named by their friendly names, with their
// SID and parent beside them; a hostile friendly name stays text; an
// account's page is found by its friendly name too.
func TestStatusPageSubaccounts(t *testing.T) {
	sim := simulator.New()
	sim.AddAccount(statusSID, statusToken, nil)
	sim.AddSubaccountEstate(statusSID, 12, 10, time.Now())
	const hostileSID = "AC00000000000000000000000000000bad"
	sim.AddSubaccount(statusSID, hostileSID, `<img src=x onerror=alert(1)>`, "hostile-token")
	sim.SetObjects(hostileSID, kinds.CustomerProfiles, []simulator.ServedObject{rejected("BU00000000000000000000000000000bad", "x", time.Now(), 22215)})
	h := discoveredHandler(t, sim, 14)

	_, body := get(t, h, http.MethodGet, "/")
	for _, want := range []string{
		`<strong>14</strong> accounts:`,
		`<span class="state act">3 with problems</span>`,
		`11 accounts healthy`,
		`<a href="/?account=` + simulator.EstateSubaccountSID(0) + `">customer-0000</a><br><small class="mono">` + simulator.EstateSubaccountSID(0) + `</small>`,
		`<a href="/?account=isv">isv</a>`,
		`&lt;img src=x onerror=alert(1)&gt;`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the front page lacks %q", want)
		}
	}
	if strings.Contains(body, "<img") {
		t.Error("the hostile friendly name is markup on the page")
	}
	w, page := get(t, h, http.MethodGet, "/?account=customer-0010")
	if w.Code != http.StatusOK || !strings.Contains(page, "<h2>customer-0010 ") || !strings.Contains(page, `subaccount of <a href="/?account=isv">isv</a> (Twilio status active)`) {
		t.Errorf("customer-0010's page by its friendly name: %d\n%s", w.Code, page)
	}
}

// discoveredHandler configures the parent "isv" of sim's subaccounts,
// discovered, and returns the whole handler once the page counts the
// accounts, none pending.
func discoveredHandler(tb testing.TB, sim *simulator.Server, accounts int) http.Handler {
	tb.Helper()
	h := handlerOf(tb, testSetup{api: sim, spec: discoverySpec})
	all := "<strong>" + thousands(accounts) + "</strong> accounts"
	for deadline := time.Now().Add(3 * time.Minute); ; {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
		body := w.Body.String()
		if strings.Contains(body, all) && !strings.Contains(body, "pending</span>") {
			return h
		}
		if time.Now().After(deadline) {
			tb.Fatalf("the %d accounts were not listed in time", accounts)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// The first rows, picked without sorting every candidate, are those a
// full sort puts first, whatever order the candidates come in.
func TestFirstCandidates(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4)) //nolint:gosec // G404: a reproducible fixture
	accounts := []*account{{name: "a"}, {name: "b"}}
	var cs []candidate
	for i := range 3000 {
		rec := &snapshot.Record{SID: fmt.Sprintf("BU%04d", rng.IntN(2000)), Rejected: rng.IntN(3) == 0}
		cs = append(cs, candidate{a: accounts[i%2], rec: rec, weight: max(0, rng.IntN(8)-5), broken: rng.IntN(2) == 0, at: float64(rng.IntN(50))})
	}
	byKey := func(x, y candidate) int { return compareCandidates(&x, &y) }
	for _, order := range []string{"random", "best first", "worst first"} {
		in := slices.Clone(cs)
		switch order {
		case "best first":
			slices.SortFunc(in, byKey)
		case "worst first":
			slices.SortFunc(in, func(x, y candidate) int { return byKey(y, x) })
		}
		want := slices.Clone(cs)
		slices.SortFunc(want, byKey)
		for _, n := range []int{1, 100, 3000, 5000} {
			got := first(slices.Clone(in), n)
			if !slices.EqualFunc(got, want[:min(n, len(want))], func(x, y candidate) bool { return byKey(x, y) == 0 }) {
				t.Errorf("%s, first %d: not the first of the sorted candidates", order, n)
			}
		}
	}
}
