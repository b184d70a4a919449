package simulator

import (
	"crypto/rand"
	"fmt"
	"time"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
)

// EstateSubaccountSID is the SID of the i-th subaccount AddSubaccountEstate
// adds.
func EstateSubaccountSID(i int) string { return fmt.Sprintf("AC%032x", 0xe5a7e000+i) }

// AddSubaccountEstate adds n subaccounts under parent (an account added
// before), named "customer-0000" on, each with a token of its own, as an
// ISV's estate has them: every problemEvery-th one from the first with
// objects of every kind in every status (generated profiles, Trust
// Products, their channel endpoint assignments, brands, campaigns and
// toll-free verifications built on them), the others healthy, with three
// approved Customer-Profiles valid for most of a year and nothing else.
func (s *Server) AddSubaccountEstate(parent string, n, problemEvery int, now time.Time) {
	day := 24 * time.Hour
	for i := range n {
		sid := EstateSubaccountSID(i)
		s.AddSubaccount(parent, sid, fmt.Sprintf("customer-%04d", i), rand.Text())
		seed := uint64(0xe5a7e000 + i)
		if i%problemEvery != 0 {
			var profiles []ServedObject
			for j := range 3 {
				profiles = append(profiles, ServedObject{
					SID: Ptr(fmt.Sprintf("BU%016x%016x", seed, uint64(j))), FriendlyName: Ptr(fmt.Sprintf("Customer %04d profile %d", i, j)),
					Status: Ptr("twilio-approved"), ValidUntil: Ptr(now.Add(time.Duration(200+j*50) * day).Truncate(time.Second)),
					DateUpdated: Ptr(now.Add(-time.Duration(100+j) * day).Truncate(time.Second)),
				})
			}
			s.SetObjects(sid, kinds.CustomerProfiles, profiles)
			continue
		}
		profiles := Generate(sid, 40, now, seed)
		s.SetObjects(sid, kinds.CustomerProfiles, profiles)
		s.SetAssignments(sid, kinds.CustomerProfiles, GenerateAssignments(kinds.CustomerProfiles, profiles, now, seed))
		trustProducts := GenerateTrustProducts(sid, 8, now, seed)
		s.SetObjects(sid, kinds.TrustProducts, trustProducts)
		s.SetAssignments(sid, kinds.TrustProducts, GenerateAssignments(kinds.TrustProducts, trustProducts, now, seed))
		m := GenerateMessaging(4, now, seed, trustProducts)
		LinkProfiles(&m, profiles)
		s.SetMessaging(sid, m)
	}
}
