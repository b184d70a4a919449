package server

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"
	promconfig "github.com/prometheus/common/config"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/config"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/simulator"
)

const (
	statusSID      = "AC0123456789abcdef0123456789abcdef"
	statusOtherSID = "ACfedcba9876543210fedcba9876543210"
	statusToken    = "status-page-planted-token-5d1e"
)

// statusAccount is one account the status tests configure: its profiles
// are served under its token, and the exporter is given token (the right
// one or not).
type statusAccount struct {
	name, sid, token string
	profiles         []simulator.ServedObject
	// assignments are the profiles' channel endpoint assignments,
	// messaging the account's brands, campaigns and verifications.
	assignments []simulator.ServedAssignment
	messaging   simulator.Messaging
}

// statusHandlerFor serves the accounts from a simulator and returns the
// whole HTTP handler.
func statusHandlerFor(t testing.TB, perObject bool, o Options, accounts ...statusAccount) http.Handler {
	t.Helper()
	sim := simulator.New()
	for _, a := range accounts {
		sim.AddAccount(a.sid, statusToken, a.profiles)
		sim.SetAssignments(a.sid, kinds.CustomerProfiles, a.assignments)
		sim.SetMessaging(a.sid, a.messaging)
	}
	return handlerOf(t, testSetup{api: sim, spec: statusSpec(perObject, accounts), options: o})
}

// statusSpec configures the accounts (and no other), with expiry windows
// of 7 and 30 days.
func statusSpec(perObject bool, accounts []statusAccount) func(*config.Config) {
	return func(spec *config.Config) {
		spec.PerObjectMetrics = perObject
		spec.ExpiringWithinDays = []int{7, 30}
		spec.Accounts = nil
		for _, a := range accounts {
			spec.Accounts = append(spec.Accounts, config.Account{Name: a.name, AccountSID: a.sid, AuthToken: promconfig.Secret(a.token)})
		}
	}
}

func get(t *testing.T, h http.Handler, method, path string) (*httptest.ResponseRecorder, string) {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(method, path, nil))
	body, _ := io.ReadAll(w.Body)
	return w, string(body)
}

func profile(sid, name, status string) simulator.ServedObject {
	return simulator.ServedObject{SID: &sid, FriendlyName: &name, Status: &status}
}

func rejected(sid, name string, updated time.Time, codes ...int64) simulator.ServedObject {
	p := profile(sid, name, kinds.CustomerProfiles.Rejected[0])
	p.DateUpdated = &updated
	for _, c := range codes {
		p.Errors = append(p.Errors, simulator.ErrorCode{Code: c})
	}
	return p
}

func approved(sid, name string, until time.Time) simulator.ServedObject {
	p := profile(sid, name, "twilio-approved")
	p.ValidUntil = &until
	return p
}

// needsAction is the part of the page after the listings table.
func needsAction(t *testing.T, body string) string {
	t.Helper()
	_, after, ok := strings.Cut(body, `<h2 id="needs-action">Needs action</h2>`)
	if !ok {
		t.Fatalf("no Needs action section:\n%s", body)
	}
	return after
}

// A friendly name is whatever a customer typed: on the page it is text.
func TestStatusPageEscapes(t *testing.T) {
	now := time.Now()
	hostile := []string{
		`<script>alert(1)</script>`,
		`"><img src=x onerror=alert(2)>`,
		`</td></tr></table><a href="javascript:alert(3)">x</a>`,
		`{{.Name}} & <!-- -->`,
	}
	var profiles []simulator.ServedObject
	for i, name := range hostile {
		profiles = append(profiles, rejected(fmt.Sprintf("BU%032d", i), name, now.Add(-time.Duration(i+1)*time.Hour), 22215))
	}
	h := statusHandlerFor(t, false, Options{}, statusAccount{name: "main", sid: statusSID, token: statusToken, profiles: profiles})
	w, body := get(t, h, http.MethodGet, "/")
	if w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	for _, tc := range []struct{ name, want string }{
		{hostile[0], `&lt;script&gt;alert(1)&lt;/script&gt;`},
		{hostile[1], `&#34;&gt;&lt;img src=x onerror=alert(2)&gt;`},
		{hostile[2], `&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;&lt;a href=&#34;javascript:alert(3)&#34;&gt;x&lt;/a&gt;`},
		{hostile[3], `{{.Name}} &amp; &lt;!-- --&gt;`},
	} {
		if strings.Contains(body, tc.name) {
			t.Errorf("the page holds %q unescaped", tc.name)
		}
		if !strings.Contains(body, tc.want) {
			t.Errorf("the page does not show %q as text (want %q)", tc.name, tc.want)
		}
	}
	for _, markup := range []string{"<script", "<img", `href="javascript:`, "<!--"} {
		if strings.Contains(body, markup) {
			t.Errorf("the page contains markup %q", markup)
		}
	}
	for header, want := range map[string]string{
		"Content-Type":            "text/html; charset=utf-8",
		"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
		"X-Content-Type-Options":  "nosniff",
	} {
		if got := w.Header().Get(header); got != want {
			t.Errorf("%s: %q, want %q", header, got, want)
		}
	}
}

