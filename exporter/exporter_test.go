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
				Errors: []simulator.ErrorCode{simulator.MessagingError(30701), {Raw: []byte(`"soon"`)}}},
		},
		Services: []simulator.ServedService{{SID: p("MG01")}, {SID: p("MG02")}},
		Campaigns: []simulator.ServedCampaign{
			{SID: p("QE01"), MessagingServiceSID: p("MG01"), BrandRegistrationSID: p("BN01"), CampaignID: p("CABC"), USAppToPersonUsecase: p("MARKETING"),
				CampaignStatus: p("VERIFIED"), DateUpdated: simulator.Ptr(now.Add(-48 * time.Hour))},
			{SID: p("QE02"), MessagingServiceSID: p("MG01"), BrandRegistrationSID: p("BN02"), USAppToPersonUsecase: p("2FA"),
				CampaignStatus: p("FAILED"), Errors: []simulator.ErrorCode{simulator.MessagingError(30897)}},
		},
		Verifications: []simulator.ServedVerification{
			{SID: p("HH01"), Status: p("TWILIO_REJECTED"), ErrorCode: []byte(`30445`), EditExpiration: simulator.Ptr(now.Add(5 * 24 * time.Hour)),
				TollfreePhoneNumber: p("+18335550100"), BusinessName: p("Acme Dental"), TrustProductSID: p("BU11"),
				BusinessContactFirstName: p("Firstperson"), BusinessContactLastName: p("Lastperson"), BusinessContactEmail: p("contact@example.com"),
				BusinessContactPhone: p("+15005550006")},
			{SID: p("HH02"), Status: p("TWILIO_APPROVED"), DateUpdated: simulator.Ptr(now.Add(-24 * time.Hour))},
		},
	}
}

func newExporter(t *testing.T, perProfile bool) *collector.Exporter {
	t.Helper()
	sim := simulator.New()
	sim.AddAccount(sidMain, "main-token", fixture())
	sim.SetObjects(sidMain, kinds.TrustProducts, trustProducts())
	sim.SetMessaging(sidMain, messaging())
	sim.AddAccount(sidBroken, "other-token", nil)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)

	spec := config.Default()
	spec.APIURL = srv.URL
	spec.MessagingAPIURL = srv.URL
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
twilio_trusthub_resource_up{account="broken",resource="a2p_campaigns"} 0
twilio_trusthub_resource_up{account="broken",resource="brand_registrations"} 0
twilio_trusthub_resource_up{account="broken",resource="customer_profiles"} 0
twilio_trusthub_resource_up{account="broken",resource="tollfree_verifications"} 0
twilio_trusthub_resource_up{account="broken",resource="trust_products"} 0
twilio_trusthub_resource_up{account="main",resource="a2p_campaigns"} 1
twilio_trusthub_resource_up{account="main",resource="brand_registrations"} 1
twilio_trusthub_resource_up{account="main",resource="customer_profiles"} 1
twilio_trusthub_resource_up{account="main",resource="tollfree_verifications"} 1
twilio_trusthub_resource_up{account="main",resource="trust_products"} 1
# HELP twilio_trusthub_last_success_timestamp_seconds When the account's last successful listing of the resource completed, as Unix time.
# TYPE twilio_trusthub_last_success_timestamp_seconds gauge
twilio_trusthub_last_success_timestamp_seconds{account="main",resource="a2p_campaigns"} 1.7957808e+09
twilio_trusthub_last_success_timestamp_seconds{account="main",resource="brand_registrations"} 1.7957808e+09
twilio_trusthub_last_success_timestamp_seconds{account="main",resource="customer_profiles"} 1.7957808e+09
twilio_trusthub_last_success_timestamp_seconds{account="main",resource="tollfree_verifications"} 1.7957808e+09
twilio_trusthub_last_success_timestamp_seconds{account="main",resource="trust_products"} 1.7957808e+09
# HELP twilio_trusthub_api_requests_total HTTP requests to Twilio listing the resource that got an answer, by status code.
# TYPE twilio_trusthub_api_requests_total counter
twilio_trusthub_api_requests_total{account="broken",code="401",resource="a2p_campaigns"} 1
twilio_trusthub_api_requests_total{account="broken",code="401",resource="brand_registrations"} 1
twilio_trusthub_api_requests_total{account="broken",code="401",resource="customer_profiles"} 1
twilio_trusthub_api_requests_total{account="broken",code="401",resource="tollfree_verifications"} 1
twilio_trusthub_api_requests_total{account="broken",code="401",resource="trust_products"} 1
twilio_trusthub_api_requests_total{account="main",code="200",resource="a2p_campaigns"} 3
twilio_trusthub_api_requests_total{account="main",code="200",resource="brand_registrations"} 1
twilio_trusthub_api_requests_total{account="main",code="200",resource="customer_profiles"} 1
twilio_trusthub_api_requests_total{account="main",code="200",resource="tollfree_verifications"} 1
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

