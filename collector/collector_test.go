package collector

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

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/config"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/simulator"
)

const (
	sidMain   = "AC0123456789abcdef0123456789abcdef"
	sidBroken = "ACfedcba9876543210fedcba9876543210"
	policy    = "RN0123456789abcdef0123456789abcdef"
)

var now = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func fixture() []simulator.ServedProfile {
	p := simulator.Ptr[string]
	at := func(d time.Duration) *time.Time { return simulator.Ptr(now.Add(d)) }
	day := 24 * time.Hour
	return []simulator.ServedProfile{
		{SID: p("BU01"), Status: p("twilio-approved"), FriendlyName: p("Acme Dental"), PolicySID: p(policy), ValidUntil: at(3 * day), DateUpdated: at(-10 * day)},
		{SID: p("BU02"), Status: p("twilio-rejected"), FriendlyName: p("Blue Bakery"), PolicySID: p(policy), DateUpdated: at(-day),
			Errors: []simulator.ErrorCode{{Code: 22215}, {Code: 22216}, {Code: 22215}}},
		{SID: p("BU03"), Status: p("twilio-approved"), PolicySID: p(policy), ValidUntil: at(-day)},
		{SID: p("BU04"), Status: p("in-review"), FriendlyName: p(`Quote "q"`), Email: p("ops@example.com"), StatusCallback: p("https://example.com/cb")},
		{SID: p("BU05"), Status: p("twilio-suspended"), FriendlyName: p("New Status Ltd"), ValidUntil: at(20 * day)},
		{}, // every field null
	}
}

func newExporter(t *testing.T, perProfile bool) *Exporter {
	t.Helper()
	sim := simulator.New()
	sim.AddAccount(sidMain, "main-token", fixture())
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
# HELP twilio_trusthub_up 1 if the account's last completed listing succeeded, else 0 (also before the first one completes).
# TYPE twilio_trusthub_up gauge
twilio_trusthub_up{account="broken"} 0
twilio_trusthub_up{account="main"} 1
# HELP twilio_trusthub_last_success_timestamp_seconds When the account's last successful listing completed, as Unix time.
# TYPE twilio_trusthub_last_success_timestamp_seconds gauge
twilio_trusthub_last_success_timestamp_seconds{account="main"} 1.7957808e+09
# HELP twilio_trusthub_api_requests_total HTTP requests to TrustHub that got an answer, by status code.
# TYPE twilio_trusthub_api_requests_total counter
twilio_trusthub_api_requests_total{account="broken",code="401"} 1
twilio_trusthub_api_requests_total{account="main",code="200"} 1
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

const wantErrors = `
# HELP twilio_trusthub_listing_errors_total Failed listings of the account, by reason: auth, rate_limited, server, client, network, timeout, decode, paging, other.
# TYPE twilio_trusthub_listing_errors_total counter
twilio_trusthub_listing_errors_total{account="broken",reason="auth"} 1
twilio_trusthub_listing_errors_total{account="broken",reason="client"} 0
twilio_trusthub_listing_errors_total{account="broken",reason="decode"} 0
twilio_trusthub_listing_errors_total{account="broken",reason="network"} 0
twilio_trusthub_listing_errors_total{account="broken",reason="other"} 0
twilio_trusthub_listing_errors_total{account="broken",reason="paging"} 0
twilio_trusthub_listing_errors_total{account="broken",reason="rate_limited"} 0
twilio_trusthub_listing_errors_total{account="broken",reason="server"} 0
twilio_trusthub_listing_errors_total{account="broken",reason="timeout"} 0
twilio_trusthub_listing_errors_total{account="main",reason="auth"} 0
twilio_trusthub_listing_errors_total{account="main",reason="client"} 0
twilio_trusthub_listing_errors_total{account="main",reason="decode"} 0
twilio_trusthub_listing_errors_total{account="main",reason="network"} 0
twilio_trusthub_listing_errors_total{account="main",reason="other"} 0
twilio_trusthub_listing_errors_total{account="main",reason="paging"} 0
twilio_trusthub_listing_errors_total{account="main",reason="rate_limited"} 0
twilio_trusthub_listing_errors_total{account="main",reason="server"} 0
twilio_trusthub_listing_errors_total{account="main",reason="timeout"} 0
`

// gatherer gathers one scrape as Prometheus would see it: the aggregates
// through client_golang, the per-profile series parsed back from the text
// WriteProfiles writes. With sids, per-profile series of other sids are left out.
func gatherer(t *testing.T, e *Exporter, sids ...string) prometheus.Gatherer {
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
		"twilio_trusthub_customer_profile_errors", "twilio_trusthub_up", "twilio_trusthub_last_success_timestamp_seconds",
		"twilio_trusthub_api_requests_total"); err != nil {
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
	if n, _ := testutil.GatherAndCount(g, "twilio_trusthub_listing_duration_seconds"); n != 2 {
		t.Errorf("%d listing duration series, want one per account", n)
	}
}

func TestCollectWithoutPerProfile(t *testing.T) {
	e := newExporter(t, false)
	g := gatherer(t, e)
	for _, name := range []string{InfoName, StatusName, ValidUntilName, UpdatedName, ErrorInfoName} {
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
