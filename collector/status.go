package collector

import (
	"slices"
	"time"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/cache"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
)

// ListingStatus is what the status page shows of one listing.
type ListingStatus struct {
	Account string
	// Info names the account for people: Twilio's friendly name and the
	// parent of a discovered subaccount, whose Account is a bare SID.
	Info  AccountInfo
	Kind  *kinds.Kind
	State cache.State
}

// Status returns every listing's state as this scrape saw it, in the
// configuration's order: per account, per kind.
func (s *Scrape) Status() []ListingStatus {
	out := make([]ListingStatus, len(s.v.listings))
	for _, a := range s.v.accounts {
		for _, i := range a.listings {
			l := s.v.listings[i]
			out[i] = ListingStatus{Account: l.Account, Info: a.info, Kind: l.Kind, State: s.states[i]}
		}
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
