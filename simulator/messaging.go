package simulator

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
)

// MessagingError is an errors item as the Messaging API writes it:
// {"error_code": code, "description": ..., "url": ..., "fields": [...]}.
func MessagingError(code int64) ErrorCode {
	return ErrorCode{Raw: encode(map[string]any{
		"error_code":  code,
		"description": "Simulated error " + strconv.FormatInt(code, 10),
		"url":         fmt.Sprintf("https://www.twilio.com/docs/api/errors/%d", code),
		"fields":      []string{},
	})}
}

// ServedBrand is an A2P 10DLC brand registration as the Messaging API
// lists it. A nil pointer is sent as null.
type ServedBrand struct {
	SID                      *string     `json:"sid"`
	AccountSID               *string     `json:"account_sid"`
	CustomerProfileBundleSID *string     `json:"customer_profile_bundle_sid"`
	A2PProfileBundleSID      *string     `json:"a2p_profile_bundle_sid"`
	BrandType                *string     `json:"brand_type"`
	Status                   *string     `json:"status"`
	IdentityStatus           *string     `json:"identity_status"`
	TCRID                    *string     `json:"tcr_id"`
	BrandScore               *int64      `json:"brand_score"`
	FailureReason            *string     `json:"failure_reason"`
	Errors                   []ErrorCode `json:"errors"`
	DateCreated              *time.Time  `json:"date_created"`
	DateUpdated              *time.Time  `json:"date_updated"`
	URL                      *string     `json:"url"`
	Mock                     bool        `json:"mock"`
}

func (b ServedBrand) stored(accountSID, base string) stored {
	fill(&b.AccountSID, &b.URL, b.SID, accountSID, base)
	return stored{status: deref(b.Status), json: encode(b)}
}

// ServedService is a Messaging Service, listed as the parent of its A2P
// campaigns.
type ServedService struct {
	SID          *string `json:"sid"`
	AccountSID   *string `json:"account_sid"`
	FriendlyName *string `json:"friendly_name"`
	// USAppToPersonRegistered, when nil, is served as whether the
	// service has a campaign.
	USAppToPersonRegistered   *bool      `json:"us_app_to_person_registered"`
	UseInboundWebhookOnNumber bool       `json:"use_inbound_webhook_on_number"`
	DateCreated               *time.Time `json:"date_created"`
	DateUpdated               *time.Time `json:"date_updated"`
	URL                       *string    `json:"url"`
}

func (v ServedService) stored(accountSID, base string) stored {
	fill(&v.AccountSID, &v.URL, v.SID, accountSID, base)
	return stored{friendlyName: deref(v.FriendlyName), json: encode(v)}
}

// ServedCampaign is an A2P campaign (a Usa2p compliance object of a
// Messaging Service).
type ServedCampaign struct {
	SID                    *string     `json:"sid"`
	AccountSID             *string     `json:"account_sid"`
	BrandRegistrationSID   *string     `json:"brand_registration_sid"`
	MessagingServiceSID    *string     `json:"messaging_service_sid"`
	CampaignID             *string     `json:"campaign_id"`
	USAppToPersonUsecase   *string     `json:"us_app_to_person_usecase"`
	CampaignStatus         *string     `json:"campaign_status"`
	Description            *string     `json:"description"`
	HasEmbeddedLinks       bool        `json:"has_embedded_links"`
	HasEmbeddedPhone       bool        `json:"has_embedded_phone"`
	IsExternallyRegistered bool        `json:"is_externally_registered"`
	Errors                 []ErrorCode `json:"errors"`
	DateCreated            *time.Time  `json:"date_created"`
	DateUpdated            *time.Time  `json:"date_updated"`
	URL                    *string     `json:"url"`
}

func (c ServedCampaign) stored(accountSID, base string) stored {
	fill(&c.AccountSID, &c.URL, c.SID, accountSID, base)
	return stored{status: deref(c.CampaignStatus), parent: deref(c.MessagingServiceSID), json: encode(c)}
}

