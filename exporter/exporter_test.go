package exporter

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	promconfig "github.com/prometheus/common/config"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/config"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/simulator"
)

const (
	sidMain   = "AC0123456789abcdef0123456789abcdef"
	sidBroken = "ACfedcba9876543210fedcba9876543210"
	policy    = "RN0123456789abcdef0123456789abcdef"
)

var now = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func fixture() []simulator.ServedObject {
	p := simulator.Ptr[string]
	at := func(d time.Duration) *time.Time { return simulator.Ptr(now.Add(d)) }
	day := 24 * time.Hour
	return []simulator.ServedObject{
		{SID: p("BU01"), Status: p("twilio-approved"), FriendlyName: p("Acme Dental"), PolicySID: p(policy), ValidUntil: at(3 * day),
			DateCreated: at(-400 * day), DateUpdated: at(-10 * day)},
		{SID: p("BU02"), Status: p("twilio-rejected"), FriendlyName: p("Blue Bakery"), PolicySID: p(policy), DateUpdated: at(-day),
			Errors: []simulator.ErrorCode{{Code: 22215}, {Code: 22216}, {Code: 22215}}},
		{SID: p("BU03"), Status: p("twilio-approved"), PolicySID: p(policy), ValidUntil: at(-day)},
		{SID: p("BU04"), Status: p("in-review"), FriendlyName: p(`Quote "q"`), Email: p("ops@example.com"), StatusCallback: p("https://example.com/cb")},
		{SID: p("BU05"), Status: p("twilio-suspended"), FriendlyName: p("New Status Ltd"), ValidUntil: at(20 * day)},
		{}, // every field null
	}
}

// trustProducts are main's Trust Products: one expiring, one rejected
// with a code and an odd item.
func trustProducts() []simulator.ServedObject {
	p := simulator.Ptr[string]
	return []simulator.ServedObject{
		{SID: p("BU11"), Status: p("twilio-approved"), FriendlyName: p("SHAKEN/STIR Acme"), PolicySID: p(policy), ValidUntil: simulator.Ptr(now.Add(40 * 24 * time.Hour))},
		{SID: p("BU12"), Status: p("twilio-rejected"), FriendlyName: p("CNAM Blue"), PolicySID: p(policy),
			Errors: []simulator.ErrorCode{{Code: 22217}, {Raw: []byte(`{"error_code": "30701"}`)}}},
	}
}

// messaging is main's Messaging data: a suspended brand and a failed one
// (null score, an odd errors item), two services (one without campaigns), a
// verified and a failed campaign, a rejected toll-free verification with
// its edit deadline and the contact's personal data (never exported), and
// an approved one.
func messaging() simulator.Messaging {
	p := simulator.Ptr[string]
	return simulator.Messaging{
		Brands: []simulator.ServedBrand{
			simulator.SuspendedBrand("BN01", "BSUSP01", "BU11", now.Add(-time.Hour)),
			{SID: p("BN02"), Status: p("FAILED"), BrandType: p("SOLE_PROPRIETOR"), IdentityStatus: p("UNVERIFIED"), A2PProfileBundleSID: p("BU12"),
				CustomerProfileBundleSID: p("BU02"),
				Errors:                   []simulator.ErrorCode{simulator.MessagingError(30701), {Raw: []byte(`"soon"`)}}},
		},
		Services: []simulator.ServedService{{SID: p("MG01")}, {SID: p("MG02")}},
		PhoneNumbers: []simulator.ServedPhoneNumber{{SID: p("PN11"), ServiceSID: p("MG01")}, {SID: p("PN12"), ServiceSID: p("MG01")},
			{SID: p("PN13"), ServiceSID: p("MG01")}, {SID: p("PN21"), ServiceSID: p("MG02")}},
		Campaigns: []simulator.ServedCampaign{
			{SID: p("QE01"), MessagingServiceSID: p("MG01"), BrandRegistrationSID: p("BN01"), CampaignID: p("CABC"), USAppToPersonUsecase: p("MARKETING"),
				CampaignStatus: p("VERIFIED"), DateCreated: simulator.Ptr(now.Add(-90 * 24 * time.Hour)), DateUpdated: simulator.Ptr(now.Add(-48 * time.Hour))},
			{SID: p("QE02"), MessagingServiceSID: p("MG01"), BrandRegistrationSID: p("BN02"), USAppToPersonUsecase: p("2FA"),
				CampaignStatus: p("FAILED"), Errors: []simulator.ErrorCode{simulator.MessagingError(30897)}},
		},
		Verifications: []simulator.ServedVerification{
			{SID: p("HH01"), Status: p("TWILIO_REJECTED"), ErrorCode: []byte(`30445`), EditExpiration: simulator.Ptr(now.Add(5 * 24 * time.Hour)),
				TollfreePhoneNumber: p("+18335550100"), BusinessName: p("Acme Dental"), TrustProductSID: p("BU11"), CustomerProfileSID: p("BU01"),
				DateCreated:              simulator.Ptr(now.Add(-20 * 24 * time.Hour)),
				BusinessContactFirstName: p("Firstperson"), BusinessContactLastName: p("Lastperson"), BusinessContactEmail: p("contact@example.com"),
				BusinessContactPhone: p("+15005550006")},
			{SID: p("HH02"), Status: p("TWILIO_APPROVED"), DateUpdated: simulator.Ptr(now.Add(-24 * time.Hour))},
		},
	}
}

