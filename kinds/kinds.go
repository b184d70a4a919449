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
	"strings"
)

// Host is the API a kind is listed from; each has its own base URL.
type Host uint8

const (
	// TrustHub is https://trusthub.twilio.com (api_url).
	TrustHub Host = iota
	// Messaging is https://messaging.twilio.com (messaging_api_url).
	Messaging
)

// ConfigKey is the configuration key of the host's base URL, for messages.
func (h Host) ConfigKey() string {
	if h == Messaging {
		return "messaging_api_url"
	}
	return "api_url"
}

// Field is a field of an object that the decoder reads and may skip.
type Field uint8

// The fields the decoder knows, in the order of AllFields: the strings
// first (up to FieldTrustProductSID), then the dates, the numbers, and the
// errors.
const (
	FieldSID Field = iota
	FieldFriendlyName
	FieldPolicySID
	FieldStatus
	FieldBrandType
	FieldIdentityStatus
	FieldTCRID
	FieldA2PProfileBundleSID
	FieldMessagingServiceSID
	FieldBrandRegistrationSID
	FieldCampaignID
	FieldUsecase
	FieldTollfreePhoneNumber
	FieldBusinessName
	FieldTrustProductSID
	FieldValidUntil
	FieldEditExpiration
	FieldDateUpdated
	FieldBrandScore
	FieldErrors
	// NumFields is the number of fields: Field values are below it, so a
	// [NumFields]T array can be indexed by Field.
	NumFields
)

// Type is the shape of a field's value.
type Type uint8

// The field types.
const (
	String Type = iota
	// Time is an RFC 3339 date, exported as Unix time.
	Time
	// Integer is a whole number, exported as it is.
	Integer
	// Codes is the object's error codes (see ErrorShape).
	Codes
)

// AllFields lists every Field.
var AllFields = func() []Field {
	out := make([]Field, NumFields)
	for i := range out {
		out[i] = Field(i)
	}
	return out
}()

// fieldInfo is what is fixed about a field whatever the kind: its usual
// JSON key, its label name, its type, and for a date or a number the
// suffix of its per-object family.
type fieldInfo struct {
	key, label string
	typ        Type
	suffix     string
}

var fieldInfos = [NumFields]fieldInfo{
	FieldSID:                  {key: "sid"},
	FieldFriendlyName:         {key: "friendly_name"},
	FieldPolicySID:            {key: "policy_sid"},
	FieldStatus:               {key: "status"},
	FieldBrandType:            {key: "brand_type"},
	FieldIdentityStatus:       {key: "identity_status"},
	FieldTCRID:                {key: "tcr_id"},
	FieldA2PProfileBundleSID:  {key: "a2p_profile_bundle_sid"},
	FieldMessagingServiceSID:  {key: "messaging_service_sid"},
	FieldBrandRegistrationSID: {key: "brand_registration_sid"},
	FieldCampaignID:           {key: "campaign_id"},
	// The label is shorter than Twilio's key, as the table names it.
	FieldUsecase:             {key: "us_app_to_person_usecase", label: "usecase"},
	FieldTollfreePhoneNumber: {key: "tollfree_phone_number"},
	FieldBusinessName:        {key: "business_name"},
	FieldTrustProductSID:     {key: "trust_product_sid"},
	FieldValidUntil:          {key: "valid_until", typ: Time, suffix: "_valid_until_timestamp_seconds"},
	FieldEditExpiration:      {key: "edit_expiration", typ: Time, suffix: "_edit_expiration_timestamp_seconds"},
	FieldDateUpdated:         {key: "date_updated", typ: Time, suffix: "_updated_timestamp_seconds"},
	FieldBrandScore:          {key: "brand_score", typ: Integer, suffix: "_score"},
	FieldErrors:              {key: "errors", typ: Codes},
}

// String is the field's usual JSON key.
func (f Field) String() string {
	if f < NumFields {
		return fieldInfos[f].key
	}
	return "field(" + strconv.Itoa(int(f)) + ")"
}

// Type is the shape of the field's value.
func (f Field) Type() Type { return fieldInfos[f].typ }

// Label is the field's label name in the info series.
func (f Field) Label() string {
	if l := fieldInfos[f].label; l != "" {
		return l
	}
	return fieldInfos[f].key
}

// FamilySuffix is the suffix of the per-object family of a date or a
// number ("_updated_timestamp_seconds"); "" for other fields.
func (f Field) FamilySuffix() string { return fieldInfos[f].suffix }

// ErrorShape is how an object carries its error codes.
type ErrorShape uint8

