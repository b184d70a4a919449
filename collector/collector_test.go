package collector

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	promconfig "github.com/prometheus/common/config"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/config"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/simulator"
)

const (
	sidMain   = "AC0123456789abcdef0123456789abcdef"
	sidBroken = "ACfedcba9876543210fedcba9876543210"
	policy    = "RN0123456789abcdef0123456789abcdef"
)

var now = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func fixture() []simulator.Profile {
	p := simulator.Ptr[string]
	at := func(d time.Duration) *time.Time { return simulator.Ptr(now.Add(d)) }
	day := 24 * time.Hour
	return []simulator.Profile{
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

	cfg := config.Default()
	cfg.APIURL = srv.URL
	cfg.PerProfileMetrics = perProfile
	cfg.Accounts = []config.Account{
		{Name: "main", AccountSID: sidMain, AuthToken: promconfig.Secret("main-token")},
		{Name: "broken", AccountSID: sidBroken, AuthToken: promconfig.Secret("not-the-token")},
	}
	if err := cfg.Validate(); err != nil {
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

func bound(e *Exporter) prometheus.Collector { return e.ForScrape(context.Background()) }

func TestCollect(t *testing.T) {
	e := newExporter(t, true)
	c := bound(e)
	if err := testutil.CollectAndCompare(c, strings.NewReader(wantAggregates),
		"twilio_trusthub_customer_profiles", "twilio_trusthub_customer_profiles_expiring", "twilio_trusthub_customer_profiles_expired",
		"twilio_trusthub_customer_profile_errors", "twilio_trusthub_up", "twilio_trusthub_last_success_timestamp_seconds",
		"twilio_trusthub_api_requests_total"); err != nil {
		t.Error(err)
	}
	if err := testutil.CollectAndCompare(c, strings.NewReader(wantPerProfile),
		"twilio_trusthub_customer_profile_info", "twilio_trusthub_customer_profile_valid_until_timestamp_seconds",
		"twilio_trusthub_customer_profile_updated_timestamp_seconds", "twilio_trusthub_customer_profile_error_info"); err != nil {
		t.Error(err)
	}
	// Five profiles with a sid, five documented statuses each, one extra
	// series for the undocumented status.
	if n := testutil.CollectAndCount(c, "twilio_trusthub_customer_profile_status"); n != 26 {
		t.Errorf("%d status series, want 26", n)
	}
	if err := testutil.CollectAndCompare(filterSIDs{c, map[string]bool{"BU02": true, "BU05": true}}, strings.NewReader(wantStatus),
		"twilio_trusthub_customer_profile_status"); err != nil {
		t.Error(err)
	}
	if err := testutil.CollectAndCompare(c, strings.NewReader(wantErrors), "twilio_trusthub_listing_errors_total"); err != nil {
		t.Error(err)
	}
	// Duration is measured, so only its presence is checked.
	if n := testutil.CollectAndCount(c, "twilio_trusthub_listing_duration_seconds"); n != 2 {
		t.Errorf("%d listing duration series, want one per account", n)
	}
}

func TestCollectWithoutPerProfile(t *testing.T) {
	e := newExporter(t, false)
	c := bound(e)
	for _, name := range []string{
		"twilio_trusthub_customer_profile_info", "twilio_trusthub_customer_profile_status",
		"twilio_trusthub_customer_profile_valid_until_timestamp_seconds", "twilio_trusthub_customer_profile_updated_timestamp_seconds",
		"twilio_trusthub_customer_profile_error_info",
	} {
		if n := testutil.CollectAndCount(c, name); n != 0 {
			t.Errorf("%s: %d series, want none without per_profile_metrics", name, n)
		}
	}
	if err := testutil.CollectAndCompare(c, strings.NewReader(wantAggregates),
		"twilio_trusthub_customer_profiles", "twilio_trusthub_customer_profiles_expiring", "twilio_trusthub_customer_profiles_expired",
		"twilio_trusthub_customer_profile_errors"); err != nil {
		t.Error(err)
	}
}

func TestLint(t *testing.T) {
	problems, err := testutil.CollectAndLint(bound(newExporter(t, true)))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
}

// Nothing personal or secret is exported.
func TestNoPersonalDataOrSecrets(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(bound(newExporter(t, true)))
	out, err := testutil.GatherAndCount(reg)
	if err != nil || out == 0 {
		t.Fatalf("gathered %d, %v", out, err)
	}
	mfs, _ := reg.Gather()
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

// filterSIDs passes on only the metrics of the given sids, or without a sid.
type filterSIDs struct {
	prometheus.Collector
	sids map[string]bool
}

func (f filterSIDs) Collect(ch chan<- prometheus.Metric) {
	all := make(chan prometheus.Metric)
	go func() {
		f.Collector.Collect(all)
		close(all)
	}()
	for m := range all {
		if sid := labelValue(m, "sid"); sid == "" || f.sids[sid] {
			ch <- m
		}
	}
}

func labelValue(m prometheus.Metric, name string) string {
	var pb dto.Metric
	if err := m.Write(&pb); err != nil {
		return ""
	}
	for _, l := range pb.Label {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