func newExporter(t *testing.T, perObject bool) *Exporter {
	t.Helper()
	sim := simulator.New()
	sim.AddAccount(sidMain, "main-token", fixture())
	sim.SetObjects(sidMain, kinds.TrustProducts, trustProducts())
	sim.SetMessaging(sidMain, messaging())
	// What uses the profiles with a problem: the rejected BU02 two
	// numbers, the expired BU03 one, BU01 (expiring in 3 days) one. The
	// in-review BU04 has none, the draft-less and approved others are not
	// asked for.
	var as []simulator.ServedAssignment
	for i, bundle := range []string{"BU02", "BU02", "BU03", "BU01"} {
		as = append(as, simulator.ServedAssignment{SID: simulator.Ptr(fmt.Sprintf("RA%02d", i)), CustomerProfileSID: simulator.Ptr(bundle),
			ChannelEndpointType: simulator.Ptr("phone-number"), ChannelEndpointSID: simulator.Ptr(fmt.Sprintf("PN%02d", i))})
	}
	sim.SetAssignments(sidMain, kinds.CustomerProfiles, as)
	sim.AddAccount(sidBroken, "other-token", nil)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)

	spec := config.Default()
	spec.APIURL = srv.URL
	spec.MessagingAPIURL = srv.URL
	spec.PerObjectMetrics = perObject
	spec.Accounts = []config.Account{
		{Name: "main", AccountSID: sidMain, AuthToken: promconfig.Secret("main-token")},
		{Name: "broken", AccountSID: sidBroken, AuthToken: promconfig.Secret("not-the-token")},
	}
	return startExporter(t, spec, Options{UserAgent: "test", Now: func() time.Time { return now }})
}

// startExporter builds the exporter of spec with o, closed when the test
// ends.
func startExporter(t *testing.T, spec config.Config, o Options) *Exporter {
	t.Helper()
	cfg, err := config.New(spec)
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e
}

// gatherer gathers one scrape as Prometheus would see it. With sids,
// per-object series of other sids are left out.
func gatherer(t *testing.T, e *Exporter, sids ...string) prometheus.Gatherer {
	t.Helper()
	s := e.Scrape(context.Background())
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		mfs, err := s.Gather()
		if len(sids) == 0 {
			return mfs, err
		}
		for _, mf := range mfs {
			mf.Metric = slices.DeleteFunc(mf.Metric, func(m *dto.Metric) bool {
				sid := labelValue(m, "sid")
				return sid != "" && !slices.Contains(sids, sid)
			})
		}
		return mfs, err
	})
}

