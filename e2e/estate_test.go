package e2e

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/internal/proctest"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/simulator"
)

// The objects the pipeline test plants beside the generated ones, each
// with what the shipped alerts must do about it.
const (
	accountSID  = "AC0123456789abcdef0123456789abcdef"
	account2SID = "AC0123456789abcdef0123456789abcde2"
	authToken   = "e2e-token-5a7c"
	auth2Token  = "e2e-token-9b1d"
	// rejectedSID is a rejected profile with two phone numbers assigned:
	// it pages.
	rejectedSID  = "BUe2e00000000000000000000000000001"
	rejectedName = "E2E Rejected Dental"
	// draftSID is a rejected profile nothing uses, as old drafts are: a
	// ticket, never a page.
	draftSID = "BUe2e00000000000000000000000000002"
	// suspendedBrandSID is a SUSPENDED brand (Twilio error 30990), with TCR
	// id suspendedBrandTCRID and a campaign under it whose service has
	// numbers: it pages, and stands for its campaign.
	suspendedBrandSID   = "BNe2e00000000000000000000000000001"
	suspendedBrandTCRID = "BE2ESUSP"
	// closingSID is a rejected toll-free verification whose edit window
	// closes in a day: it pages.
	closingSID = "HHe2e00000000000000000000000000001"
)

// estateAccount is one account of the estate, as served.
type estateAccount struct {
	name, sid, token string
	profiles         []simulator.ServedObject
	trustProducts    []simulator.ServedObject
	assignments      map[*kinds.Kind][]simulator.ServedAssignment
	messaging        simulator.Messaging
}

// newEstate makes a demo-like estate of two accounts at now: generated
// objects of every kind (most rejections of drafts that nothing uses, some
// objects in use), and the planted ones above in main.
func newEstate(now time.Time) []*estateAccount {
	var out []*estateAccount
	for i, a := range []struct {
		name, sid, token                string
		profiles, trustProducts, brands int
	}{{"main", accountSID, authToken, 300, 120, 20}, {"second", account2SID, auth2Token, 120, 40, 8}} {
		seed := uint64(9 + i)
		e := &estateAccount{name: a.name, sid: a.sid, token: a.token, assignments: map[*kinds.Kind][]simulator.ServedAssignment{}}
		e.profiles = simulator.Generate(a.sid, a.profiles, now, seed)
		e.trustProducts = simulator.GenerateTrustProducts(a.sid, a.trustProducts, now, seed)
		e.assignments[kinds.CustomerProfiles] = simulator.GenerateAssignments(kinds.CustomerProfiles, e.profiles, now, seed)
		e.assignments[kinds.TrustProducts] = simulator.GenerateAssignments(kinds.TrustProducts, e.trustProducts, now, seed)
		e.messaging = simulator.GenerateMessaging(a.brands, now, seed, e.trustProducts)
		simulator.LinkProfiles(&e.messaging, e.profiles)
		out = append(out, e)
	}
	m := out[0]
	ago := func(d time.Duration) *time.Time { return simulator.Ptr(now.Add(-d).Truncate(time.Second)) }
	m.profiles = append(m.profiles,
		simulator.ServedObject{SID: simulator.Ptr(rejectedSID), Status: simulator.Ptr("twilio-rejected"), FriendlyName: simulator.Ptr(rejectedName),
			DateUpdated: ago(2 * time.Hour), Errors: []simulator.ErrorCode{{Code: 22215}, {Code: 22218}}},
		simulator.ServedObject{SID: simulator.Ptr(draftSID), Status: simulator.Ptr("twilio-rejected"), FriendlyName: simulator.Ptr("E2E Old Draft"),
			DateUpdated: ago(400 * 24 * time.Hour), Errors: []simulator.ErrorCode{{Code: 22216}}})
	for i := range 2 {
		m.assignments[kinds.CustomerProfiles] = append(m.assignments[kinds.CustomerProfiles], simulator.ServedAssignment{
			SID: simulator.Ptr(fmt.Sprintf("RAe2e%029d", i)), CustomerProfileSID: simulator.Ptr(rejectedSID),
			ChannelEndpointType: simulator.Ptr("phone-number"), ChannelEndpointSID: simulator.Ptr(fmt.Sprintf("PNe2e%029d", i)),
		})
	}
	const service = "MGe2e00000000000000000000000000001"
	m.messaging.Brands = append(m.messaging.Brands, simulator.SuspendedBrand(suspendedBrandSID, suspendedBrandTCRID, *m.trustProducts[0].SID, now.Add(-time.Hour).Truncate(time.Second)))
	m.messaging.Services = append(m.messaging.Services, simulator.ServedService{SID: simulator.Ptr(service), USAppToPersonRegistered: simulator.Ptr(true)})
	m.messaging.Campaigns = append(m.messaging.Campaigns, simulator.ServedCampaign{
		SID: simulator.Ptr("QEe2e00000000000000000000000000001"), MessagingServiceSID: simulator.Ptr(service), BrandRegistrationSID: simulator.Ptr(suspendedBrandSID),
		CampaignID: simulator.Ptr("CE2E01"), USAppToPersonUsecase: simulator.Ptr("MARKETING"), CampaignStatus: simulator.Ptr("SUSPENDED"),
		Errors: []simulator.ErrorCode{simulator.MessagingError(simulator.ErrorBrandSuspended)}, DateUpdated: ago(time.Hour),
	})
	for i := range 3 {
		m.messaging.PhoneNumbers = append(m.messaging.PhoneNumbers, simulator.ServedPhoneNumber{SID: simulator.Ptr(fmt.Sprintf("PNe2e1%028d", i)), ServiceSID: simulator.Ptr(service)})
	}
	m.messaging.Verifications = append(m.messaging.Verifications, simulator.ServedVerification{
		SID: simulator.Ptr(closingSID), Status: simulator.Ptr("TWILIO_REJECTED"), ErrorCode: []byte("30445"), TollfreePhoneNumber: simulator.Ptr("+18335550199"),
		BusinessName: simulator.Ptr("E2E Closing"), EditAllowed: simulator.Ptr(true), EditExpiration: simulator.Ptr(now.Add(24 * time.Hour).Truncate(time.Second)),
		DateUpdated: ago(3 * time.Hour),
	})
	return out
}