// ServedVerification is a toll-free verification. The business contact's
// names, e-mail and phone are served as the API does, so that tests can
// show the exporter never exports them.
type ServedVerification struct {
	SID                      *string  `json:"sid"`
	AccountSID               *string  `json:"account_sid"`
	CustomerProfileSID       *string  `json:"customer_profile_sid"`
	TrustProductSID          *string  `json:"trust_product_sid"`
	TollfreePhoneNumberSID   *string  `json:"tollfree_phone_number_sid"`
	TollfreePhoneNumber      *string  `json:"tollfree_phone_number"`
	BusinessName             *string  `json:"business_name"`
	BusinessContactFirstName *string  `json:"business_contact_first_name"`
	BusinessContactLastName  *string  `json:"business_contact_last_name"`
	BusinessContactEmail     *string  `json:"business_contact_email"`
	BusinessContactPhone     *string  `json:"business_contact_phone"`
	Status                   *string  `json:"status"`
	RejectionReason          *string  `json:"rejection_reason"`
	RejectionReasons         []string `json:"rejection_reasons"`
	// ErrorCode is sent as it stands; nil is null.
	ErrorCode      json.RawMessage `json:"error_code"`
	EditAllowed    *bool           `json:"edit_allowed"`
	EditExpiration *time.Time      `json:"edit_expiration"`
	DateCreated    *time.Time      `json:"date_created"`
	DateUpdated    *time.Time      `json:"date_updated"`
	URL            *string         `json:"url"`
}

func (v ServedVerification) stored(accountSID, base string) stored {
	fill(&v.AccountSID, &v.URL, v.SID, accountSID, base)
	return stored{status: deref(v.Status), friendlyName: deref(v.BusinessName), json: encode(v)}
}

// ServedPhoneNumber is a phone number of a Messaging Service, listed under
// the service.
type ServedPhoneNumber struct {
	SID         *string    `json:"sid"`
	AccountSID  *string    `json:"account_sid"`
	ServiceSID  *string    `json:"service_sid"`
	PhoneNumber *string    `json:"phone_number"`
	CountryCode *string    `json:"country_code"`
	DateCreated *time.Time `json:"date_created"`
	DateUpdated *time.Time `json:"date_updated"`
	URL         *string    `json:"url"`
}

func (n ServedPhoneNumber) stored(accountSID, base string) stored {
	fill(&n.AccountSID, &n.URL, n.SID, accountSID, base)
	return stored{parent: deref(n.ServiceSID), json: encode(n)}
}

// Messaging is an account's Messaging data.
type Messaging struct {
	Brands        []ServedBrand
	Services      []ServedService
	Campaigns     []ServedCampaign
	Verifications []ServedVerification
	// PhoneNumbers are the services' numbers, each listed under its
	// ServiceSID.
	PhoneNumbers []ServedPhoneNumber
}

// SetMessaging replaces the account's brands, Messaging Services, A2P
// campaigns and toll-free verifications.
func (s *Server) SetMessaging(accountSID string, m Messaging) {
	Set(s, accountSID, kinds.BrandRegistrations, m.Brands)
	services := slices.Clone(m.Services)
	for i, v := range services {
		if v.USAppToPersonRegistered == nil && v.SID != nil {
			services[i].USAppToPersonRegistered = Ptr(slices.ContainsFunc(m.Campaigns, func(c ServedCampaign) bool {
				return c.MessagingServiceSID != nil && *c.MessagingServiceSID == *v.SID
			}))
		}
	}
	Set(s, accountSID, kinds.MessagingServices, services)
	Set(s, accountSID, kinds.A2PCampaigns, m.Campaigns)
	Set(s, accountSID, kinds.TollfreeVerifications, m.Verifications)
	Set(s, accountSID, kinds.ServicePhoneNumbers, m.PhoneNumbers)
}

// LinkProfiles builds m's brands and toll-free verifications on
// profiles, as Twilio has them: each brand's customer_profile_bundle_sid
// and each verification's customer_profile_sid name an approved profile
// (some of them expiring or expired), in turn.
func LinkProfiles(m *Messaging, profiles []ServedObject) {
	var approved []*string
	for _, p := range profiles {
		if p.SID != nil && p.Status != nil && *p.Status == "twilio-approved" {
			approved = append(approved, p.SID)
		}
	}
	if len(approved) == 0 {
		return
	}
	for i := range m.Brands {
		m.Brands[i].CustomerProfileBundleSID = approved[i%len(approved)]
	}
	for i := range m.Verifications {
		m.Verifications[i].CustomerProfileSID = approved[(len(m.Brands)+i)%len(approved)]
	}
}

// Demo error codes of the Messaging kinds, as Twilio documents them.
const (
	// ErrorBrandSuspended is a suspended brand's: messaging halted.
	ErrorBrandSuspended = 30990
	// ErrorBrandInvalid is a failed brand's: invalid state or region.
	ErrorBrandInvalid = 30701
	// ErrorCampaignRejected is a failed campaign's: disallowed content.
	ErrorCampaignRejected = 30897
	// ErrorTollfreeRejected is a rejected toll-free verification's.
	ErrorTollfreeRejected = 30445
)