// aggregateFamilies are the families of the counts, whatever
// per_object_metrics says.
var aggregateFamilies = []string{
	"twilio_trusthub_customer_profiles", "twilio_trusthub_customer_profiles_expiring", "twilio_trusthub_customer_profiles_expired",
	"twilio_trusthub_customer_profile_errors", "twilio_trusthub_trust_products", "twilio_trusthub_trust_products_expiring",
	"twilio_trusthub_trust_products_expired", "twilio_trusthub_trust_product_errors", "twilio_messaging_brand_registrations",
	"twilio_messaging_a2p_campaigns", "twilio_messaging_tollfree_verifications", "twilio_trusthub_up", "twilio_trusthub_resource_up",
	"twilio_trusthub_last_success_timestamp_seconds", "twilio_trusthub_api_requests_total", "twilio_trusthub_listing_errors_total",
}

// TestCollect holds a whole scrape of the fixture to testdata/collect.prom
// (run with -update to rewrite it, then read the difference): every
// family but the measured listing durations.
func TestCollect(t *testing.T) {
	e := newExporter(t, true)
	g := gatherer(t, e)
	golden(t, "collect.prom", g, "twilio_trusthub_listing_duration_seconds")
	// What the file must say, said apart from it.
	// Five profiles with a sid, five documented statuses each, one extra
	// series for the undocumented status.
	if n, err := testutil.GatherAndCount(g, "twilio_trusthub_customer_profile_status"); err != nil || n != 26 {
		t.Errorf("%d status series (%v), want 26", n, err)
	}
	// Duration is measured, so only its presence is checked.
	if n, _ := testutil.GatherAndCount(g, "twilio_trusthub_listing_duration_seconds"); n != 10 {
		t.Errorf("%d listing duration series, want one per account and resource", n)
	}
	// The broken account's one auth failure per kind, nothing else.
	for _, tc := range []struct {
		name string
		want int
	}{
		{"twilio_trusthub_listing_errors_total", 2 * len(kinds.All)},
		{"twilio_trusthub_customer_profile_info", 5},
		{"twilio_messaging_brand_registration_info", 2},
	} {
		if n, err := testutil.GatherAndCount(g, tc.name); err != nil || n != tc.want {
			t.Errorf("%s: %d series (%v), want %d", tc.name, n, err, tc.want)
		}
	}
	if v := seriesValue(t, g, "twilio_trusthub_listing_errors_total", "broken", "customer_profiles"); v != 1 {
		t.Errorf("broken's failures = %v, want 1", v)
	}
}