const (
	// ErrorList is an `errors` list whose items carry `code` or
	// `error_code` (or are a bare code), as TrustHub and A2P objects do.
	ErrorList ErrorShape = iota
	// ErrorCode is a single `error_code`, a code or null, as toll-free
	// verifications carry it. Such a kind has no per-object error family.
	ErrorCode
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

// ParentSID is the placeholder in a ListPath for the sid of the parent
// object the list is under (see Kind.Parent).
const ParentSID = "{sid}"

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
	// With a Parent, it holds ParentSID, replaced by each parent's sid.
	ListPath string
	// ListKey is the page's key of the list of objects.
	ListKey string
	// Parent, when set, is the kind whose objects the kind is listed
	// under: every parent is listed first, then the kind under each one.
	// The whole is one listing of the kind. Only the parents' sids are read.
	Parent *Kind
	// StatusField is the JSON key of the status.
	StatusField string
	// Statuses are the documented status values, in the order of the
	// review: each is exported, at 0 when no object has it.
	Statuses []string
	// Rejected are the statuses of an object Twilio refused or stopped,
	// which the status page lists first; each is documented.
	Rejected []string
	// Values are the dates and numbers the kind's objects carry, each
	// exported per object (absent when null), in Field order. Expiry
	// counts come with FieldValidUntil.
	Values []Field
	Errors ErrorShape
	// InfoLabels are the fields that label the per-object info series,
	// besides sid.
	InfoLabels []Field
	// NameField is the InfoLabels field the status page names an object
	// by.
	NameField Field
	// Namespace prefixes the kind's families ("twilio_trusthub"); Plural
	// follows it in the aggregate families (<Namespace>_<Plural>),
	// Singular in the per-object families and the error codes
	// (<Namespace>_<Singular>_info).
	Namespace, Plural, Singular string
	// Filters are the filters the kind's listing takes.
	Filters []Filter
}

// reviewStatuses are TrustHub's statuses, shared by Customer-Profiles and
// Trust Products.
var reviewStatuses = []string{"draft", "pending-review", "in-review", "twilio-approved", "twilio-rejected"}

// trustHubValues are the dates of TrustHub's objects.
var trustHubValues = []Field{FieldValidUntil, FieldDateUpdated}

// The kinds declared.
var (
	CustomerProfiles = &Kind{
		Name: "customer_profiles", Title: "Customer-Profiles", Object: "Customer-Profile", Short: "profile",
		Host: TrustHub, ListPath: "/v1/CustomerProfiles", ListKey: "results",
		StatusField: "status", Statuses: reviewStatuses, Rejected: []string{"twilio-rejected"},
		Values: trustHubValues, Errors: ErrorList,
		InfoLabels: []Field{FieldFriendlyName, FieldPolicySID}, NameField: FieldFriendlyName,
		Namespace: "twilio_trusthub", Plural: "customer_profiles", Singular: "customer_profile",
		Filters: AllFilters,
	}
	TrustProducts = &Kind{
		Name: "trust_products", Title: "Trust Products", Object: "Trust Product", Short: "Trust Product",
		Host: TrustHub, ListPath: "/v1/TrustProducts", ListKey: "results",
		StatusField: "status", Statuses: reviewStatuses, Rejected: []string{"twilio-rejected"},
		Values: trustHubValues, Errors: ErrorList,
		InfoLabels: []Field{FieldFriendlyName, FieldPolicySID}, NameField: FieldFriendlyName,
		Namespace: "twilio_trusthub", Plural: "trust_products", Singular: "trust_product",
		Filters: AllFilters,
	}
	BrandRegistrations = &Kind{
		Name: "brand_registrations", Title: "A2P brand registrations", Object: "A2P brand registration", Short: "brand",
		Host: Messaging, ListPath: "/v1/a2p/BrandRegistrations", ListKey: "data",
		StatusField: "status",
		Statuses:    []string{"PENDING", "IN_REVIEW", "APPROVED", "FAILED", "SUSPENDED", "DELETION_PENDING", "DELETION_FAILED"},
		Rejected:    []string{"SUSPENDED", "FAILED"},
		Values:      []Field{FieldDateUpdated, FieldBrandScore}, Errors: ErrorList,
		InfoLabels: []Field{FieldBrandType, FieldIdentityStatus, FieldTCRID, FieldA2PProfileBundleSID}, NameField: FieldTCRID,
		Namespace: "twilio_messaging", Plural: "brand_registrations", Singular: "brand_registration",
	}
	// MessagingServices are listed only as the parents of A2P campaigns.
	MessagingServices = &Kind{
		Name: "messaging_services", Title: "Messaging Services", Object: "Messaging Service", Short: "service",
		Host: Messaging, ListPath: "/v1/Services", ListKey: "services",
		Namespace: "twilio_messaging", Plural: "services", Singular: "service",
	}
	A2PCampaigns = &Kind{
		Name: "a2p_campaigns", Title: "A2P campaigns", Object: "A2P campaign", Short: "campaign",
		Host: Messaging, ListPath: "/v1/Services/" + ParentSID + "/Compliance/Usa2p", ListKey: "compliance",
		Parent:      MessagingServices,
		StatusField: "campaign_status", Statuses: []string{"IN_PROGRESS", "VERIFIED", "FAILED"},
		Rejected: []string{"FAILED"},
		Values:   []Field{FieldDateUpdated}, Errors: ErrorList,
		InfoLabels: []Field{FieldMessagingServiceSID, FieldBrandRegistrationSID, FieldCampaignID, FieldUsecase}, NameField: FieldCampaignID,
		Namespace: "twilio_messaging", Plural: "a2p_campaigns", Singular: "a2p_campaign",
	}
	TollfreeVerifications = &Kind{
		Name: "tollfree_verifications", Title: "toll-free verifications", Object: "toll-free verification", Short: "verification",
		Host: Messaging, ListPath: "/v1/Tollfree/Verifications", ListKey: "verifications",
		StatusField: "status", Statuses: []string{"PENDING_REVIEW", "IN_REVIEW", "TWILIO_APPROVED", "TWILIO_REJECTED"},
		Rejected: []string{"TWILIO_REJECTED"},
		Values:   []Field{FieldEditExpiration, FieldDateUpdated}, Errors: ErrorCode,
		// The business's number and name; never the contact person's.
		InfoLabels: []Field{FieldTollfreePhoneNumber, FieldBusinessName, FieldTrustProductSID}, NameField: FieldBusinessName,
		Namespace: "twilio_messaging", Plural: "tollfree_verifications", Singular: "tollfree_verification",
	}
)

