// Package snapshot holds what one listing of an account found, reduced to
// what the metrics need: counts by status and error code, the expiry times,
// and (optionally) a compact record per profile.
package snapshot

import (
	"slices"
	"sort"
	"time"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/trusthub"
)

// UnknownStatus counts profiles whose status is null or empty.
const UnknownStatus = "unknown"

// ProfileRecord is the per-profile record kept for per-profile series.
type ProfileRecord struct {
	SID          string
	FriendlyName string
	PolicySID    string
	Status       string
	// ErrorCodes holds each code of the profile's errors list once; nil when none.
	ErrorCodes []int64
	// ValidUntil and Updated are Unix seconds, valid only when the Has flags say so.
	ValidUntil    float64
	Updated       float64
	HasValidUntil bool
	HasUpdated    bool
}

// Snapshot is the immutable result of one successful listing.
type Snapshot struct {
	// Total is the number of distinct profiles listed.
	Total int
	// Duplicates counts results skipped because their sid was already
	// listed, as happens when profiles are added while the pages are read.
	Duplicates int
	// Statuses counts profiles by status; every documented status is present.
	Statuses map[string]int
	// ErrorCodes counts profiles by error code.
	ErrorCodes map[int64]int
	// validUntil is every non-null valid_until, in Unix seconds, sorted, so
	// that "expiring within N days of now" is two binary searches at scrape
	// time rather than a count frozen at listing time.
	validUntil []float64
	// Profiles is nil unless the builder kept them.
	Profiles []ProfileRecord
	// attention holds the status page's few records (see attention.go).
	attention attention
}

// Expired counts profiles whose valid_until is at or before now.
func (s *Snapshot) Expired(now time.Time) int {
	return sort.Search(len(s.validUntil), func(i int) bool { return s.validUntil[i] > unix(now) })
}

// ExpiringWithin counts profiles whose valid_until is after now and at most
// d after now.
func (s *Snapshot) ExpiringWithin(now time.Time, d time.Duration) int {
	end := sort.Search(len(s.validUntil), func(i int) bool { return s.validUntil[i] > unix(now.Add(d)) })
	return end - s.Expired(now)
}

func unix(t time.Time) float64 {
	return float64(t.Unix()) + float64(t.Nanosecond())/1e9
}

// Builder accumulates profiles into a Snapshot. It is not safe for
// concurrent use.
type Builder struct {
	keepProfiles bool
	s            *Snapshot
	seen         map[string]struct{}
	// anomalies outlives s: a failed listing has no snapshot, but what it
	// skipped was still seen (see Anomalies).
	anomalies Anomalies
}

// NewBuilder starts a snapshot; keepProfiles keeps a record per profile.
func NewBuilder(keepProfiles bool) *Builder {
	s := &Snapshot{Statuses: make(map[string]int, len(trusthub.Statuses)+1), ErrorCodes: map[int64]int{}}
	for _, st := range trusthub.Statuses {
		s.Statuses[st] = 0
	}
	return &Builder{keepProfiles: keepProfiles, s: s, seen: map[string]struct{}{}}
}

// Add counts one profile. It copies what it keeps, so p may be reused.
func (b *Builder) Add(p *trusthub.CustomerProfile) error {
	s := b.s
	if p.SID != "" {
		if _, dup := b.seen[p.SID]; dup {
			s.Duplicates++
			return nil
		}
		b.seen[p.SID] = struct{}{}
	}
	s.Total++
	b.anomalies.add(p)
	status := canonicalStatus(p.Status)
	s.Statuses[status]++
	s.attention.add(p, status)
	for _, c := range p.ErrorCodes {
		s.ErrorCodes[c]++
	}
	if !p.ValidUntil.IsZero() {
		s.validUntil = append(s.validUntil, unix(p.ValidUntil))
	}
	if b.keepProfiles {
		rec := ProfileRecord{SID: p.SID, FriendlyName: p.FriendlyName, PolicySID: p.PolicySID, Status: status}
		if len(p.ErrorCodes) > 0 {
			rec.ErrorCodes = slices.Clone(p.ErrorCodes)
		}
		if !p.ValidUntil.IsZero() {
			rec.ValidUntil, rec.HasValidUntil = unix(p.ValidUntil), true
		}
		if !p.DateUpdated.IsZero() {
			rec.Updated, rec.HasUpdated = unix(p.DateUpdated), true
		}
		s.Profiles = append(s.Profiles, rec)
	}
	return nil
}

// Done seals the snapshot; the builder must not be used afterwards.
func (b *Builder) Done() *Snapshot {
	s := b.s
	b.s, b.seen = nil, nil
	slices.Sort(s.validUntil)
	s.validUntil = slices.Clip(s.validUntil)
	s.Profiles = slices.Clip(s.Profiles)
	s.attention.seal()
	return s
}

// canonicalStatus returns the shared constant for a documented status, so
// that a hundred thousand profiles do not hold a hundred thousand copies.
func canonicalStatus(s string) string {
	if s == "" {
		return UnknownStatus
	}
	for _, st := range trusthub.Statuses {
		if st == s {
			return st
		}
	}
	return s
}