func TestCollectWithoutPerObject(t *testing.T) {
	e := newExporter(t, false)
	g := gatherer(t, e)
	for _, name := range []string{"twilio_trusthub_customer_profile_info", "twilio_trusthub_customer_profile_status", "twilio_trusthub_customer_profile_valid_until_timestamp_seconds", "twilio_trusthub_customer_profile_updated_timestamp_seconds", "twilio_trusthub_customer_profile_error_info"} {
		if n, _ := testutil.GatherAndCount(g, name); n != 0 {
			t.Errorf("%s: %d series, want none without per_object_metrics", name, n)
		}
	}
	// The counts are those of a scrape with them.
	f, err := os.Open(filepath.Join("testdata", "collect.prom"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	if err := testutil.GatherAndCompare(g, f, aggregateFamilies...); err != nil {
		t.Error(err)
	}
}

// seriesValue is the value (a gauge's or a counter's) of the one series
// of family name whose label values, in label-name order, are values.
func seriesValue(t *testing.T, g prometheus.Gatherer, name string, values ...string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.Metric {
			var got []string
			for _, lp := range m.Label {
				got = append(got, lp.GetValue())
			}
			if slices.Equal(got, values) {
				if m.Counter != nil {
					return m.Counter.GetValue()
				}
				return m.Gauge.GetValue()
			}
		}
	}
	t.Fatalf("no %s%v", name, values)
	return 0
}

func TestLint(t *testing.T) {
	problems, err := testutil.GatherAndLint(gatherer(t, newExporter(t, true)))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
}

// Nothing personal or secret is exported.
func TestNoPersonalDataOrSecrets(t *testing.T) {
	mfs, err := gatherer(t, newExporter(t, true)).Gather()
	if err != nil || len(mfs) == 0 {
		t.Fatalf("gathered %d families, %v", len(mfs), err)
	}
	var text strings.Builder
	for _, mf := range mfs {
		text.WriteString(mf.String())
	}
	for _, bad := range []string{"ops@example.com", "example.com/cb", "main-token", "not-the-token", "contact@example.com", "Firstperson", "Lastperson", "+15005550006"} {
		if strings.Contains(text.String(), bad) {
			t.Errorf("the metrics contain %q", bad)
		}
	}
}

func labelValue(m *dto.Metric, name string) string {
	for _, l := range m.Label {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// A kind the credentials may not read (403 on Trust Products, as a
// restricted API key gets) fails alone: its resource_up is 0 and its
// families are absent, the other kind is served in full (one page, and
// the assignments of its five profiles with a problem), and up says that
// not everything could be listed.
func TestOneKindFailingLeavesTheOtherUp(t *testing.T) {
	sim := simulator.New()
	sim.AddAccount(sidMain, "main-token", fixture())
	sim.SetObjects(sidMain, kinds.TrustProducts, trustProducts())
	sim.SetFault(simulator.Fault{Path: kinds.TrustProducts.ListPath, Status: 403, Code: 20003})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	e := mainExporter(t, srv.URL, srv.URL, kinds.CustomerProfiles, kinds.TrustProducts)
	g := gatherer(t, e)
	// testdata/kind-forbidden.prom, and what it must say, said apart from it.
	golden(t, "kind-forbidden.prom", only(g, "twilio_trusthub_up", "twilio_trusthub_resource_up", "twilio_trusthub_api_requests_total"))
	for _, tc := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"twilio_trusthub_up", []string{"main"}, 0},
		{"twilio_trusthub_resource_up", []string{"main", "customer_profiles"}, 1},
		{"twilio_trusthub_resource_up", []string{"main", "trust_products"}, 0},
		{"twilio_trusthub_api_requests_total", []string{"main", "403", "trust_products"}, 1},
	} {
		if got := seriesValue(t, g, tc.name, tc.labels...); got != tc.want {
			t.Errorf("%s%v = %v, want %v", tc.name, tc.labels, got, tc.want)
		}
	}
	for _, tc := range []struct {
		name string
		want int
	}{
		{"twilio_trusthub_customer_profiles", 7},
		{"twilio_trusthub_customer_profile_info", 5},
		{"twilio_trusthub_trust_products", 0},
		{"twilio_trusthub_trust_product_info", 0},
		{"twilio_trusthub_last_success_timestamp_seconds", 1},
	} {
		if n, err := testutil.GatherAndCount(g, tc.name); err != nil || n != tc.want {
			t.Errorf("%s: %d series (%v), want %d", tc.name, n, err, tc.want)
		}
	}
	st := e.Scrape(context.Background()).Status()
	if len(st) != 2 || st[1].Kind != kinds.TrustProducts || !strings.Contains(st[1].State.LastError, "may read Trust Products") {
		t.Errorf("the failed listing's status does not say which resource it could not read: %+v", st)
	}
}

// An API key that may not read Messaging (403 on every Messaging request,
// from a host of its own) fails the three Messaging kinds alone: the
// TrustHub kinds stay up and served, each failed kind says what it could
// not read.
func TestMessagingForbiddenLeavesTrustHubUp(t *testing.T) {
	trustHub, messagingSim := simulator.New(), simulator.New()
	for _, sim := range []*simulator.Server{trustHub, messagingSim} {
		sim.AddAccount(sidMain, "main-token", fixture())
		sim.SetObjects(sidMain, kinds.TrustProducts, trustProducts())
		sim.SetMessaging(sidMain, messaging())
	}
	messagingSim.SetFault(simulator.Fault{Status: 403, Code: 20003})
	trustHubSrv, messagingSrv := httptest.NewServer(trustHub), httptest.NewServer(messagingSim)
	t.Cleanup(trustHubSrv.Close)
	t.Cleanup(messagingSrv.Close)
	e := mainExporter(t, trustHubSrv.URL, messagingSrv.URL)
	g := gatherer(t, e)
	// testdata/messaging-forbidden.prom, and what it must say, said apart
	// from it.
	golden(t, "messaging-forbidden.prom", only(g, "twilio_trusthub_up", "twilio_trusthub_resource_up", "twilio_trusthub_api_requests_total"))
	if got := seriesValue(t, g, "twilio_trusthub_up", "main"); got != 0 {
		t.Errorf("up = %v, want 0: Messaging could not be listed", got)
	}
	for _, tc := range []struct {
		resource string
		up       float64
		code     string
	}{
		{"customer_profiles", 1, "200"},
		{"trust_products", 1, "200"},
		{"brand_registrations", 0, "403"},
		{"a2p_campaigns", 0, "403"},
		{"tollfree_verifications", 0, "403"},
	} {
		if got := seriesValue(t, g, "twilio_trusthub_resource_up", "main", tc.resource); got != tc.up {
			t.Errorf("resource_up{%s} = %v, want %v", tc.resource, got, tc.up)
		}
		if got := seriesValue(t, g, "twilio_trusthub_api_requests_total", "main", tc.code, tc.resource); got < 1 {
			t.Errorf("api_requests_total{%s,%s} = %v, want at least 1", tc.code, tc.resource, got)
		}
	}
	for _, tc := range []struct {
		name string
		want int
	}{
		{"twilio_trusthub_customer_profile_info", 5},
		{"twilio_trusthub_trust_product_info", 2},
		{"twilio_messaging_brand_registrations", 0},
		{"twilio_messaging_brand_registration_info", 0},
		{"twilio_messaging_a2p_campaigns", 0},
		{"twilio_messaging_tollfree_verifications", 0},
	} {
		if n, err := testutil.GatherAndCount(g, tc.name); err != nil || n != tc.want {
			t.Errorf("%s: %d series (%v), want %d", tc.name, n, err, tc.want)
		}
	}
	// TrustHub: one page of each kind, and the assignments of the five
	// profiles and the one Trust Product with a problem.
	if trustHub.Requests() != 8 || messagingSim.RequestsTo("/v1/Services") != 1 || messagingSim.Requests() != 3 {
		t.Errorf("TrustHub saw %d requests, Messaging %d; want 8 and 3", trustHub.Requests(), messagingSim.Requests())
	}
	for _, st := range e.Scrape(context.Background()).Status() {
		if st.Kind.Host == kinds.Messaging && !strings.Contains(st.State.LastError, "may read "+st.Kind.Title) {
			t.Errorf("%s: last error %q does not name the resource", st.Kind.Name, st.State.LastError)
		}
	}
}

// mainExporter is an exporter of the one account main, listing the
// resources given (the default ones when none) from the two URLs.
func mainExporter(t *testing.T, apiURL, messagingURL string, resources ...*kinds.Kind) *Exporter {
	t.Helper()
	spec := config.Default()
	spec.APIURL, spec.MessagingAPIURL = apiURL, messagingURL
	if len(resources) > 0 {
		spec.Resources = resources
	}
	spec.Accounts = []config.Account{{Name: "main", AccountSID: sidMain, AuthToken: promconfig.Secret("main-token")}}
	return startExporter(t, spec, Options{Now: func() time.Time { return now }})
}
