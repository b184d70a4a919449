package exporter

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	promconfig "github.com/prometheus/common/config"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/collector"
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
		{SID: p("BU01"), Status: p("twilio-approved"), FriendlyName: p("Acme Dental"), PolicySID: p(policy), ValidUntil: at(3 * day), DateUpdated: at(-10 * day)},
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

func newExporter(t *testing.T, perProfile bool) *collector.Exporter {
	t.Helper()
	sim := simulator.New()
	sim.AddAccount(sidMain, "main-token", fixture())
	sim.SetObjects(sidMain, kinds.TrustProducts, trustProducts())
	sim.AddAccount(sidBroken, "other-token", nil)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)

	spec := config.Default()
	spec.APIURL = srv.URL
	spec.PerProfileMetrics = perProfile
	spec.Accounts = []config.AccountSpec{
		{Name: "main", AccountSID: sidMain, AuthToken: promconfig.Secret("main-token")},
		{Name: "broken", AccountSID: sidBroken, AuthToken: promconfig.Secret("not-the-token")},
	}
	cfg, err := config.New(spec)
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(cfg, Options{UserAgent: "test", Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e
}

const wantAggregates = `
# HELP twilio_trusthub_customer_profiles Customer-Profiles in each status. From the account's cached listing, refreshed at most every cache_ttl.
# TYPE twilio_trusthub_customer_profiles gauge
twilio_trusthub_customer_profiles{account="main",status="draft"} 0
twilio_trusthub_customer_profiles{account="main",status="in-review"} 1
twilio_trusthub_customer_profiles{account="main",status="pending-review"} 0
twilio_trusthub_customer_profiles{account="main",status="twilio-approved"} 2
twilio_trusthub_customer_profiles{account="main",status="twilio-rejected"} 1
twilio_trusthub_customer_profiles{account="main",status="twilio-suspended"} 1
twilio_trusthub_customer_profiles{account="main",status="unknown"} 1
# HELP twilio_trusthub_customer_profiles_expiring Customer-Profiles whose valid_until is after now and at most within_days days ahead. From the account's cached listing, refreshed at most every cache_ttl.
# TYPE twilio_trusthub_customer_profiles_expiring gauge
twilio_trusthub_customer_profiles_expiring{account="main",within_days="7"} 1
twilio_trusthub_customer_profiles_expiring{account="main",within_days="30"} 2
# HELP twilio_trusthub_customer_profiles_expired Customer-Profiles whose valid_until is at or before now. From the account's cached listing, refreshed at most every cache_ttl.
# TYPE twilio_trusthub_customer_profiles_expired gauge
twilio_trusthub_customer_profiles_expired{account="main"} 1
# HELP twilio_trusthub_customer_profile_errors Customer-Profiles whose errors list contains the code; a profile counts once per code. From the account's cached listing, refreshed at most every cache_ttl.
# TYPE twilio_trusthub_customer_profile_errors gauge
twilio_trusthub_customer_profile_errors{account="main",code="22215"} 1
twilio_trusthub_customer_profile_errors{account="main",code="22216"} 1
# HELP twilio_trusthub_trust_products Trust Products in each status. From the account's cached listing, refreshed at most every cache_ttl.
# TYPE twilio_trusthub_trust_products gauge
twilio_trusthub_trust_products{account="main",status="draft"} 0
twilio_trusthub_trust_products{account="main",status="in-review"} 0
twilio_trusthub_trust_products{account="main",status="pending-review"} 0
twilio_trusthub_trust_products{account="main",status="twilio-approved"} 1
twilio_trusthub_trust_products{account="main",status="twilio-rejected"} 1
# HELP twilio_trusthub_trust_products_expiring Trust Products whose valid_until is after now and at most within_days days ahead. From the account's cached listing, refreshed at most every cache_ttl.
# TYPE twilio_trusthub_trust_products_expiring gauge
twilio_trusthub_trust_products_expiring{account="main",within_days="7"} 0
twilio_trusthub_trust_products_expiring{account="main",within_days="30"} 0
# HELP twilio_trusthub_trust_products_expired Trust Products whose valid_until is at or before now. From the account's cached listing, refreshed at most every cache_ttl.
# TYPE twilio_trusthub_trust_products_expired gauge
twilio_trusthub_trust_products_expired{account="main"} 0
# HELP twilio_trusthub_trust_product_errors Trust Products whose errors list contains the code; a Trust Product counts once per code. From the account's cached listing, refreshed at most every cache_ttl.
# TYPE twilio_trusthub_trust_product_errors gauge
twilio_trusthub_trust_product_errors{account="main",code="22217"} 1
twilio_trusthub_trust_product_errors{account="main",code="30701"} 1
# HELP twilio_trusthub_up 1 if the last completed listing of every watched resource of the account succeeded, else 0 (also before the first one completes).
# TYPE twilio_trusthub_up gauge
twilio_trusthub_up{account="broken"} 0
twilio_trusthub_up{account="main"} 1
# HELP twilio_trusthub_resource_up 1 if the account's last completed listing of the resource succeeded, else 0 (also before the first one completes).
# TYPE twilio_trusthub_resource_up gauge
twilio_trusthub_resource_up{account="broken",resource="customer_profiles"} 0
twilio_trusthub_resource_up{account="broken",resource="trust_products"} 0
twilio_trusthub_resource_up{account="main",resource="customer_profiles"} 1
twilio_trusthub_resource_up{account="main",resource="trust_products"} 1
# HELP twilio_trusthub_last_success_timestamp_seconds When the account's last successful listing of the resource completed, as Unix time.
# TYPE twilio_trusthub_last_success_timestamp_seconds gauge
twilio_trusthub_last_success_timestamp_seconds{account="main",resource="customer_profiles"} 1.7957808e+09
twilio_trusthub_last_success_timestamp_seconds{account="main",resource="trust_products"} 1.7957808e+09
# HELP twilio_trusthub_api_requests_total HTTP requests to Twilio listing the resource that got an answer, by status code.
# TYPE twilio_trusthub_api_requests_total counter
twilio_trusthub_api_requests_total{account="broken",code="401",resource="customer_profiles"} 1
twilio_trusthub_api_requests_total{account="broken",code="401",resource="trust_products"} 1
twilio_trusthub_api_requests_total{account="main",code="200",resource="customer_profiles"} 1
twilio_trusthub_api_requests_total{account="main",code="200",resource="trust_products"} 1
`

const wantPerProfile = `
# HELP twilio_trusthub_customer_profile_info Always 1: one series per Customer-Profile, naming it. From the account's cached listing, refreshed at most every cache_ttl.
# TYPE twilio_trusthub_customer_profile_info gauge
twilio_trusthub_customer_profile_info{account="main",friendly_name="Acme Dental",policy_sid="RN0123456789abcdef0123456789abcdef",sid="BU01"} 1
twilio_trusthub_customer_profile_info{account="main",friendly_name="Blue Bakery",policy_sid="RN0123456789abcdef0123456789abcdef",sid="BU02"} 1
twilio_trusthub_customer_profile_info{account="main",friendly_name="",policy_sid="RN0123456789abcdef0123456789abcdef",sid="BU03"} 1
twilio_trusthub_customer_profile_info{account="main",friendly_name="Quote \"q\"",policy_sid="",sid="BU04"} 1
twilio_trusthub_customer_profile_info{account="main",friendly_name="New Status Ltd",policy_sid="",sid="BU05"} 1
# HELP twilio_trusthub_customer_profile_valid_until_timestamp_seconds The Customer-Profile's valid_until as Unix time; absent when null. From the account's cached listing, refreshed at most every cache_ttl.
# TYPE twilio_trusthub_customer_profile_valid_until_timestamp_seconds gauge
twilio_trusthub_customer_profile_valid_until_timestamp_seconds{account="main",sid="BU01"} 1.79604e+09
twilio_trusthub_customer_profile_valid_until_timestamp_seconds{account="main",sid="BU03"} 1.7956944e+09
twilio_trusthub_customer_profile_valid_until_timestamp_seconds{account="main",sid="BU05"} 1.7975088e+09
# HELP twilio_trusthub_customer_profile_error_info Always 1: one series per code in the Customer-Profile's errors list. From the account's cached listing, refreshed at most every cache_ttl.
# TYPE twilio_trusthub_customer_profile_error_info gauge
twilio_trusthub_customer_profile_error_info{account="main",code="22215",sid="BU02"} 1
twilio_trusthub_customer_profile_error_info{account="main",code="22216",sid="BU02"} 1
# HELP twilio_trusthub_customer_profile_updated_timestamp_seconds The Customer-Profile's date_updated as Unix time; absent when null. From the account's cached listing, refreshed at most every cache_ttl.
# TYPE twilio_trusthub_customer_profile_updated_timestamp_seconds gauge
twilio_trusthub_customer_profile_updated_timestamp_seconds{account="main",sid="BU01"} 1.7949168e+09
twilio_trusthub_customer_profile_updated_timestamp_seconds{account="main",sid="BU02"} 1.7956944e+09
`

// The status series of one profile of a documented status, and of one of a
// status Twilio may add later.
const wantStatus = `
# HELP twilio_trusthub_customer_profile_status 1 for the Customer-Profile's status, 0 for each other documented status. From the account's cached listing, refreshed at most every cache_ttl.
# TYPE twilio_trusthub_customer_profile_status gauge
twilio_trusthub_customer_profile_status{account="main",sid="BU02",status="draft"} 0
twilio_trusthub_customer_profile_status{account="main",sid="BU02",status="in-review"} 0
twilio_trusthub_customer_profile_status{account="main",sid="BU02",status="pending-review"} 0
twilio_trusthub_customer_profile_status{account="main",sid="BU02",status="twilio-approved"} 0
twilio_trusthub_customer_profile_status{account="main",sid="BU02",status="twilio-rejected"} 1
twilio_trusthub_customer_profile_status{account="main",sid="BU05",status="draft"} 0
twilio_trusthub_customer_profile_status{account="main",sid="BU05",status="in-review"} 0
twilio_trusthub_customer_profile_status{account="main",sid="BU05",status="pending-review"} 0
twilio_trusthub_customer_profile_status{account="main",sid="BU05",status="twilio-approved"} 0
twilio_trusthub_customer_profile_status{account="main",sid="BU05",status="twilio-rejected"} 0
twilio_trusthub_customer_profile_status{account="main",sid="BU05",status="twilio-suspended"} 1
`

const wantTrustProducts = `
# HELP twilio_trusthub_trust_product_info Always 1: one series per Trust Product, naming it. From the account's cached listing, refreshed at most every cache_ttl.
# TYPE twilio_trusthub_trust_product_info gauge
twilio_trusthub_trust_product_info{account="main",friendly_name="SHAKEN/STIR Acme",policy_sid="RN0123456789abcdef0123456789abcdef",sid="BU11"} 1
twilio_trusthub_trust_product_info{account="main",friendly_name="CNAM Blue",policy_sid="RN0123456789abcdef0123456789abcdef",sid="BU12"} 1
# HELP twilio_trusthub_trust_product_status 1 for the Trust Product's status, 0 for each other documented status. From the account's cached listing, refreshed at most every cache_ttl.
# TYPE twilio_trusthub_trust_product_status gauge
twilio_trusthub_trust_product_status{account="main",sid="BU11",status="draft"} 0
twilio_trusthub_trust_product_status{account="main",sid="BU11",status="in-review"} 0
twilio_trusthub_trust_product_status{account="main",sid="BU11",status="pending-review"} 0
twilio_trusthub_trust_product_status{account="main",sid="BU11",status="twilio-approved"} 1
twilio_trusthub_trust_product_status{account="main",sid="BU11",status="twilio-rejected"} 0
twilio_trusthub_trust_product_status{account="main",sid="BU12",status="draft"} 0
twilio_trusthub_trust_product_status{account="main",sid="BU12",status="in-review"} 0
twilio_trusthub_trust_product_status{account="main",sid="BU12",status="pending-review"} 0
twilio_trusthub_trust_product_status{account="main",sid="BU12",status="twilio-approved"} 0
twilio_trusthub_trust_product_status{account="main",sid="BU12",status="twilio-rejected"} 1
# HELP twilio_trusthub_trust_product_valid_until_timestamp_seconds The Trust Product's valid_until as Unix time; absent when null. From the account's cached listing, refreshed at most every cache_ttl.
# TYPE twilio_trusthub_trust_product_valid_until_timestamp_seconds gauge
twilio_trusthub_trust_product_valid_until_timestamp_seconds{account="main",sid="BU11"} 1.7992368e+09
# HELP twilio_trusthub_trust_product_error_info Always 1: one series per code in the Trust Product's errors list. From the account's cached listing, refreshed at most every cache_ttl.
# TYPE twilio_trusthub_trust_product_error_info gauge
twilio_trusthub_trust_product_error_info{account="main",code="22217",sid="BU12"} 1
twilio_trusthub_trust_product_error_info{account="main",code="30701",sid="BU12"} 1
`

const wantErrors = `
# HELP twilio_trusthub_listing_errors_total Failed listings of the account's resource, by reason: auth, rate_limited, server, client, network, timeout, decode, paging, other.
# TYPE twilio_trusthub_listing_errors_total counter
twilio_trusthub_listing_errors_total{account="broken",reason="auth",resource="customer_profiles"} 1
twilio_trusthub_listing_errors_total{account="broken",reason="auth",resource="trust_products"} 1
twilio_trusthub_listing_errors_total{account="broken",reason="client",resource="customer_profiles"} 0
twilio_trusthub_listing_errors_total{account="broken",reason="client",resource="trust_products"} 0
twilio_trusthub_listing_errors_total{account="broken",reason="decode",resource="customer_profiles"} 0
twilio_trusthub_listing_errors_total{account="broken",reason="decode",resource="trust_products"} 0
twilio_trusthub_listing_errors_total{account="broken",reason="network",resource="customer_profiles"} 0
twilio_trusthub_listing_errors_total{account="broken",reason="network",resource="trust_products"} 0
twilio_trusthub_listing_errors_total{account="broken",reason="other",resource="customer_profiles"} 0
twilio_trusthub_listing_errors_total{account="broken",reason="other",resource="trust_products"} 0
twilio_trusthub_listing_errors_total{account="broken",reason="paging",resource="customer_profiles"} 0
twilio_trusthub_listing_errors_total{account="broken",reason="paging",resource="trust_products"} 0
twilio_trusthub_listing_errors_total{account="broken",reason="rate_limited",resource="customer_profiles"} 0
twilio_trusthub_listing_errors_total{account="broken",reason="rate_limited",resource="trust_products"} 0
twilio_trusthub_listing_errors_total{account="broken",reason="server",resource="customer_profiles"} 0
twilio_trusthub_listing_errors_total{account="broken",reason="server",resource="trust_products"} 0
twilio_trusthub_listing_errors_total{account="broken",reason="timeout",resource="customer_profiles"} 0
twilio_trusthub_listing_errors_total{account="broken",reason="timeout",resource="trust_products"} 0
twilio_trusthub_listing_errors_total{account="main",reason="auth",resource="customer_profiles"} 0
twilio_trusthub_listing_errors_total{account="main",reason="auth",resource="trust_products"} 0
twilio_trusthub_listing_errors_total{account="main",reason="client",resource="customer_profiles"} 0
twilio_trusthub_listing_errors_total{account="main",reason="client",resource="trust_products"} 0
twilio_trusthub_listing_errors_total{account="main",reason="decode",resource="customer_profiles"} 0
twilio_trusthub_listing_errors_total{account="main",reason="decode",resource="trust_products"} 0
twilio_trusthub_listing_errors_total{account="main",reason="network",resource="customer_profiles"} 0
twilio_trusthub_listing_errors_total{account="main",reason="network",resource="trust_products"} 0
twilio_trusthub_listing_errors_total{account="main",reason="other",resource="customer_profiles"} 0
twilio_trusthub_listing_errors_total{account="main",reason="other",resource="trust_products"} 0
twilio_trusthub_listing_errors_total{account="main",reason="paging",resource="customer_profiles"} 0
twilio_trusthub_listing_errors_total{account="main",reason="paging",resource="trust_products"} 0
twilio_trusthub_listing_errors_total{account="main",reason="rate_limited",resource="customer_profiles"} 0
twilio_trusthub_listing_errors_total{account="main",reason="rate_limited",resource="trust_products"} 0
twilio_trusthub_listing_errors_total{account="main",reason="server",resource="customer_profiles"} 0
twilio_trusthub_listing_errors_total{account="main",reason="server",resource="trust_products"} 0
twilio_trusthub_listing_errors_total{account="main",reason="timeout",resource="customer_profiles"} 0
twilio_trusthub_listing_errors_total{account="main",reason="timeout",resource="trust_products"} 0
`

// gatherer gathers one scrape as Prometheus would see it: the aggregates
// through client_golang, the per-profile series parsed back from the text
// WriteProfiles writes. With sids, per-profile series of other sids are left out.
func gatherer(t *testing.T, e *collector.Exporter, sids ...string) prometheus.Gatherer {
	t.Helper()
	s := e.Scrape(context.Background())
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(s)
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		mfs, err := reg.Gather()
		if err != nil {
			return nil, err
		}
		var text bytes.Buffer
		if err := s.WriteProfiles(&text); err != nil {
			return nil, err
		}
		parser := expfmt.NewTextParser(model.LegacyValidation)
		profiles, err := parser.TextToMetricFamilies(&text)
		if err != nil {
			return nil, fmt.Errorf("the per-profile text does not parse: %w\n%s", err, text.String())
		}
		for _, mf := range profiles {
			if len(sids) > 0 {
				kept := mf.Metric[:0]
				for _, m := range mf.Metric {
					if slices.Contains(sids, labelValue(m, "sid")) {
						kept = append(kept, m)
					}
				}
				mf.Metric = kept
			}
			// As a registry would: series in label-value order.
			sort.SliceStable(mf.Metric, func(i, j int) bool {
				a, b := mf.Metric[i].Label, mf.Metric[j].Label
				for k := range min(len(a), len(b)) {
					if a[k].GetValue() != b[k].GetValue() {
						return a[k].GetValue() < b[k].GetValue()
					}
				}
				return len(a) < len(b)
			})
			mfs = append(mfs, mf)
		}
		sort.Slice(mfs, func(i, j int) bool { return mfs[i].GetName() < mfs[j].GetName() })
		return mfs, nil
	})
}