// The Messaging kinds' families, every one of the table.
const wantMessaging = `
# HELP twilio_messaging_a2p_campaign_error_info Always 1: one series per code in the A2P campaign's errors list. From the account's cached listing, refreshed at most every cache_ttl.
# TYPE twilio_messaging_a2p_campaign_error_info gauge
twilio_messaging_a2p_campaign_error_info{account="main",code="30897",sid="QE02"} 1
# HELP twilio_messaging_a2p_campaign_errors A2P campaigns whose errors list contains the code; a campaign counts once per code. From the account's cached listing, refreshed at most every cache_ttl.
# TYPE twilio_messaging_a2p_campaign_errors gauge
twilio_messaging_a2p_campaign_errors{account="main",code="30897"} 1
# HELP twilio_messaging_a2p_campaign_info Always 1: one series per A2P campaign, naming it. From the account's cached listing, refreshed at most every cache_ttl.
# TYPE twilio_messaging_a2p_campaign_info gauge
twilio_messaging_a2p_campaign_info{account="main",brand_registration_sid="BN01",campaign_id="CABC",messaging_service_sid="MG01",sid="QE01",usecase="MARKETING"} 1
twilio_messaging_a2p_campaign_info{account="main",brand_registration_sid="BN02",campaign_id="",messaging_service_sid="MG01",sid="QE02",usecase="2FA"} 1
# HELP twilio_messaging_a2p_campaign_status 1 for the A2P campaign's status, 0 for each other documented status. From the account's cached listing, refreshed at most every cache_ttl.
# TYPE twilio_messaging_a2p_campaign_status gauge
twilio_messaging_a2p_campaign_status{account="main",sid="QE01",status="FAILED"} 0
twilio_messaging_a2p_campaign_status{account="main",sid="QE01",status="IN_PROGRESS"} 0
twilio_messaging_a2p_campaign_status{account="main",sid="QE01",status="VERIFIED"} 1
twilio_messaging_a2p_campaign_status{account="main",sid="QE02",status="FAILED"} 1
twilio_messaging_a2p_campaign_status{account="main",sid="QE02",status="IN_PROGRESS"} 0
twilio_messaging_a2p_campaign_status{account="main",sid="QE02",status="VERIFIED"} 0
# HELP twilio_messaging_a2p_campaign_updated_timestamp_seconds The A2P campaign's date_updated as Unix time; absent when null. From the account's cached listing, refreshed at most every cache_ttl.
# TYPE twilio_messaging_a2p_campaign_updated_timestamp_seconds gauge
twilio_messaging_a2p_campaign_updated_timestamp_seconds{account="main",sid="QE01"} 1.795608e+09
# HELP twilio_messaging_a2p_campaigns A2P campaigns in each status. From the account's cached listing, refreshed at most every cache_ttl.
# TYPE twilio_messaging_a2p_campaigns gauge
twilio_messaging_a2p_campaigns{account="main",status="FAILED"} 1
twilio_messaging_a2p_campaigns{account="main",status="IN_PROGRESS"} 0
twilio_messaging_a2p_campaigns{account="main",status="VERIFIED"} 1
# HELP twilio_messaging_brand_registration_error_info Always 1: one series per code in the A2P brand registration's errors list. From the account's cached listing, refreshed at most every cache_ttl.
# TYPE twilio_messaging_brand_registration_error_info gauge
twilio_messaging_brand_registration_error_info{account="main",code="30701",sid="BN02"} 1
twilio_messaging_brand_registration_error_info{account="main",code="30990",sid="BN01"} 1
# HELP twilio_messaging_brand_registration_errors A2P brand registrations whose errors list contains the code; a brand counts once per code. From the account's cached listing, refreshed at most every cache_ttl.
# TYPE twilio_messaging_brand_registration_errors gauge
twilio_messaging_brand_registration_errors{account="main",code="30701"} 1
twilio_messaging_brand_registration_errors{account="main",code="30990"} 1
# HELP twilio_messaging_brand_registration_info Always 1: one series per A2P brand registration, naming it. From the account's cached listing, refreshed at most every cache_ttl.
# TYPE twilio_messaging_brand_registration_info gauge
twilio_messaging_brand_registration_info{a2p_profile_bundle_sid="BU11",account="main",brand_type="STANDARD",identity_status="VERIFIED",sid="BN01",tcr_id="BSUSP01"} 1
twilio_messaging_brand_registration_info{a2p_profile_bundle_sid="BU12",account="main",brand_type="SOLE_PROPRIETOR",identity_status="UNVERIFIED",sid="BN02",tcr_id=""} 1
# HELP twilio_messaging_brand_registration_score The A2P brand registration's brand_score; absent when null. From the account's cached listing, refreshed at most every cache_ttl.
# TYPE twilio_messaging_brand_registration_score gauge
twilio_messaging_brand_registration_score{account="main",sid="BN01"} 42
# HELP twilio_messaging_brand_registration_status 1 for the A2P brand registration's status, 0 for each other documented status. From the account's cached listing, refreshed at most every cache_ttl.
# TYPE twilio_messaging_brand_registration_status gauge
twilio_messaging_brand_registration_status{account="main",sid="BN01",status="APPROVED"} 0
twilio_messaging_brand_registration_status{account="main",sid="BN01",status="DELETION_FAILED"} 0
twilio_messaging_brand_registration_status{account="main",sid="BN01",status="DELETION_PENDING"} 0
twilio_messaging_brand_registration_status{account="main",sid="BN01",status="FAILED"} 0
twilio_messaging_brand_registration_status{account="main",sid="BN01",status="IN_REVIEW"} 0
twilio_messaging_brand_registration_status{account="main",sid="BN01",status="PENDING"} 0
twilio_messaging_brand_registration_status{account="main",sid="BN01",status="SUSPENDED"} 1
twilio_messaging_brand_registration_status{account="main",sid="BN02",status="APPROVED"} 0
twilio_messaging_brand_registration_status{account="main",sid="BN02",status="DELETION_FAILED"} 0
twilio_messaging_brand_registration_status{account="main",sid="BN02",status="DELETION_PENDING"} 0
twilio_messaging_brand_registration_status{account="main",sid="BN02",status="FAILED"} 1
twilio_messaging_brand_registration_status{account="main",sid="BN02",status="IN_REVIEW"} 0
twilio_messaging_brand_registration_status{account="main",sid="BN02",status="PENDING"} 0
twilio_messaging_brand_registration_status{account="main",sid="BN02",status="SUSPENDED"} 0
# HELP twilio_messaging_brand_registration_updated_timestamp_seconds The A2P brand registration's date_updated as Unix time; absent when null. From the account's cached listing, refreshed at most every cache_ttl.
# TYPE twilio_messaging_brand_registration_updated_timestamp_seconds gauge
twilio_messaging_brand_registration_updated_timestamp_seconds{account="main",sid="BN01"} 1.7957772e+09
# HELP twilio_messaging_brand_registrations A2P brand registrations in each status. From the account's cached listing, refreshed at most every cache_ttl.
# TYPE twilio_messaging_brand_registrations gauge
twilio_messaging_brand_registrations{account="main",status="APPROVED"} 0
twilio_messaging_brand_registrations{account="main",status="DELETION_FAILED"} 0
twilio_messaging_brand_registrations{account="main",status="DELETION_PENDING"} 0
twilio_messaging_brand_registrations{account="main",status="FAILED"} 1
twilio_messaging_brand_registrations{account="main",status="IN_REVIEW"} 0
twilio_messaging_brand_registrations{account="main",status="PENDING"} 0
twilio_messaging_brand_registrations{account="main",status="SUSPENDED"} 1
# HELP twilio_messaging_tollfree_verification_edit_expiration_timestamp_seconds The toll-free verification's edit_expiration as Unix time; absent when null. From the account's cached listing, refreshed at most every cache_ttl.
# TYPE twilio_messaging_tollfree_verification_edit_expiration_timestamp_seconds gauge
twilio_messaging_tollfree_verification_edit_expiration_timestamp_seconds{account="main",sid="HH01"} 1.7962128e+09
# HELP twilio_messaging_tollfree_verification_errors Toll-free verifications whose error_code is the code. From the account's cached listing, refreshed at most every cache_ttl.
# TYPE twilio_messaging_tollfree_verification_errors gauge
twilio_messaging_tollfree_verification_errors{account="main",code="30445"} 1
# HELP twilio_messaging_tollfree_verification_info Always 1: one series per toll-free verification, naming it. From the account's cached listing, refreshed at most every cache_ttl.
# TYPE twilio_messaging_tollfree_verification_info gauge
twilio_messaging_tollfree_verification_info{account="main",business_name="",sid="HH02",tollfree_phone_number="",trust_product_sid=""} 1
twilio_messaging_tollfree_verification_info{account="main",business_name="Acme Dental",sid="HH01",tollfree_phone_number="+18335550100",trust_product_sid="BU11"} 1
# HELP twilio_messaging_tollfree_verification_status 1 for the toll-free verification's status, 0 for each other documented status. From the account's cached listing, refreshed at most every cache_ttl.
# TYPE twilio_messaging_tollfree_verification_status gauge
twilio_messaging_tollfree_verification_status{account="main",sid="HH01",status="IN_REVIEW"} 0
twilio_messaging_tollfree_verification_status{account="main",sid="HH01",status="PENDING_REVIEW"} 0
twilio_messaging_tollfree_verification_status{account="main",sid="HH01",status="TWILIO_APPROVED"} 0
twilio_messaging_tollfree_verification_status{account="main",sid="HH01",status="TWILIO_REJECTED"} 1
twilio_messaging_tollfree_verification_status{account="main",sid="HH02",status="IN_REVIEW"} 0
twilio_messaging_tollfree_verification_status{account="main",sid="HH02",status="PENDING_REVIEW"} 0
twilio_messaging_tollfree_verification_status{account="main",sid="HH02",status="TWILIO_APPROVED"} 1
twilio_messaging_tollfree_verification_status{account="main",sid="HH02",status="TWILIO_REJECTED"} 0
# HELP twilio_messaging_tollfree_verification_updated_timestamp_seconds The toll-free verification's date_updated as Unix time; absent when null. From the account's cached listing, refreshed at most every cache_ttl.
# TYPE twilio_messaging_tollfree_verification_updated_timestamp_seconds gauge
twilio_messaging_tollfree_verification_updated_timestamp_seconds{account="main",sid="HH02"} 1.7956944e+09
# HELP twilio_messaging_tollfree_verifications Toll-free verifications in each status. From the account's cached listing, refreshed at most every cache_ttl.
# TYPE twilio_messaging_tollfree_verifications gauge
twilio_messaging_tollfree_verifications{account="main",status="IN_REVIEW"} 0
twilio_messaging_tollfree_verifications{account="main",status="PENDING_REVIEW"} 0
twilio_messaging_tollfree_verifications{account="main",status="TWILIO_APPROVED"} 1
twilio_messaging_tollfree_verifications{account="main",status="TWILIO_REJECTED"} 1
`