// All is every kind the exporter can list, in the order they are reported.
var All = []*Kind{CustomerProfiles, TrustProducts, BrandRegistrations, A2PCampaigns, TollfreeVerifications}

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
	switch {
	case f == FieldStatus && k.StatusField != "":
		return k.StatusField
	case f == FieldErrors && k.Errors == ErrorCode:
		return "error_code"
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
	case FieldSID, FieldStatus, FieldErrors:
		return true
	}
	return slices.Contains(k.InfoLabels, f) || slices.Contains(k.Values, f)
}

// Takes says whether the kind's listing takes filter f.
func (k *Kind) Takes(f Filter) bool { return slices.Contains(k.Filters, f) }

// Documented says whether s is one of the kind's documented statuses.
func (k *Kind) Documented(s string) bool { return slices.Contains(k.Statuses, s) }

// IsRejected says whether s is one of the kind's Rejected statuses.
func (k *Kind) IsRejected(s string) bool { return slices.Contains(k.Rejected, s) }

// Expires says whether the kind's objects have a valid_until, and so
// expiry counts.
func (k *Kind) Expires() bool { return slices.Contains(k.Values, FieldValidUntil) }

// ErrorInfo says whether the kind has a per-object error family: those
// whose objects carry an errors list.
func (k *Kind) ErrorInfo() bool { return k.Errors == ErrorList }

// Metric is the full name of one of the kind's families: the namespace,
// then name ("customer_profiles_expired").
func (k *Kind) Metric(name string) string { return k.Namespace + "_" + name }

// Path is the list path of the kind under the parent of that sid; the
// ListPath itself for a kind without a parent.
func (k *Kind) Path(parentSID string) string {
	return strings.Replace(k.ListPath, ParentSID, parentSID, 1)
}

// MatchPath says whether path is a list path of the kind, and under which
// parent sid ("" for a kind without a parent).
func (k *Kind) MatchPath(path string) (parentSID string, ok bool) {
	before, after, found := strings.Cut(k.ListPath, ParentSID)
	if !found {
		return "", path == k.ListPath
	}
	if !strings.HasPrefix(path, before) || !strings.HasSuffix(path, after) || len(path) <= len(before)+len(after) {
		return "", false
	}
	sid := path[len(before) : len(path)-len(after)]
	if strings.Contains(sid, "/") {
		return "", false
	}
	return sid, true
}