// serve puts the estate on a simulator.
func serve(estate []*estateAccount) *simulator.Server {
	sim := simulator.New()
	for _, a := range estate {
		sim.AddAccount(a.sid, a.token, a.profiles)
		sim.SetObjects(a.sid, kinds.TrustProducts, a.trustProducts)
		for k, as := range a.assignments {
			sim.SetAssignments(a.sid, k, as)
		}
		sim.SetMessaging(a.sid, a.messaging)
	}
	return sim
}

// pages are the (alertname, account) pairs the shipped alerts must page
// for at now, worked out here from the served objects, apart from the
// rules: an object with a problem that something watched uses (phone
// numbers assigned to it, a brand built on it, a verification that names
// it, campaigns under it, numbers in its campaign's service), and a
// rejected toll-free verification whose edit window closes within 48
// hours. A campaign under a suspended brand pages nobody: the brand's page
// stands for it.
func pages(estate []*estateAccount, now time.Time) []string {
	set := map[string]bool{}
	add := func(alert, account string) { set[alert+" "+account] = true }
	for _, a := range estate {
		used := map[string]bool{}
		for _, as := range a.assignments {
			for _, x := range as {
				used[deref(x.CustomerProfileSID)+deref(x.TrustProductSID)] = true
			}
		}
		for _, b := range a.messaging.Brands {
			used[deref(b.CustomerProfileBundleSID)], used[deref(b.A2PProfileBundleSID)] = true, true
		}
		for _, v := range a.messaging.Verifications {
			used[deref(v.CustomerProfileSID)], used[deref(v.TrustProductSID)] = true, true
		}
		numbers := map[string]int{}
		for _, n := range a.messaging.PhoneNumbers {
			numbers[deref(n.ServiceSID)]++
		}
		campaignUsed := map[string]bool{}
		for _, c := range a.messaging.Campaigns {
			used[deref(c.BrandRegistrationSID)] = true
			campaignUsed[deref(c.SID)] = numbers[deref(c.MessagingServiceSID)] > 0
		}
		for _, b := range []struct {
			objects []simulator.ServedObject
			prefix  string
		}{{a.profiles, "Profile"}, {a.trustProducts, "TrustProduct"}} {
			for _, o := range b.objects {
				if !used[deref(o.SID)] {
					continue
				}
				switch {
				case deref(o.Status) == "twilio-rejected":
					add("TwilioTrustHub"+b.prefix+"Rejected", a.name)
				case deref(o.Status) != "twilio-approved" || o.ValidUntil == nil:
				case !o.ValidUntil.After(now):
					add("TwilioTrustHub"+b.prefix+"Expired", a.name)
				case o.ValidUntil.Sub(now) <= 7*24*time.Hour:
					add("TwilioTrustHub"+b.prefix+"ExpiringVerySoon", a.name)
				}
			}
		}
		for _, b := range a.messaging.Brands {
			switch st := deref(b.Status); {
			case !used[deref(b.SID)]:
			case st == "SUSPENDED":
				add("TwilioTrustHubA2PBrandSuspended", a.name)
			case st == "FAILED":
				add("TwilioTrustHubA2PBrandFailed", a.name)
			}
		}
		suspended := map[string]bool{}
		for _, b := range a.messaging.Brands {
			suspended[deref(b.SID)] = deref(b.Status) == "SUSPENDED"
		}
		for _, c := range a.messaging.Campaigns {
			// A suspended brand stands for its campaigns (the example's
			// inhibition): its page says what they stop.
			if st := deref(c.CampaignStatus); st != "" && st != "VERIFIED" && st != "IN_PROGRESS" && campaignUsed[deref(c.SID)] && !suspended[deref(c.BrandRegistrationSID)] {
				add("TwilioTrustHubA2PCampaignNotVerified", a.name)
			}
		}
		for _, v := range a.messaging.Verifications {
			if deref(v.Status) == "TWILIO_REJECTED" && v.EditExpiration != nil && v.EditExpiration.After(now) && v.EditExpiration.Sub(now) <= 48*time.Hour {
				add("TwilioTrustHubTollfreeVerificationEditWindowClosing", a.name)
			}
		}
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// mixinRules generates the rules from the mixin with config (see
// proctest.Mixin).
func mixinRules(t *testing.T, config string) string {
	t.Helper()
	return proctest.Mixin(t, config)
}