// wantErrors is every reason of every (account, kind) from the start: the
// broken account's one auth failure per kind, nothing else.
func wantErrors() string {
	var b strings.Builder
	b.WriteString("# HELP twilio_trusthub_listing_errors_total Failed listings of the account's resource, by reason: auth, rate_limited, server, client, network, timeout, decode, paging, other.\n")
	b.WriteString("# TYPE twilio_trusthub_listing_errors_total counter\n")
	for _, account := range []string{"broken", "main"} {
		for _, reason := range []string{"auth", "client", "decode", "network", "other", "paging", "rate_limited", "server", "timeout"} {
			for _, k := range []string{"a2p_campaigns", "brand_registrations", "customer_profiles", "tollfree_verifications", "trust_products"} {
				n := 0
				if account == "broken" && reason == "auth" {
					n = 1
				}
				fmt.Fprintf(&b, "twilio_trusthub_listing_errors_total{account=%q,reason=%q,resource=%q} %d\n", account, reason, k, n)
			}
		}
	}
	return b.String()
}

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
	if err := testutil.GatherAndCompare(g, strings.NewReader(wantErrors()), "twilio_trusthub_listing_errors_total"); err != nil {
		t.Error(err)
	}
	// Duration is measured, so only its presence is checked.
	if n, _ := testutil.GatherAndCount(g, "twilio_trusthub_listing_duration_seconds"); n != 10 {
		t.Errorf("%d listing duration series, want one per account and resource", n)
	}
	if err := testutil.GatherAndCompare(g, strings.NewReader(wantTrustProducts),
		"twilio_trusthub_trust_product_info", "twilio_trusthub_trust_product_status", "twilio_trusthub_trust_product_valid_until_timestamp_seconds",
		"twilio_trusthub_trust_product_updated_timestamp_seconds", "twilio_trusthub_trust_product_error_info"); err != nil {
		t.Error(err)
	}
	var messagingFamilies []string
	for _, line := range strings.Split(wantMessaging, "\n") {
		if name, ok := strings.CutPrefix(line, "# TYPE "); ok {
			messagingFamilies = append(messagingFamilies, strings.Fields(name)[0])
		}
	}
	if len(messagingFamilies) != 19 {
		t.Fatalf("wantMessaging has %d families, want the issue's 19", len(messagingFamilies))
	}
	if err := testutil.GatherAndCompare(g, strings.NewReader(wantMessaging), messagingFamilies...); err != nil {
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
// families are absent, the other kind is served in full, and up says that
// not everything could be listed.
func TestOneKindFailingLeavesTheOtherUp(t *testing.T) {
	sim := simulator.New()
	sim.AddAccount(sidMain, "main-token", fixture())
	sim.SetObjects(sidMain, kinds.TrustProducts, trustProducts())
	sim.SetFault(simulator.Fault{Path: kinds.TrustProducts.ListPath, Status: 403, Code: 20003})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	e := mainExporter(t, srv.URL, srv.URL, "customer_profiles", "trust_products")
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
	const want = `
# HELP twilio_trusthub_up 1 if the last completed listing of every watched resource of the account succeeded, else 0 (also before the first one completes).
# TYPE twilio_trusthub_up gauge
twilio_trusthub_up{account="main"} 0
# HELP twilio_trusthub_resource_up 1 if the account's last completed listing of the resource succeeded, else 0 (also before the first one completes).
# TYPE twilio_trusthub_resource_up gauge
twilio_trusthub_resource_up{account="main",resource="a2p_campaigns"} 0
twilio_trusthub_resource_up{account="main",resource="brand_registrations"} 0
twilio_trusthub_resource_up{account="main",resource="customer_profiles"} 1
twilio_trusthub_resource_up{account="main",resource="tollfree_verifications"} 0
twilio_trusthub_resource_up{account="main",resource="trust_products"} 1
# HELP twilio_trusthub_api_requests_total HTTP requests to Twilio listing the resource that got an answer, by status code.
# TYPE twilio_trusthub_api_requests_total counter
twilio_trusthub_api_requests_total{account="main",code="200",resource="customer_profiles"} 1
twilio_trusthub_api_requests_total{account="main",code="200",resource="trust_products"} 1
twilio_trusthub_api_requests_total{account="main",code="403",resource="a2p_campaigns"} 1
twilio_trusthub_api_requests_total{account="main",code="403",resource="brand_registrations"} 1
twilio_trusthub_api_requests_total{account="main",code="403",resource="tollfree_verifications"} 1
`
	if err := testutil.GatherAndCompare(g, strings.NewReader(want), "twilio_trusthub_up", "twilio_trusthub_resource_up", "twilio_trusthub_api_requests_total"); err != nil {
		t.Error(err)
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
	if trustHub.Requests() != 2 || messagingSim.RequestsTo("/v1/Services") != 1 || messagingSim.Requests() != 3 {
		t.Errorf("TrustHub saw %d requests, Messaging %d; want 2 and 3", trustHub.Requests(), messagingSim.Requests())
	}
	for _, st := range e.Scrape(context.Background()).Status() {
		if st.Kind.Host == kinds.Messaging && !strings.Contains(st.State.LastError, "may read "+st.Kind.Title) {
			t.Errorf("%s: last error %q does not name the resource", st.Kind.Name, st.State.LastError)
		}
	}
}

// mainExporter is an exporter of the one account main, listing the
// resources given (the default ones when none) from the two URLs.
func mainExporter(t *testing.T, apiURL, messagingURL string, resources ...config.Resource) *collector.Exporter {
	t.Helper()
	spec := config.Default()
	spec.APIURL, spec.MessagingAPIURL = apiURL, messagingURL
	if len(resources) > 0 {
		spec.Resources = resources
	}
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
	return e
}