func TestCollect(t *testing.T) {
	e := newExporter(t, true)
	g := gatherer(t, e)
	if err := testutil.GatherAndCompare(g, strings.NewReader(wantAggregates),
		"twilio_trusthub_customer_profiles", "twilio_trusthub_customer_profiles_expiring", "twilio_trusthub_customer_profiles_expired",
		"twilio_trusthub_customer_profile_errors", "twilio_trusthub_trust_products", "twilio_trusthub_trust_products_expiring",
		"twilio_trusthub_trust_products_expired", "twilio_trusthub_trust_product_errors", "twilio_trusthub_up",
		"twilio_trusthub_resource_up", "twilio_trusthub_last_success_timestamp_seconds", "twilio_trusthub_api_requests_total"); err != nil {
		t.Error(err)
	}
	if err := testutil.GatherAndCompare(g, strings.NewReader(wantPerProfile),
		"twilio_trusthub_customer_profile_info", "twilio_trusthub_customer_profile_valid_until_timestamp_seconds",
		"twilio_trusthub_customer_profile_updated_timestamp_seconds", "twilio_trusthub_customer_profile_error_info"); err != nil {
		t.Error(err)
	}
	// Five profiles with a sid, five documented statuses each, one extra
	// series for the undocumented status.
	if n, err := testutil.GatherAndCount(g, "twilio_trusthub_customer_profile_status"); err != nil || n != 26 {
		t.Errorf("%d status series (%v), want 26", n, err)
	}
	if err := testutil.GatherAndCompare(gatherer(t, e, "BU02", "BU05"), strings.NewReader(wantStatus),
		"twilio_trusthub_customer_profile_status"); err != nil {
		t.Error(err)
	}
	if err := testutil.GatherAndCompare(g, strings.NewReader(wantErrors), "twilio_trusthub_listing_errors_total"); err != nil {
		t.Error(err)
	}
	// Duration is measured, so only its presence is checked.
	if n, _ := testutil.GatherAndCount(g, "twilio_trusthub_listing_duration_seconds"); n != 4 {
		t.Errorf("%d listing duration series, want one per account and resource", n)
	}
	if err := testutil.GatherAndCompare(g, strings.NewReader(wantTrustProducts),
		"twilio_trusthub_trust_product_info", "twilio_trusthub_trust_product_status", "twilio_trusthub_trust_product_valid_until_timestamp_seconds",
		"twilio_trusthub_trust_product_updated_timestamp_seconds", "twilio_trusthub_trust_product_error_info"); err != nil {
		t.Error(err)
	}
}

