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
		if slices.Contains(Planned, k.Name) {
			t.Errorf("%s is both declared and planned", k.Name)
		}
		for _, name := range []string{"twilio_trusthub_" + k.Plural + "_expiring", "twilio_trusthub_" + k.Singular + "_valid_until_timestamp_seconds"} {
			if !model.LegacyValidation.IsValidMetricName(name) {
				t.Errorf("%s: %q is not a legacy metric name", k.Name, name)
			}
		}
		if k.Title == "" || k.Object == "" || k.Short == "" || k.ListKey == "" || k.StatusField == "" || len(k.Statuses) == 0 {
			t.Errorf("%s: an empty field in %+v", k.Name, k)
		}
		if !k.Documented(k.RejectedStatus) {
			t.Errorf("%s: the rejected status %q is not documented", k.Name, k.RejectedStatus)
		}
		if !strings.HasPrefix(k.ListPath, "/") {
			t.Errorf("%s: list path %q", k.Name, k.ListPath)
		}
		for _, f := range k.InfoLabels {
			if f == FieldSID || !k.Has(f) {
				t.Errorf("%s: info label %s", k.Name, f)
			}
		}
	}
}

// Today's kinds, as the API reference states them.
func TestReference(t *testing.T) {
	for _, tc := range []struct {
		k               *Kind
		path, key, name string
	}{
		{CustomerProfiles, "/v1/CustomerProfiles", "results", "customer_profiles"},
		{TrustProducts, "/v1/TrustProducts", "results", "trust_products"},
	} {
		if tc.k.ListPath != tc.path || tc.k.ListKey != tc.key || tc.k.Name != tc.name || tc.k.Key(FieldStatus) != "status" {
			t.Errorf("%+v", tc.k)
		}
		if got := strings.Join(tc.k.Statuses, " "); got != "draft pending-review in-review twilio-approved twilio-rejected" {
			t.Errorf("%s: statuses %q", tc.k.Name, got)
		}
	}
	if got := strings.Join(Names(), " "); got != "customer_profiles trust_products" {
		t.Errorf("names %q", got)
	}
	if k, ok := ByName("trust_products"); !ok || k != TrustProducts {
		t.Error("ByName(trust_products)")
	}
	if _, ok := ByName("brand_registrations"); ok {
		t.Error("a planned kind is served")
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
	if got, want := strings.Join(names, " "), "sid friendly_name policy_sid status valid_until date_updated errors"; got != want {
		t.Errorf("names = %q, want %q", got, want)
	}
}