// SuspendedBrand is a suspended brand of that sid and TCR id, updated at
// updated, with Twilio's error 30990: what an alert on suspended brands
// must find.
func SuspendedBrand(sid, tcrID, trustProductSID string, updated time.Time) ServedBrand {
	return ServedBrand{
		SID: Ptr(sid), A2PProfileBundleSID: Ptr(trustProductSID), BrandType: Ptr("STANDARD"),
		Status: Ptr("SUSPENDED"), IdentityStatus: Ptr("VERIFIED"), TCRID: Ptr(tcrID), BrandScore: Ptr[int64](42),
		Errors: []ErrorCode{MessagingError(ErrorBrandSuspended)}, DateCreated: Ptr(updated.Add(-90 * 24 * time.Hour)), DateUpdated: Ptr(updated),
	}
}

// GenerateMessaging makes an account's Messaging data, the same for the
// same seed and now: n brands in every documented status (a suspended
// one with 30990, the failed with 30701), each brand's a2p_profile_bundle_sid
// one of trustProducts' sids; n/2+1 Messaging Services, the last without
// campaigns; about two campaigns per service, under the brands, in every
// documented status and a few others (PENDING, SUSPENDED), the failed with
// 30897; and n toll-free verifications in every status, the rejected with
// an error_code and an edit_expiration in the future. With the loose spots
// of the reference: odd errors items, a numeric-string error_code, a null
// brand_score, nulls where the API allows them.
func GenerateMessaging(n int, now time.Time, seed uint64, trustProducts []ServedObject) Messaging {
	rng := rand.New(rand.NewPCG(seed, 0x6d65737361676521)) //nolint:gosec // G404: seeded on purpose
	day := 24 * time.Hour
	at := func(maxDays int) *time.Time {
		return Ptr(now.Add(-time.Duration(1+rng.IntN(maxDays*24)) * time.Hour).Truncate(time.Second))
	}
	var bundles []string
	for _, p := range trustProducts {
		if p.SID != nil {
			bundles = append(bundles, *p.SID)
		}
	}
	bundle := func(i int) *string {
		if len(bundles) == 0 {
			return nil
		}
		return Ptr(bundles[i%len(bundles)])
	}
	var m Messaging
	brandStatuses := kinds.BrandRegistrations.Statuses
	identities := []string{"SELF_DECLARED", "UNVERIFIED", "VERIFIED", "VETTED_VERIFIED"}
	for i := range n {
		st := brandStatuses[i%len(brandStatuses)]
		if i >= len(brandStatuses) && rng.IntN(2) == 0 {
			st = "APPROVED" // most brands are approved
		}
		b := ServedBrand{
			SID:                 Ptr(fmt.Sprintf("BN%016x%016x", seed, uint64(i))),
			A2PProfileBundleSID: bundle(i),
			BrandType:           Ptr([]string{"STANDARD", "SOLE_PROPRIETOR"}[rng.IntN(2)]),
			Status:              Ptr(st),
			IdentityStatus:      Ptr(identities[rng.IntN(len(identities))]),
			TCRID:               Ptr(fmt.Sprintf("B%06X", rng.IntN(1<<24))),
			BrandScore:          Ptr(int64(rng.IntN(101))),
			Errors:              []ErrorCode{},
			DateCreated:         at(700),
			DateUpdated:         at(60),
		}
		switch st {
		case "SUSPENDED":
			b.Errors = []ErrorCode{MessagingError(ErrorBrandSuspended)}
		case "FAILED":
			b.Errors = []ErrorCode{MessagingError(ErrorBrandInvalid)}
			b.FailureReason = Ptr("Invalid State/Region/Province")
			b.BrandScore = nil // not scored: Twilio sends null
		case "PENDING", "IN_REVIEW":
			b.TCRID, b.BrandScore = nil, nil
		}
		m.Brands = append(m.Brands, b)
	}
	// The loose spots: an odd errors item beside a real one, a numeric
	// string and a bare number.
	for i, odd := range []string{`{"code": "30701"}`, `30990`, `"not a code"`} {
		if i < len(m.Brands) && *m.Brands[i].Status != "SUSPENDED" {
			m.Brands[i].Errors = append(m.Brands[i].Errors, ErrorCode{Raw: []byte(odd)})
		}
	}

	usecases := []string{"MARKETING", "CUSTOMER_CARE", "2FA", "ACCOUNT_NOTIFICATION", "MIXED"}
	// Twilio gives campaign statuses only as examples; suspended and
	// expired campaigns occur.
	campaignStatuses := append(append([]string(nil), kinds.A2PCampaigns.Statuses...), "SUSPENDED", "EXPIRED")
	services := n/2 + 1
	for i := range services {
		m.Services = append(m.Services, ServedService{
			SID:                     Ptr(fmt.Sprintf("MG%016x%016x", seed, uint64(i))),
			FriendlyName:            Ptr(fmt.Sprintf("Service %d", i)),
			USAppToPersonRegistered: Ptr(i < services-1),
			DateCreated:             at(700),
			DateUpdated:             at(90),
		})
	}
	for i := range 2 * (services - 1) {
		st := campaignStatuses[i%len(campaignStatuses)]
		if i >= len(campaignStatuses) && rng.IntN(2) == 0 {
			st = "VERIFIED"
		}
		var brand *string
		if len(m.Brands) > 0 {
			brand = m.Brands[i%len(m.Brands)].SID
		}
		c := ServedCampaign{
			SID:                  Ptr(fmt.Sprintf("QE%016x%016x", seed, uint64(i))),
			BrandRegistrationSID: brand,
			MessagingServiceSID:  m.Services[i/2].SID,
			CampaignID:           Ptr(fmt.Sprintf("C%06X", rng.IntN(1<<24))),
			USAppToPersonUsecase: Ptr(usecases[rng.IntN(len(usecases))]),
			CampaignStatus:       Ptr(st),
			Description:          Ptr("Simulated campaign"),
			Errors:               []ErrorCode{},
			DateCreated:          at(400),
			DateUpdated:          at(60),
		}
		// A suspended brand suspends every campaign under it.
		if len(m.Brands) > 0 && *m.Brands[i%len(m.Brands)].Status == "SUSPENDED" {
			c.CampaignStatus = Ptr("SUSPENDED")
		}
		switch *c.CampaignStatus {
		case "FAILED":
			c.Errors = []ErrorCode{MessagingError(ErrorCampaignRejected)}
		case "SUSPENDED":
			c.Errors = []ErrorCode{MessagingError(ErrorBrandSuspended)}
		case "IN_PROGRESS":
			c.CampaignID = nil // none until TCR accepts it
		}
		if i == 1 {
			c.Errors = nil // Twilio may send null
		}
		if i == 5 {
			c.CampaignStatus = nil // the spec allows it: exported as unknown
		}
		m.Campaigns = append(m.Campaigns, c)
	}
	// Each service's numbers: many have some, some none (a campaign
	// registered ahead of its numbers, or one whose numbers moved).
	for i, svc := range m.Services[:services-1] {
		n := 0
		if rng.IntN(10) >= 4 {
			n = 1 + rng.IntN(30)
		}
		for j := range n {
			m.PhoneNumbers = append(m.PhoneNumbers, ServedPhoneNumber{
				SID:         Ptr(fmt.Sprintf("PN%016x%08x%08x", seed, uint32(i), uint32(j))),
				ServiceSID:  svc.SID,
				PhoneNumber: Ptr(fmt.Sprintf("+1555%03d%04d", i%1000, j)),
				CountryCode: Ptr("US"),
				DateCreated: svc.DateCreated,
				DateUpdated: svc.DateCreated,
			})
		}
	}

	tfStatuses := kinds.TollfreeVerifications.Statuses
	for i := range n {
		st := tfStatuses[i%len(tfStatuses)]
		if i >= len(tfStatuses) && rng.IntN(2) == 0 {
			st = "TWILIO_APPROVED"
		}
		v := ServedVerification{
			SID:                      Ptr(fmt.Sprintf("HH%016x%016x", seed, uint64(i))),
			TrustProductSID:          bundle(i + 1),
			TollfreePhoneNumberSID:   Ptr(fmt.Sprintf("PN%016x%016x", seed, uint64(i))),
			TollfreePhoneNumber:      Ptr(fmt.Sprintf("+1833555%04d", i%10000)),
			BusinessName:             Ptr(fmt.Sprintf("Business %04d", i)),
			BusinessContactFirstName: Ptr("Contactfirst"),
			BusinessContactLastName:  Ptr("Contactlast"),
			BusinessContactEmail:     Ptr(fmt.Sprintf("contact+%d@example.com", i)),
			BusinessContactPhone:     Ptr("+15005550006"),
			Status:                   Ptr(st),
			DateCreated:              at(300),
			DateUpdated:              at(30),
		}
		if st == "TWILIO_REJECTED" {
			v.ErrorCode = json.RawMessage(strconv.Itoa(ErrorTollfreeRejected))
			v.RejectionReason = Ptr("Website not accessible")
			v.RejectionReasons = []string{"Website not accessible"}
			v.EditAllowed = Ptr(true)
			v.EditExpiration = Ptr(now.Add(time.Duration(1+rng.IntN(14*24))*time.Hour + day).Truncate(time.Second))
			if i%8 == 3 {
				v.ErrorCode = json.RawMessage(`"30446"`) // a numeric string
			}
		}
		if i%11 == 10 {
			v.BusinessName = nil
		}
		m.Verifications = append(m.Verifications, v)
	}
	return m
}
