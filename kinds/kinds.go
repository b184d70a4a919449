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
	// Accounts is https://api.twilio.com (accounts_api_url): the 2010
	// API, which lists an account and its subaccounts. No kind is listed
	// from it; subaccount discovery is.
	Accounts
	// Hosts is how many hosts there are.
	Hosts = int(Accounts) + 1
)

// ConfigKey is the configuration key of the host's base URL, for messages.
func (h Host) ConfigKey() string {
	switch h {
	case Messaging:
		return "messaging_api_url"
	case Accounts:
		return "accounts_api_url"
	}
	return "api_url"
}

// Field is a field of an object that the decoder reads and may skip. What
// is fixed about a field (its JSON key, label, type and family suffix) is
// declared once, in fieldInfos; a kind lists which fields it has. Objects
// carry their values in arrays indexed by Field (kinds.Object) or by
// the kind's lists (snapshot.Record), read and written by the field's
// Type: adding a field is a line here and its place in a kind's lists.
type Field uint8

// The fields the decoder knows, in the order of AllFields. The order is
// the order of a kind's per-object families and of anomaly series.
const (
	FieldSID Field = iota
	FieldFriendlyName
	FieldPolicySID
	FieldStatus
	FieldBrandType
	FieldIdentityStatus
	FieldTCRID
	FieldA2PProfileBundleSID
	FieldCustomerProfileBundleSID
	FieldMessagingServiceSID
	FieldBrandRegistrationSID
	FieldCampaignID
	FieldUsecase
	FieldTollfreePhoneNumber
	FieldBusinessName
	FieldTrustProductSID
	FieldCustomerProfileSID
	FieldChannelEndpointType
	FieldValidUntil
	FieldEditExpiration
	FieldDateCreated
	FieldDateUpdated
	FieldBrandScore
	FieldA2PRegistered
	FieldErrors
	// NumFields is the number of fields: Field values are below it, so a
	// [NumFields]T array can be indexed by Field.
	NumFields
)

// FieldSet is a set of fields.
type FieldSet uint32

// The set must hold every field.
var _ = [32 - NumFields]struct{}{}

// Add puts f in the set.
func (s *FieldSet) Add(f Field) { *s |= 1 << f }

// Has says whether f is in the set.
func (s FieldSet) Has(f Field) bool { return s&(1<<f) != 0 }

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
	// Bool is true or false, read as 1 or 0.
	Bool
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
	FieldSID:                 {key: "sid"},
	FieldFriendlyName:        {key: "friendly_name"},
	FieldPolicySID:           {key: "policy_sid"},
	FieldStatus:              {key: "status"},
	FieldBrandType:           {key: "brand_type"},
	FieldIdentityStatus:      {key: "identity_status"},
	FieldTCRID:               {key: "tcr_id"},
	FieldA2PProfileBundleSID: {key: "a2p_profile_bundle_sid"},
	// The Customer-Profile a brand is built on.
	FieldCustomerProfileBundleSID: {key: "customer_profile_bundle_sid"},
	FieldMessagingServiceSID:      {key: "messaging_service_sid"},
	FieldBrandRegistrationSID:     {key: "brand_registration_sid"},
	FieldCampaignID:               {key: "campaign_id"},
	// The label is shorter than Twilio's key, as the table names it.
	FieldUsecase:             {key: "us_app_to_person_usecase", label: "usecase"},
	FieldTollfreePhoneNumber: {key: "tollfree_phone_number"},
	FieldBusinessName:        {key: "business_name"},
	FieldTrustProductSID:     {key: "trust_product_sid"},
	FieldCustomerProfileSID:  {key: "customer_profile_sid"},
	// What a channel endpoint assignment assigns ("phone-number").
	FieldChannelEndpointType: {key: "channel_endpoint_type", label: "type"},
	FieldValidUntil:          {key: "valid_until", typ: Time, suffix: "_valid_until_timestamp_seconds"},
	FieldEditExpiration:      {key: "edit_expiration", typ: Time, suffix: "_edit_expiration_timestamp_seconds"},
	FieldDateCreated:         {key: "date_created", typ: Time, suffix: "_created_timestamp_seconds"},
	FieldDateUpdated:         {key: "date_updated", typ: Time, suffix: "_updated_timestamp_seconds"},
	FieldBrandScore:          {key: "brand_score", typ: Integer, suffix: "_score"},
	// Whether a Messaging Service has an A2P campaign registered.
	FieldA2PRegistered: {key: "us_app_to_person_registered", typ: Bool},
	FieldErrors:        {key: "errors", typ: Codes},
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

