package kinds

import (
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
)

// Every declaration is complete and consistent: names unique, metric
// prefixes legacy names, the rejected status documented, keys known.
func TestDeclarations(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range All {
		for i, name := range []string{k.Name, k.Plural, k.Singular, k.ListPath} {
			key := string(rune('0'+i)) + name
			if seen[key] {
				t.Errorf("%s: %q is used by another kind", k.Name, name)
			}
			seen[key] = true
		}
		for _, name := range []string{k.Metric(k.Plural + "_expiring"), k.Metric(k.Singular + "_valid_until_timestamp_seconds")} {
			if !model.LegacyValidation.IsValidMetricName(name) {
				t.Errorf("%s: %q is not a legacy metric name", k.Name, name)
			}
		}
		if k.Title == "" || k.Object == "" || k.Short == "" || k.ListKey == "" || k.StatusField == "" || len(k.Statuses) == 0 {
			t.Errorf("%s: an empty field in %+v", k.Name, k)
		}
		if len(k.Rejected) == 0 {
			t.Errorf("%s: no rejected status", k.Name)
		}
		for _, st := range k.Rejected {
			if !k.Documented(st) {
				t.Errorf("%s: the rejected status %q is not documented", k.Name, st)
			}
		}
		if !slices.Contains(k.InfoLabels, k.NameField) {
			t.Errorf("%s: the name field %s is not an info label", k.Name, k.NameField)
		}
		for i, f := range k.Values {
			if f.FamilySuffix() == "" || (i > 0 && k.Values[i-1] >= f) {
				t.Errorf("%s: values %v are not dates and numbers in field order", k.Name, k.Values)
			}
		}
		if k.Namespace != "twilio_trusthub" && k.Namespace != "twilio_messaging" {
			t.Errorf("%s: namespace %q", k.Name, k.Namespace)
		}
		if !strings.HasPrefix(k.ListPath, "/") {
			t.Errorf("%s: list path %q", k.Name, k.ListPath)
		}
		for _, f := range k.InfoLabels {
			if f == FieldSID || !k.Has(f) {
				t.Errorf("%s: info label %s", k.Name, f)
			}
		}
		// A reference is read like a label, and names an object of a
		// kind watched: a sid.
		for _, r := range k.References {
			if f := r.Field; f == FieldSID || !slices.Contains(k.InfoLabels, f) || f.Type() != String {
				t.Errorf("%s: reference %s is no info label holding a sid", k.Name, f)
			}
			if !slices.Contains(All, r.To) || r.To == k {
				t.Errorf("%s: reference %s to %v", k.Name, r.Field, r.To)
			}
		}
	}
}

// The kinds, as the API reference states them.
func TestReference(t *testing.T) {
	for _, tc := range []struct {
		k                                  *Kind
		host                               Host
		path, key, name, status, statuses  string
		parentPath, parentKey, errorsField string
	}{
		{CustomerProfiles, TrustHub, "/v1/CustomerProfiles", "results", "customer_profiles", "status",
			"draft pending-review in-review twilio-approved twilio-rejected", "", "", "errors"},
		{TrustProducts, TrustHub, "/v1/TrustProducts", "results", "trust_products", "status",
			"draft pending-review in-review twilio-approved twilio-rejected", "", "", "errors"},
		{BrandRegistrations, Messaging, "/v1/a2p/BrandRegistrations", "data", "brand_registrations", "status",
			"PENDING IN_REVIEW APPROVED FAILED SUSPENDED DELETION_PENDING DELETION_FAILED", "", "", "errors"},
		{A2PCampaigns, Messaging, "/v1/Services/{sid}/Compliance/Usa2p", "compliance", "a2p_campaigns", "campaign_status",
			"IN_PROGRESS VERIFIED FAILED", "/v1/Services", "services", "errors"},
		{TollfreeVerifications, Messaging, "/v1/Tollfree/Verifications", "verifications", "tollfree_verifications", "status",
			"PENDING_REVIEW IN_REVIEW TWILIO_APPROVED TWILIO_REJECTED", "", "", "error_code"},
	} {
		k := tc.k
		if k.Host != tc.host || k.ListPath != tc.path || k.ListKey != tc.key || k.Name != tc.name || k.Key(FieldStatus) != tc.status || k.Key(FieldErrors) != tc.errorsField {
			t.Errorf("%+v", k)
		}
		if got := strings.Join(k.Statuses, " "); got != tc.statuses {
			t.Errorf("%s: statuses %q", k.Name, got)
		}
		var parentPath, parentKey string
		if k.Parent != nil {
			parentPath, parentKey = k.Parent.ListPath, k.Parent.ListKey
		}
		if parentPath != tc.parentPath || parentKey != tc.parentKey {
			t.Errorf("%s: parent list %q %q", k.Name, parentPath, parentKey)
		}
	}
	if got := strings.Join(Names(), " "); got != "customer_profiles trust_products brand_registrations a2p_campaigns tollfree_verifications" {
		t.Errorf("names %q", got)
	}
	if k, ok := ByName("trust_products"); !ok || k != TrustProducts {
		t.Error("ByName(trust_products)")
	}
	if _, ok := ByName("messaging_services"); ok {
		t.Error("the parents of campaigns are a kind of their own")
	}
}

// No kind exports a field that holds a person's contact data.
func TestNoPersonalFields(t *testing.T) {
	for _, k := range All {
		for _, f := range k.Fields() {
			if key := k.Key(f); strings.Contains(key, "email") || strings.Contains(key, "contact") || strings.Contains(key, "first_name") || strings.Contains(key, "last_name") {
				t.Errorf("%s: field %s", k.Name, key)
			}
		}
	}
}

func TestMatchPath(t *testing.T) {
	for _, tc := range []struct {
		k         *Kind
		path, sid string
		ok        bool
	}{
		{A2PCampaigns, "/v1/Services/MG1/Compliance/Usa2p", "MG1", true},
		{A2PCampaigns, "/v1/Services//Compliance/Usa2p", "", false},
		{A2PCampaigns, "/v1/Services/MG1/x/Compliance/Usa2p", "", false},
		{A2PCampaigns, "/v1/Services", "", false},
		{CustomerProfiles, "/v1/CustomerProfiles", "", true},
		{CustomerProfiles, "/v1/CustomerProfiles/BU1", "", false},
	} {
		sid, ok := tc.k.MatchPath(tc.path)
		if sid != tc.sid || ok != tc.ok {
			t.Errorf("%s.MatchPath(%q) = %q, %v", tc.k.Name, tc.path, sid, ok)
		}
		if ok && tc.k.Path(sid) != tc.path {
			t.Errorf("%s.Path(%q) = %q", tc.k.Name, sid, tc.k.Path(sid))
		}
	}
}

func TestFieldNames(t *testing.T) {
	var names []string
	for i, f := range AllFields {
		if int(f) != i {
			t.Errorf("AllFields[%d] = %d", i, f)
		}
		names = append(names, f.String())
	}
	if got, want := strings.Join(names, " "), "sid friendly_name policy_sid status brand_type identity_status tcr_id a2p_profile_bundle_sid "+
		"customer_profile_bundle_sid messaging_service_sid brand_registration_sid campaign_id us_app_to_person_usecase tollfree_phone_number "+
		"business_name trust_product_sid customer_profile_sid channel_endpoint_type valid_until edit_expiration date_created date_updated "+
		"brand_score us_app_to_person_registered errors"; got != want {
		t.Errorf("names = %q, want %q", got, want)
	}
}