// The table is bounded: the first rows, then how many more there are. It
// is kept with per-profile series on and off alike.
func TestStatusPageRows(t *testing.T) {
	now := time.Now()
	day := 24 * time.Hour
	var profiles []simulator.ServedObject
	for i := range 250 {
		profiles = append(profiles, rejected(fmt.Sprintf("BUr%031d", i), fmt.Sprintf("Rejected %03d", i), now.Add(-time.Duration(i+1)*time.Minute), 22215+int64(i%3)))
	}
	for i := range 10 {
		profiles = append(profiles, approved(fmt.Sprintf("BUe%031d", i), fmt.Sprintf("Expired %d", i), now.Add(-time.Duration(i+1)*day)))
	}
	for i := range 5 {
		profiles = append(profiles, approved(fmt.Sprintf("BUs%031d", i), fmt.Sprintf("Soon %d", i), now.Add(time.Duration(i+1)*day)))
	}
	profiles = append(profiles, approved("BUf0000000000000000000000000000000", "Far", now.Add(90*day)), profile("BUd0000000000000000000000000000000", "Draft", "draft"))

	small := []simulator.ServedObject{
		approved("BUx0000000000000000000000000000000", "Other soon", now.Add(2*day)),
		rejected("BUy0000000000000000000000000000000", "Other rejected", now, 22219),
	}
	for _, perObject := range []bool{false, true} {
		t.Run(fmt.Sprintf("per_object_metrics %v", perObject), func(t *testing.T) {
			h := statusHandlerFor(t, perObject, Options{},
				statusAccount{name: "main", sid: statusSID, token: statusToken, profiles: profiles},
				statusAccount{name: "other", sid: statusOtherSID, token: statusToken, profiles: small})
			_, body := get(t, h, http.MethodGet, "/")
			section := needsAction(t, body)
			if got := strings.Count(section, `<span class="mono sid">`); got != StatusRows {
				t.Errorf("%d rows, want %d", got, StatusRows)
			}
			// 251 rejected + 10 expired + 6 expiring within 30 days, 100 shown.
			for _, want := range []string{
				"<strong>267</strong> object(s) need action: 251 rejected, 10 expired, 6 expiring within 30 days",
				`<p class="more">and 167 more</p>`,
				`<a href="https://www.twilio.com/docs/errors/22215">22215</a>`,
				`<a href="https://www.twilio.com/docs/errors/22219">22219</a>`,
			} {
				if !strings.Contains(section, want) {
					t.Errorf("the section lacks %q", want)
				}
			}
			// Across accounts by urgency: the newest rejection (other's) first.
			first, second := strings.Index(section, "Other rejected"), strings.Index(section, "Rejected 000")
			if first < 0 || second < 0 || first > second {
				t.Errorf("the newest rejection is not first (at %d, next at %d)", first, second)
			}
			for _, absent := range []string{"Rejected 099", "Expired 0", "Soon 0", "Far", "Draft"} {
				if strings.Contains(section, ">"+absent+"<") {
					t.Errorf("%q is listed beyond the first rows", absent)
				}
			}
			if !strings.Contains(section, ">Rejected 098<") {
				t.Error("the 100th row is missing")
			}
		})
	}
}

// Few enough rows: all of them, expired before expiring, and no "more".
func TestStatusPageExpiry(t *testing.T) {
	now := time.Now()
	day := 24 * time.Hour
	h := statusHandlerFor(t, false, Options{}, statusAccount{name: "main", sid: statusSID, token: statusToken, profiles: []simulator.ServedObject{
		approved("BUa0000000000000000000000000000000", "Renew in a week", now.Add(7*day-time.Hour)),
		approved("BUb0000000000000000000000000000000", "Lapsed", now.Add(-3*day-time.Hour)),
		approved("BUc0000000000000000000000000000000", "Fine for a year", now.Add(365*day)),
	}})
	_, body := get(t, h, http.MethodGet, "/")
	section := needsAction(t, body)
	lapsed, soon := strings.Index(section, "Lapsed"), strings.Index(section, "Renew in a week")
	if lapsed < 0 || soon < 0 || lapsed > soon {
		t.Errorf("want the expired before the expiring:\n%s", section)
	}
	for _, want := range []string{`<span class="expiry bad">expired 3d 1h ago</span>`, `<span class="expiry">in 6d 23h</span>`} {
		if !strings.Contains(section, want) {
			t.Errorf("the section lacks %q:\n%s", want, section)
		}
	}
	if strings.Contains(section, "Fine for a year") || strings.Contains(section, "more</p>") {
		t.Errorf("a profile outside the window is listed, or more announced:\n%s", section)
	}
}