// Filters are the values a listing is narrowed by, indexed by Filter; an
// empty one is not sent, nor one the kind listed does not take.
type Filters [NumFilters]string

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
	// The whole is one listing of the kind. Only the parents' sids are read,
	// and the fields of ParentIf.
	Parent *Kind
	// ParentIf are Bool fields of the parent: the kind is not listed
	// under a parent that has one of them false (null lists it), as a
	// Messaging Service not registered for A2P has no campaign: a
	// request saved per such parent and listing.
	ParentIf []Field
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
	// Approved is the status of an object that passed review and is in
	// force; any other status, or an approval about to lapse, is a
	// problem for whatever uses the object.
	Approved string
	// KnownGood, when set, are the only statuses that are no problem:
	// every other one (but the unknown) counts as rejected, documented or
	// not. It is for a kind whose statuses Twilio gives only as examples.
	KnownGood []string
	// Uses, when set, is what uses the kind's objects, listed for each
	// object with a problem (see Usage).
	Uses *Usage
	// Reviewing are the statuses of an object waiting on Twilio's (or
	// The Campaign Registry's) review: one that stays in them too long is
	// stuck.
	Reviewing []string
	// Console is the Twilio Console page that lists the kind's objects.
	// Twilio documents no links to one object, so this page, searched
	// for the sid, is where a person acts on one.
	Console string
	// References are the fields naming another object of the same
	// account that an object of the kind is built on (a brand's
	// Customer-Profile and A2P Trust Product, a campaign's brand): what
	// stops that object stops this one too, so the status page counts
	// the objects naming one in its impact.
	References []Reference
}

// Reference is a field whose value is the sid of an object of kind To.
type Reference struct {
	Field Field
	To    *Kind
}

// Usage declares a list of what uses an object, fetched per object for
// the objects that are not Approved (or expire within the largest expiry
// window) and counted: the channel endpoints (phone numbers) assigned to
// a Customer-Profile or Trust Product, the phone numbers of the Messaging
// Service an A2P campaign registers. What stops when the object has a
// problem is what its alerts say, and whether they page.
type Usage struct {
	// List is the sub-resource listed, with ParentSID in its ListPath
	// standing for the subject's sid.
	List *Kind
	// Subject is the object's field whose value is the sid listed under:
	// FieldSID for the object itself, FieldMessagingServiceSID for an A2P
	// campaign's service.
	Subject Field
	// By is the field of the listed items counted by (each value a series
	// of Metric); without it (FieldSID) the items are counted together.
	By Field
	// Metric is the family of the counts, labelled account, SubjectLabel
	// and, with By, By's label.
	Metric, SubjectLabel string
	// Help describes Metric.
	Help string
}

// CountsBy says whether the usage is counted by the value of a field.
func (u *Usage) CountsBy() bool { return u.By != FieldSID }

// reviewStatuses are TrustHub's statuses, shared by Customer-Profiles and
// Trust Products.
var reviewStatuses = []string{"draft", "pending-review", "in-review", "twilio-approved", "twilio-rejected"}

// trustHubReviewing are TrustHub's statuses of an object under review.
var trustHubReviewing = []string{"pending-review", "in-review"}

// trustHubValues are the dates of TrustHub's objects.
var trustHubValues = []Field{FieldValidUntil, FieldDateCreated, FieldDateUpdated}

// The lists of what uses an object (see Usage). They are kinds only so
// that the client pages and decodes them as any list; they are not
// watched on their own.
var (
	CustomerProfileEndpoints = &Kind{
		Name: "customer_profile_channel_endpoint_assignments", Title: "channel endpoint assignments",
		Object: "channel endpoint assignment", Short: "assignment",
		Host: TrustHub, ListPath: "/v1/CustomerProfiles/" + ParentSID + "/ChannelEndpointAssignments", ListKey: "results",
		InfoLabels: []Field{FieldChannelEndpointType},
	}
	TrustProductEndpoints = &Kind{
		Name: "trust_product_channel_endpoint_assignments", Title: "channel endpoint assignments",
		Object: "channel endpoint assignment", Short: "assignment",
		Host: TrustHub, ListPath: "/v1/TrustProducts/" + ParentSID + "/ChannelEndpointAssignments", ListKey: "results",
		InfoLabels: []Field{FieldChannelEndpointType},
	}
	ServicePhoneNumbers = &Kind{
		Name: "messaging_service_phone_numbers", Title: "phone numbers", Object: "phone number", Short: "number",
		Host: Messaging, ListPath: "/v1/Services/" + ParentSID + "/PhoneNumbers", ListKey: "phone_numbers",
	}
)

