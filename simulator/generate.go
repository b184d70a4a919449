package simulator

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
)

// DemoErrorCodes are the error codes Generate gives rejected profiles. They
// are made up for the simulation.
var DemoErrorCodes = []int64{22215, 22216, 22217, 22218, 22219}

// Generate makes n plausible profiles for an account, the same ones for the
// same seed and now: in every status, about half approved; of the approved,
// some expired, some expiring within 7 and 30 days; the rejected with one or
// two error codes; drafts without valid_until; a few with null names.
func Generate(accountSID string, n int, now time.Time, seed uint64) []ServedObject {
	// Seeded, so the same data every time: nothing here is a secret.
	rng := rand.New(rand.NewPCG(seed, 0x7275737468756221)) //nolint:gosec // G404
	policies := []string{
		fmt.Sprintf("RN%032x", rng.Uint64()),
		fmt.Sprintf("RN%032x", rng.Uint64()),
	}
	adjectives := []string{"Acme", "Blue", "Northern", "Golden", "Rapid", "Quiet", "Bright", "Prime"}
	nouns := []string{"Dental", "Logistics", "Bakery", "Clinic", "Motors", "Realty", "Fitness", "Travel"}
	day := 24 * time.Hour
	out := make([]ServedObject, 0, n)
	for i := range n {
		created := now.Add(-time.Duration(30+rng.IntN(700)) * day).Truncate(time.Second)
		updated := created.Add(time.Duration(rng.IntN(30*24)) * time.Hour)
		p := ServedObject{
			SID:          Ptr(fmt.Sprintf("BU%016x%016x", seed, uint64(i))),
			PolicySID:    Ptr(policies[i%len(policies)]),
			FriendlyName: Ptr(fmt.Sprintf("%s %s %04d", adjectives[rng.IntN(len(adjectives))], nouns[rng.IntN(len(nouns))], i)),
			Email:        Ptr(fmt.Sprintf("compliance+%d@example.com", i)),
			DateCreated:  Ptr(created),
		}
		switch r := rng.IntN(100); {
		case r < 50:
			p.Status = Ptr("twilio-approved")
			// Of the approved: 6% expired, 6% within a week, 12% within a
			// month, the rest up to a year ahead.
			var until time.Time
			switch e := rng.IntN(100); {
			case e < 6:
				until = now.Add(-time.Duration(1+rng.IntN(60*24)) * time.Hour)
			case e < 12:
				until = now.Add(time.Duration(1+rng.IntN(7*24-1)) * time.Hour)
			case e < 24:
				until = now.Add(time.Duration(7*24+1+rng.IntN(23*24-1)) * time.Hour)
			default:
				until = now.Add(time.Duration(31+rng.IntN(335)) * day)
			}
			p.ValidUntil = Ptr(until.Truncate(time.Second))
		case r < 65:
			p.Status = Ptr("twilio-rejected")
			p.Errors = []ErrorCode{{Code: DemoErrorCodes[rng.IntN(len(DemoErrorCodes))]}}
			if rng.IntN(3) == 0 {
				p.Errors = append(p.Errors, ErrorCode{Code: DemoErrorCodes[rng.IntN(len(DemoErrorCodes))]})
			}
		case r < 75:
			p.Status = Ptr("in-review")
			updated = now.Add(-time.Duration(rng.IntN(21*24)) * time.Hour)
		case r < 85:
			p.Status = Ptr("pending-review")
			updated = now.Add(-time.Duration(rng.IntN(14*24)) * time.Hour)
		default:
			p.Status = Ptr("draft")
		}
		if updated.After(now) {
			updated = now
		}
		p.DateUpdated = Ptr(updated.Truncate(time.Second))
		if i%97 == 0 {
			p.FriendlyName = nil // Twilio allows it; the exporter must cope.
		}
		out = append(out, p)
	}
	return out
}

// trustProductTypes name the demo's Trust Products, as Twilio's bundles are
// used: one policy each.
var trustProductTypes = []string{"A2P Messaging Profile", "SHAKEN/STIR", "CNAM", "Voice Integrity"}

// GenerateTrustProducts makes n plausible Trust Products, as Generate makes
// profiles (every status, some expiring or expired, the rejected with
// error codes), with sids of their own, and with the odd errors items the
// API reference allows: every third rejected one also carries an
// {"error_code": ...} item, a numeric string, a null or a word.
func GenerateTrustProducts(accountSID string, n int, now time.Time, seed uint64) []ServedObject {
	out := Generate(accountSID, n, now, seed|1<<32)
	odd := []string{`{"error_code": 30701}`, `"22216"`, `null`, `"rejected"`}
	rejected := 0
	for i := range out {
		p := &out[i]
		if p.FriendlyName != nil {
			p.FriendlyName = Ptr(trustProductTypes[i%len(trustProductTypes)] + " " + *p.FriendlyName)
		}
		if p.Status == nil || *p.Status != "twilio-rejected" {
			continue
		}
		if rejected%3 == 0 {
			p.Errors = append(p.Errors, ErrorCode{Raw: []byte(odd[rejected/3%len(odd)])})
		}
		rejected++
	}
	return out
}

// GenerateAssignments makes the channel endpoint assignments of bundles
// of kind k (Customer-Profiles or Trust Products), the same for the same
// seed: what uses each bundle, as an estate would have it. Most approved
// bundles carry phone numbers (fewer of those long expired: someone
// moved them); a few rejected or in review do, having been approved
// before; drafts carry none. So most rejections stop nothing, and some
// stop numbers in use.
func GenerateAssignments(k *kinds.Kind, bundles []ServedObject, now time.Time, seed uint64) []ServedAssignment {
	rng := rand.New(rand.NewPCG(seed, 0x617373696e676e21)) //nolint:gosec // G404: seeded on purpose
	var out []ServedAssignment
	for i, b := range bundles {
		if b.SID == nil || b.Status == nil {
			continue
		}
		var share int // in percent
		switch *b.Status {
		case "twilio-approved":
			share = 70
			if b.ValidUntil != nil && b.ValidUntil.Before(now) {
				share = 25
			}
		case "twilio-rejected":
			share = 4
		case "in-review", "pending-review":
			share = 10
		}
		if rng.IntN(100) >= share {
			continue
		}
		for j := range 1 + rng.IntN(5) {
			a := ServedAssignment{
				SID:                 Ptr(fmt.Sprintf("RA%016x%08x%08x", seed, uint32(i), uint32(j))),
				ChannelEndpointType: Ptr("phone-number"),
				ChannelEndpointSID:  Ptr(fmt.Sprintf("PN%016x%08x%08x", seed, uint32(i), uint32(j))),
				DateCreated:         b.DateCreated,
			}
			if k == kinds.TrustProducts {
				a.TrustProductSID = b.SID
			} else {
				a.CustomerProfileSID = b.SID
			}
			out = append(out, a)
		}
	}
	return out
}