// A failed listing shows its error in words, the credentials nowhere; a
// healthy account beside it is unaffected.
func TestStatusPageFailedAccount(t *testing.T) {
	now := time.Now()
	h := statusHandlerFor(t, false, Options{},
		statusAccount{name: "good", sid: statusSID, token: statusToken, profiles: []simulator.ServedObject{rejected("BU00000000000000000000000000000001", "Listed", now, 22215)}},
		statusAccount{name: "refused", sid: statusOtherSID, token: "planted-wrong-token-91ab"})
	_, front := get(t, h, http.MethodGet, "/")
	_, refused := get(t, h, http.MethodGet, "/?account=refused")
	_, good := get(t, h, http.MethodGet, "/?account=good")
	for _, tc := range []struct{ page, body, want string }{
		{"/", front, `<span class="state down">down</span><br><small>5 listings down</small>`},
		{"/", front, ">Listed<"},
		{"/", front, `<strong>2</strong> accounts:`},
		{"/?account=refused", refused, `<span class="state down">down</span>`},
		{"/?account=refused", refused, "authentication failed for account refused: check the auth token"},
		{"/?account=refused", refused, "Twilio answered HTTP 401: error 20003"},
		{"/?account=refused", refused, "no data: no listing has succeeded yet"},
		{"/?account=refused", refused, "Not in the list below, for want of data: Customer-Profiles, Trust Products, A2P brand registrations, A2P campaigns, toll-free verifications."},
		{"/?account=refused", refused, "check the auth token, and that it may read Trust Products"},
		{"/?account=good", good, `<span class="state up">up</span>`},
		{"/?account=good", good, ">Listed<"},
	} {
		if !strings.Contains(tc.body, tc.want) {
			t.Errorf("%s lacks %q:\n%s", tc.page, tc.want, tc.body)
		}
	}
	for _, body := range []string{front, refused, good} {
		for _, secret := range []string{statusToken, "planted-wrong-token-91ab"} {
			if strings.Contains(body, secret) {
				t.Error("a token appears on the page")
			}
		}
	}
}

// A view waits for a due listing only briefly: with TrustHub hanging it
// still answers, saying no listing has completed.
func TestStatusPageDoesNotHang(t *testing.T) {
	rel := testSetup{api: hangingAPI}.start(t).rel
	h, err := newStatusHandler(rel, Options{Name: "twilio_trusthub_exporter", TelemetryPath: "/metrics", Logger: log.NewNopLogger()})
	if err != nil {
		t.Fatal(err)
	}
	h.wait = 50 * time.Millisecond
	for range 2 { // the second view joins the listing the first started
		w, body := get(t, h, http.MethodGet, "/?account=main")
		if w.Code != http.StatusOK || !strings.Contains(body, `<span class="state pending">pending</span>`) || !strings.Contains(body, "the first listing is under way") {
			t.Errorf("status %d; want 200 with the account pending:\n%s", w.Code, body)
		}
	}
}

