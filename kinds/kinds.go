// Package kinds declares, as data, each kind of Twilio compliance object
// the exporter lists: where the API lists it, how a page names its list,
// which field holds its status and which values are documented, which
// dates and errors it carries, which fields become labels, and the names
// of its metric families. The client, the snapshot, the collector, the
// status page, the configuration and the simulator all read these
// declarations, so adding a kind means adding one here (plus its tests
// and the simulator's data), not a copy of code in every layer.
package kinds

import (
	"slices"
	"strconv"
)

// Host is the API a kind is listed from; each has its own base URL.
type Host uint8

const (
	// TrustHub is https://trusthub.twilio.com (api_url).
	TrustHub Host = iota
)

// Field is a field of an object that the decoder reads and may skip.
type Field uint8

// The fields the decoder knows, in the order of AllFields.
const (
	FieldSID Field = iota
	FieldFriendlyName
	FieldPolicySID
	FieldStatus
	FieldValidUntil
	FieldDateUpdated
	FieldErrors
	// NumFields is the number of fields: Field values are below it, so a
	// [NumFields]T array can be indexed by Field.
	NumFields
)

// AllFields lists every Field.
var AllFields = []Field{FieldSID, FieldFriendlyName, FieldPolicySID, FieldStatus, FieldValidUntil, FieldDateUpdated, FieldErrors}

// defaultKeys are the fields' JSON keys where a kind does not name its own.
var defaultKeys = [NumFields]string{"sid", "friendly_name", "policy_sid", "status", "valid_until", "date_updated", "errors"}

// String is the field's usual JSON key.
func (f Field) String() string {
	if f < NumFields {
		return defaultKeys[f]
	}
	return "field(" + strconv.Itoa(int(f)) + ")"
}

// ErrorShape is how an object carries its error codes.
type ErrorShape uint8

const (
	// ErrorList is an `errors` list whose items carry `code` or
	// `error_code` (or are a bare code), as TrustHub and A2P objects do.
	ErrorList ErrorShape = iota
)

// Filter is a listing filter a kind may take.
type Filter uint8

// The filters, in the order of AllFilters.
const (
	FilterStatus Filter = iota
	FilterFriendlyName
	FilterPolicySID
	NumFilters
)

// AllFilters lists every Filter.
var AllFilters = []Filter{FilterStatus, FilterFriendlyName, FilterPolicySID}

var (
	filterParams = [NumFilters]string{"Status", "FriendlyName", "PolicySid"}
	filterKeys   = [NumFilters]string{"status", "friendly_name", "policy_sid"}
)

// Param is the filter's query parameter.
func (f Filter) Param() string { return filterParams[f] }

// Key is the filter's configuration key.
func (f Filter) Key() string { return filterKeys[f] }

// Kind is the declaration of one kind of object.
type Kind struct {
	// Name is the kind's name in the configuration's resources list and
	// the value of the resource label.
	Name string
	// Title names the kind for people, in the plural ("Customer-Profiles").
	Title string
	// Object names one object in HELP texts ("Customer-Profile"), Short
	// one in running text ("profile").
	Object, Short string
	Host          Host
	// ListPath is where the API lists the kind, below the host's base URL.
	ListPath string
	// ListKey is the page's key of the list of objects.
	ListKey string
	// StatusField is the JSON key of the status.
	StatusField string
	// Statuses are the documented status values, in the order of the
	// review: each is exported, at 0 when no object has it.
	Statuses []string
	// RejectedStatus is the status of an object Twilio refused, which the
	// status page lists first.
	RejectedStatus string
	// ValidUntil and DateUpdated say which dates the kind has.
	ValidUntil, DateUpdated bool
	Errors                  ErrorShape
	// InfoLabels are the fields that label the per-object info series,
	// besides sid.
	InfoLabels []Field
	// Plural prefixes the aggregate families (twilio_trusthub_<Plural>),
	// Singular the per-object families and the error codes
	// (twilio_trusthub_<Singular>_info).
	Plural, Singular string
	// Filters are the filters the kind's listing takes.
	Filters []Filter
}

// reviewStatuses are TrustHub's statuses, shared by Customer-Profiles and
// Trust Products.
var reviewStatuses = []string{"draft", "pending-review", "in-review", "twilio-approved", "twilio-rejected"}

// The kinds declared today.
var (
	CustomerProfiles = &Kind{
		Name: "customer_profiles", Title: "Customer-Profiles", Object: "Customer-Profile", Short: "profile",
		Host: TrustHub, ListPath: "/v1/CustomerProfiles", ListKey: "results",
		StatusField: "status", Statuses: reviewStatuses, RejectedStatus: "twilio-rejected",
		ValidUntil: true, DateUpdated: true, Errors: ErrorList,
		InfoLabels: []Field{FieldFriendlyName, FieldPolicySID},
		Plural:     "customer_profiles", Singular: "customer_profile",
		Filters: AllFilters,
	}
	TrustProducts = &Kind{
		Name: "trust_products", Title: "Trust Products", Object: "Trust Product", Short: "Trust Product",
		Host: TrustHub, ListPath: "/v1/TrustProducts", ListKey: "results",
		StatusField: "status", Statuses: reviewStatuses, RejectedStatus: "twilio-rejected",
		ValidUntil: true, DateUpdated: true, Errors: ErrorList,
		InfoLabels: []Field{FieldFriendlyName, FieldPolicySID},
		Plural:     "trust_products", Singular: "trust_product",
		Filters: AllFilters,
	}
)

// All is every kind the exporter can list, in the order they are reported.
var All = []*Kind{CustomerProfiles, TrustProducts}

// Planned are kinds the configuration names but the exporter does not
// list yet: a clear refusal beats "unknown".
var Planned = []string{"brand_registrations", "a2p_campaigns", "tollfree_verifications"}

// Default is what is watched when the configuration names no resources.
func Default() []*Kind { return slices.Clone(All) }

// ByName returns the kind of that name.
func ByName(name string) (*Kind, bool) {
	for _, k := range All {
		if k.Name == name {
			return k, true
		}
	}
	return nil, false
}

// Names returns the names of All.
func Names() []string {
	out := make([]string, len(All))
	for i, k := range All {
		out[i] = k.Name
	}
	return out
}

// Key is the JSON key of field f in this kind's objects.
func (k *Kind) Key(f Field) string {
	if f == FieldStatus && k.StatusField != "" {
		return k.StatusField
	}
	return f.String()
}

// Fields are the fields the kind's objects have, in Field order.
func (k *Kind) Fields() []Field {
	out := make([]Field, 0, NumFields)
	for _, f := range AllFields {
		if k.Has(f) {
			out = append(out, f)
		}
	}
	return out
}

// Has says whether the kind's objects have field f.
func (k *Kind) Has(f Field) bool {
	switch f {
	case FieldValidUntil:
		return k.ValidUntil
	case FieldDateUpdated:
		return k.DateUpdated
	case FieldFriendlyName, FieldPolicySID:
		return slices.Contains(k.InfoLabels, f)
	}
	return true
}

// Takes says whether the kind's listing takes filter f.
func (k *Kind) Takes(f Filter) bool { return slices.Contains(k.Filters, f) }

// Documented says whether s is one of the kind's documented statuses.
func (k *Kind) Documented(s string) bool { return slices.Contains(k.Statuses, s) }