// The kinds declared.
var (
	CustomerProfiles = &Kind{
		Name: "customer_profiles", Title: "Customer-Profiles", Object: "Customer-Profile", Short: "profile",
		Host: TrustHub, ListPath: "/v1/CustomerProfiles", ListKey: "results",
		StatusField: "status", Statuses: reviewStatuses, Rejected: []string{"twilio-rejected"}, Approved: "twilio-approved",
		Reviewing: trustHubReviewing, Console: "https://console.twilio.com/us1/account/trust-hub/customer-profiles",
		Values: trustHubValues, Errors: ErrorList,
		InfoLabels: []Field{FieldFriendlyName, FieldPolicySID}, NameField: FieldFriendlyName,
		Namespace: "twilio_trusthub", Plural: "customer_profiles", Singular: "customer_profile",
		Filters: AllFilters,
		Uses: &Usage{
			List: CustomerProfileEndpoints, Subject: FieldSID, By: FieldChannelEndpointType,
			Metric: "twilio_trusthub_customer_profile_channel_endpoints", SubjectLabel: "sid",
			Help: "Channel endpoints (phone numbers) assigned to the Customer-Profile, by type; " +
				"only for a profile that is not twilio-approved or expires within the largest expiring_within_days.",
		},
	}
	TrustProducts = &Kind{
		Name: "trust_products", Title: "Trust Products", Object: "Trust Product", Short: "Trust Product",
		Host: TrustHub, ListPath: "/v1/TrustProducts", ListKey: "results",
		StatusField: "status", Statuses: reviewStatuses, Rejected: []string{"twilio-rejected"}, Approved: "twilio-approved",
		Reviewing: trustHubReviewing, Console: "https://console.twilio.com/us1/account/trust-hub/trust-products",
		Values: trustHubValues, Errors: ErrorList,
		InfoLabels: []Field{FieldFriendlyName, FieldPolicySID}, NameField: FieldFriendlyName,
		Namespace: "twilio_trusthub", Plural: "trust_products", Singular: "trust_product",
		Filters: AllFilters,
		Uses: &Usage{
			List: TrustProductEndpoints, Subject: FieldSID, By: FieldChannelEndpointType,
			Metric: "twilio_trusthub_trust_product_channel_endpoints", SubjectLabel: "sid",
			Help: "Channel endpoints (phone numbers) assigned to the Trust Product, by type; " +
				"only for a Trust Product that is not twilio-approved or expires within the largest expiring_within_days.",
		},
	}
	BrandRegistrations = &Kind{
		Name: "brand_registrations", Title: "A2P brand registrations", Object: "A2P brand registration", Short: "brand",
		Host: Messaging, ListPath: "/v1/a2p/BrandRegistrations", ListKey: "data",
		StatusField: "status",
		Statuses:    []string{"PENDING", "IN_REVIEW", "APPROVED", "FAILED", "SUSPENDED", "DELETION_PENDING", "DELETION_FAILED"},
		Rejected:    []string{"SUSPENDED", "FAILED"}, Approved: "APPROVED",
		Reviewing: []string{"PENDING", "IN_REVIEW"}, Console: "https://console.twilio.com/us1/develop/sms/regulatory-compliance/brands",
		Values: []Field{FieldDateCreated, FieldDateUpdated, FieldBrandScore}, Errors: ErrorList,
		InfoLabels: []Field{FieldBrandType, FieldIdentityStatus, FieldTCRID, FieldA2PProfileBundleSID, FieldCustomerProfileBundleSID},
		NameField:  FieldTCRID, References: []Reference{{FieldA2PProfileBundleSID, TrustProducts}, {FieldCustomerProfileBundleSID, CustomerProfiles}},
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
		Parent: MessagingServices, ParentIf: []Field{FieldA2PRegistered},
		StatusField: "campaign_status", Statuses: []string{"IN_PROGRESS", "VERIFIED", "FAILED"},
		// Twilio gives the statuses only as examples: suspended and
		// expired campaigns occur, and a status added later is no less
		// a stop. Anything but these two is a problem.
		Rejected: []string{"FAILED"}, Approved: "VERIFIED", KnownGood: []string{"IN_PROGRESS", "VERIFIED"},
		Reviewing: []string{"IN_PROGRESS"}, Console: "https://console.twilio.com/us1/develop/sms/regulatory-compliance/campaigns",
		Values: []Field{FieldDateCreated, FieldDateUpdated}, Errors: ErrorList,
		InfoLabels: []Field{FieldMessagingServiceSID, FieldBrandRegistrationSID, FieldCampaignID, FieldUsecase}, NameField: FieldCampaignID,
		// The Messaging Service is not built on: it is what the campaign
		// registers (see Uses).
		References: []Reference{{FieldBrandRegistrationSID, BrandRegistrations}},
		Namespace:  "twilio_messaging", Plural: "a2p_campaigns", Singular: "a2p_campaign",
		Uses: &Usage{
			List: ServicePhoneNumbers, Subject: FieldMessagingServiceSID,
			Metric: "twilio_messaging_service_phone_numbers", SubjectLabel: "messaging_service_sid",
			Help: "Phone numbers in the Messaging Service; only for a service with an A2P campaign that is not VERIFIED, " +
				"whose numbers cannot send A2P traffic in the US.",
		},
	}
	TollfreeVerifications = &Kind{
		Name: "tollfree_verifications", Title: "toll-free verifications", Object: "toll-free verification", Short: "verification",
		Host: Messaging, ListPath: "/v1/Tollfree/Verifications", ListKey: "verifications",
		StatusField: "status", Statuses: []string{"PENDING_REVIEW", "IN_REVIEW", "TWILIO_APPROVED", "TWILIO_REJECTED"},
		Rejected: []string{"TWILIO_REJECTED"}, Approved: "TWILIO_APPROVED",
		Reviewing: []string{"PENDING_REVIEW", "IN_REVIEW"}, Console: "https://console.twilio.com/us1/develop/sms/regulatory-compliance/toll-free-verification",
		Values: []Field{FieldEditExpiration, FieldDateCreated, FieldDateUpdated}, Errors: ErrorCode,
		// The business's number and name; never the contact person's.
		InfoLabels: []Field{FieldTollfreePhoneNumber, FieldBusinessName, FieldTrustProductSID, FieldCustomerProfileSID},
		NameField:  FieldBusinessName, References: []Reference{{FieldTrustProductSID, TrustProducts}, {FieldCustomerProfileSID, CustomerProfiles}},
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

// Has says whether the kind's objects have field f: the sid, status and
// errors, the info labels and values, and the field naming what a Usage
// is listed under.
func (k *Kind) Has(f Field) bool {
	switch f {
	case FieldSID, FieldStatus, FieldErrors:
		return true
	}
	return slices.Contains(k.InfoLabels, f) || slices.Contains(k.Values, f) || k.Uses != nil && k.Uses.Subject == f ||
		slices.ContainsFunc(All, func(c *Kind) bool { return c.Parent == k && slices.Contains(c.ParentIf, f) })
}

// ListsUnder says whether the kind is listed under parent, a listed
// object of k.Parent: not when one of ParentIf is false.
func (k *Kind) ListsUnder(parent *Object) bool {
	for _, f := range k.ParentIf {
		if v, ok := parent.Value(f); ok && v == 0 {
			return false
		}
	}
	return true
}

// ValueIndex is the index of f in the kind's Values, or -1.
func (k *Kind) ValueIndex(f Field) int { return slices.Index(k.Values, f) }

// LabelIndex is the index of f in the kind's InfoLabels, or -1.
func (k *Kind) LabelIndex(f Field) int { return slices.Index(k.InfoLabels, f) }

// Takes says whether the kind's listing takes filter f.
func (k *Kind) Takes(f Filter) bool { return slices.Contains(k.Filters, f) }

// Documented says whether s is one of the kind's documented statuses.
func (k *Kind) Documented(s string) bool { return slices.Contains(k.Statuses, s) }

// IsRejected says whether s, a canonical status (see UnknownStatus), is
// one of the kind's Rejected statuses, or with KnownGood, any status but
// those and the unknown.
func (k *Kind) IsRejected(s string) bool {
	if len(k.KnownGood) > 0 {
		return s != UnknownStatus && !slices.Contains(k.KnownGood, s)
	}
	return slices.Contains(k.Rejected, s)
}

// UnknownStatus is the status of an object whose status is null or empty.
const UnknownStatus = "unknown"

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
