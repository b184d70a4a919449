package collector

import (
	"slices"
	"time"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/cache"
)

// ResourceCustomerProfiles names the kind of object an account's listing
// covers, as the status page shows it. It is the only kind listed today.
const ResourceCustomerProfiles = "Customer-Profiles"

// AccountStatus is what the status page shows of one listing.
type AccountStatus struct {
	Account  string
	Resource string
	State    cache.State
}

// Status returns every listing's state as this scrape saw it, in the
// configuration's order.
func (s *Scrape) Status() []AccountStatus {
	out := make([]AccountStatus, len(s.e.accounts))
	for i, a := range s.e.accounts {
		out[i] = AccountStatus{Account: a.entry.Name(), Resource: ResourceCustomerProfiles, State: s.states[i]}
	}
	return out
}

// Now is the time this scrape's expiry counts are relative to.
func (s *Scrape) Now() time.Time { return s.now }

// ExpiryWindow is the longest expiring_within_days window; 0 if none is
// configured.
func (e *Exporter) ExpiryWindow() time.Duration {
	if len(e.expiringDays) == 0 {
		return 0
	}
	return time.Duration(slices.Max(e.expiringDays)) * 24 * time.Hour
}