func TestStatusPageMethodsAndPaths(t *testing.T) {
	for _, pprof := range []bool{false, true} {
		h := statusHandlerFor(t, false, Options{EnablePprof: pprof}, statusAccount{name: "main", sid: statusSID, token: statusToken})
		_, full := get(t, h, http.MethodGet, "/")
		for _, tc := range []struct {
			method, path string
			code         int
			body         string // contained, or "" for an empty body
		}{
			{http.MethodGet, "/", http.StatusOK, "<h2>Totals</h2>"},
			{http.MethodHead, "/", http.StatusOK, ""},
			{http.MethodPost, "/", http.StatusMethodNotAllowed, "use GET"},
			{http.MethodGet, "/nope", http.StatusNotFound, "404 page not found"},
			{http.MethodGet, "/debug/pprof/", map[bool]int{false: http.StatusNotFound, true: http.StatusOK}[pprof], map[bool]string{false: "404", true: "goroutine"}[pprof]},
		} {
			w, body := get(t, h, tc.method, tc.path)
			if w.Code != tc.code || (tc.body == "") != (body == "") || !strings.Contains(body, tc.body) {
				t.Errorf("pprof %v: %s %s: %d %q, want %d with %q", pprof, tc.method, tc.path, w.Code, body, tc.code, tc.body)
			}
		}
		w, _ := get(t, h, http.MethodHead, "/")
		if got, want := w.Header().Get("Content-Length"), fmt.Sprint(len(full)); got != want {
			t.Errorf("HEAD Content-Length %s, GET body %s bytes", got, want)
		}
		if got := strings.Contains(full, `<a href="/debug/pprof/">Profiling</a>`); got != pprof {
			t.Errorf("pprof %v: profiling link shown: %v", pprof, got)
		}
		for _, link := range []string{`<a href="/metrics">Metrics</a>`, `<a href="/-/healthy">Health</a>`, `<a href="/-/ready">Readiness</a>`} {
			if !strings.Contains(full, link) {
				t.Errorf("no link %s", link)
			}
		}
	}
}

func TestAge(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{-time.Hour, "0s"},
		{1400 * time.Millisecond, "1s"},
		{90 * time.Second, "1m 30s"},
		{3*time.Hour + 59*time.Minute + 59*time.Second, "3h 59m"},
		{50*time.Hour + 10*time.Minute, "2d 2h"},
	} {
		if got := age(tc.d); got != tc.want {
			t.Errorf("age(%s) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

// The status page over the demo's accounts (2,000 and 350 profiles), from
// the cache: the cost of one view.
func BenchmarkStatusPage(b *testing.B) {
	now := time.Now()
	var accounts []statusAccount
	for i, a := range simulator.DemoAccounts {
		sid := fmt.Sprintf("AC%032x", 0xde30+i)
		accounts = append(accounts, statusAccount{name: a.Name, sid: sid, token: statusToken, profiles: simulator.Generate(sid, a.Profiles, now, uint64(i+1))})
	}
	h := statusHandlerFor(b, false, Options{}, accounts...)
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	h.ServeHTTP(httptest.NewRecorder(), r) // lists; the rest is cached
	var size int
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		size = w.Body.Len()
	}
	b.ReportMetric(float64(size), "bytes/page")
}

// estateHandler serves a parent and n subaccounts of the simulator's
// estate (every problemEvery-th with problems of every kind), discovered,
// and returns the whole handler once every listing is cached.
func estateHandler(tb testing.TB, n, problemEvery int) http.Handler {
	tb.Helper()
	sim := simulator.New()
	sim.AddAccount(statusSID, statusToken, nil)
	sim.AddSubaccountEstate(statusSID, n, problemEvery, time.Now())
	return discoveredHandler(tb, sim, n+1)
}

// discoverySpec configures the parent "isv" (and no other account), whose
// subaccounts are discovered from the same API, cached for an hour.
func discoverySpec(spec *config.Config) {
	spec.AccountsAPIURL = spec.APIURL
	spec.CacheTTL = time.Hour
	spec.ExpiringWithinDays = []int{7, 30}
	discover := config.DefaultSubaccounts()
	discover.Discover = true
	spec.Accounts = []config.Account{{Name: "isv", AccountSID: statusSID, AuthToken: promconfig.Secret(statusToken), Subaccounts: &discover}}
}

// The status page over 1,000 discovered subaccounts, from the cache: the
// server time of one view of the front page, of one account's page, and
// of the list filtered by kind and status. In the estate every tenth
// subaccount has problems of every kind; in the worst one every
// subaccount does, and some 17,000 objects are ranked by what uses them.
//
//	go test -run '^$' -bench BenchmarkStatusPage1000 -benchtime 100x ./server/
func BenchmarkStatusPage1000(b *testing.B) {
	for _, estate := range []struct {
		name  string
		every int
	}{{"estate", 10}, {"worst", 1}} {
		h := estateHandler(b, 1000, estate.every)
		for _, tc := range []struct{ name, path string }{
			{"front", "/"},
			{"account", "/?account=" + simulator.EstateSubaccountSID(10)},
			{"filtered", "/?kind=a2p_campaigns&status=FAILED"},
		} {
			b.Run(estate.name+"/"+tc.name, func(b *testing.B) {
				r := httptest.NewRequest(http.MethodGet, tc.path, nil)
				serveLoop(b, h, r, "bytes/page")
			})
		}
	}
}