func TestCollectWithoutPerProfile(t *testing.T) {
	e := newExporter(t, false)
	g := gatherer(t, e)
	for _, name := range []string{"twilio_trusthub_customer_profile_info", "twilio_trusthub_customer_profile_status", "twilio_trusthub_customer_profile_valid_until_timestamp_seconds", "twilio_trusthub_customer_profile_updated_timestamp_seconds", "twilio_trusthub_customer_profile_error_info"} {
		if n, _ := testutil.GatherAndCount(g, name); n != 0 {
			t.Errorf("%s: %d series, want none without per_profile_metrics", name, n)
		}
	}
	if err := testutil.GatherAndCompare(g, strings.NewReader(wantAggregates),
		"twilio_trusthub_customer_profiles", "twilio_trusthub_customer_profiles_expiring", "twilio_trusthub_customer_profiles_expired",
		"twilio_trusthub_customer_profile_errors"); err != nil {
		t.Error(err)
	}
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
	for _, bad := range []string{"ops@example.com", "example.com/cb", "main-token", "not-the-token"} {
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
// families are absent, the other kind is served in full, and up says that
// not everything could be listed.
func TestOneKindFailingLeavesTheOtherUp(t *testing.T) {
	sim := simulator.New()
	sim.AddAccount(sidMain, "main-token", fixture())
	sim.SetObjects(sidMain, kinds.TrustProducts, trustProducts())
	sim.SetFault(simulator.Fault{Path: kinds.TrustProducts.ListPath, Status: 403, Code: 20003})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	spec := config.Default()
	spec.APIURL = srv.URL
	spec.Accounts = []config.AccountSpec{{Name: "main", AccountSID: sidMain, AuthToken: promconfig.Secret("main-token")}}
	cfg, err := config.New(spec)
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(cfg, Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	g := gatherer(t, e)
	const want = `
# HELP twilio_trusthub_up 1 if the last completed listing of every watched resource of the account succeeded, else 0 (also before the first one completes).
# TYPE twilio_trusthub_up gauge
twilio_trusthub_up{account="main"} 0
# HELP twilio_trusthub_resource_up 1 if the account's last completed listing of the resource succeeded, else 0 (also before the first one completes).
# TYPE twilio_trusthub_resource_up gauge
twilio_trusthub_resource_up{account="main",resource="customer_profiles"} 1
twilio_trusthub_resource_up{account="main",resource="trust_products"} 0
# HELP twilio_trusthub_api_requests_total HTTP requests to Twilio listing the resource that got an answer, by status code.
# TYPE twilio_trusthub_api_requests_total counter
twilio_trusthub_api_requests_total{account="main",code="200",resource="customer_profiles"} 1
twilio_trusthub_api_requests_total{account="main",code="403",resource="trust_products"} 1
`
	if err := testutil.GatherAndCompare(g, strings.NewReader(want), "twilio_trusthub_up", "twilio_trusthub_resource_up", "twilio_trusthub_api_requests_total"); err != nil {
		t.Error(err)
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
