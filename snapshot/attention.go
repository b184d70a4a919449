package snapshot

import (
	"cmp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/trusthub"
)

// RejectedStatus is the status of a profile Twilio refused.
const RejectedStatus = "twilio-rejected"

// AttentionLimit is how many records of each kind a snapshot keeps for the
// status page, whatever per_profile_metrics says: the page lists at most
// this many rows.
const AttentionLimit = 100

// attention keeps the few records the status page lists, in bounded memory:
// the AttentionLimit rejected profiles updated most recently, and the
// AttentionLimit other profiles with the earliest valid_until. Both orders
// are fixed when the listing is made, so whenever the page is rendered
// later, its first rows are among these: the profiles inside the expiry
// window at any moment are a prefix of the order by valid_until. A snapshot
// of 100,000 profiles thus holds 200 records here rather than 100,000.
type attention struct {
	rejected, byExpiry bounded
	// rejectedValidUntil is the sorted valid_until of rejected profiles,
	// which Snapshot.validUntil also holds: subtracted so that no profile
	// is counted twice on the page.
	rejectedValidUntil []float64
}

// bounded keeps the AttentionLimit most urgent records offered to it.
type bounded struct {
	recs []ProfileRecord
	// Once recs has been cut down, worst is the least urgent record kept
	// then: a record no more urgent than it can never be among the first,
	// so most offers end in one comparison, without a copy.
	worst ProfileRecord
	cut   bool
}

func (b *bounded) offer(rec *ProfileRecord) {
	if b.cut && CompareUrgency(rec, &b.worst) >= 0 {
		return
	}
	if len(rec.ErrorCodes) > 0 {
		rec.ErrorCodes = slices.Clone(rec.ErrorCodes) // the decoder may reuse it
	}
	b.recs = append(b.recs, *rec)
	// Cutting once per AttentionLimit additions keeps the memory at twice
	// the limit and the sorting rare.
	if len(b.recs) == 2*AttentionLimit {
		b.recs = mostUrgent(b.recs)
		b.worst, b.cut = b.recs[len(b.recs)-1], true
	}
}

// seal sorts what is kept and lets go of the rest.
func (b *bounded) seal() {
	b.recs = slices.Clip(mostUrgent(b.recs))
	b.worst = ProfileRecord{}
}

// add considers one profile, status being its canonical status. Only a
// rejected profile or one with a valid_until is offered.
func (a *attention) add(p *trusthub.CustomerProfile, status string) {
	rejected := status == RejectedStatus
	if !rejected && p.ValidUntil.IsZero() {
		return
	}
	rec := ProfileRecord{SID: p.SID, FriendlyName: p.FriendlyName, PolicySID: p.PolicySID, Status: status, ErrorCodes: p.ErrorCodes}
	if !p.ValidUntil.IsZero() {
		rec.ValidUntil, rec.HasValidUntil = unix(p.ValidUntil), true
	}
	if !p.DateUpdated.IsZero() {
		rec.Updated, rec.HasUpdated = unix(p.DateUpdated), true
	}
	if !rejected {
		a.byExpiry.offer(&rec)
		return
	}
	if rec.HasValidUntil {
		a.rejectedValidUntil = append(a.rejectedValidUntil, rec.ValidUntil)
	}
	a.rejected.offer(&rec)
}

func (a *attention) seal() {
	a.rejected.seal()
	a.byExpiry.seal()
	slices.Sort(a.rejectedValidUntil)
	a.rejectedValidUntil = slices.Clip(a.rejectedValidUntil)
}

// mostUrgent sorts rs by CompareUrgency and keeps the first AttentionLimit.
func mostUrgent(rs []ProfileRecord) []ProfileRecord {
	slices.SortFunc(rs, func(a, b ProfileRecord) int { return CompareUrgency(&a, &b) })
	if len(rs) <= AttentionLimit {
		return rs
	}
	clear(rs[AttentionLimit:]) // let the dropped records' strings be collected
	return rs[:AttentionLimit]
}

// CompareUrgency orders the status page's rows: rejected profiles first,
// the most recently updated first (one without date_updated last); then the
// others by valid_until, the earliest first, so that the expired come
// before the soonest to expire. Ties go by sid.
func CompareUrgency(a, b *ProfileRecord) int {
	ar, br := a.Status == RejectedStatus, b.Status == RejectedStatus
	switch {
	case ar && !br:
		return -1
	case br && !ar:
		return 1
	case ar:
		if c := compareTimes(b.Updated, b.HasUpdated, a.Updated, a.HasUpdated); c != 0 {
			return c // later first
		}
	default:
		if c := compareTimes(a.ValidUntil, a.HasValidUntil, b.ValidUntil, b.HasValidUntil); c != 0 {
			return c
		}
	}
	return strings.Compare(a.SID, b.SID)
}

// compareTimes orders x before y when x is earlier; an absent time is the
// smallest, so that it lands last in the "later first" order of rejections.
func compareTimes(x float64, hasX bool, y float64, hasY bool) int {
	switch {
	case hasX && hasY:
		return cmp.Compare(x, y)
	case hasX:
		return 1
	case hasY:
		return -1
	}
	return 0
}

// Needing is what needs action at one moment: the most urgent records, and
// how many profiles of each kind there are in all.
type Needing struct {
	// Rows are in CompareUrgency's order.
	Rows []ProfileRecord
	// Rejected counts the rejected profiles; Expired and Expiring the
	// others whose valid_until is at or before now, or after now and
	// within the window.
	Rejected, Expired, Expiring int
}

// Total is how many profiles need action.
func (n Needing) Total() int { return n.Rejected + n.Expired + n.Expiring }

// NeedingAction returns what needs action at now: the rejected profiles,
// then the others whose valid_until is at or before now+within (expired,
// or expiring within the window). It keeps at most limit rows (at most
// AttentionLimit).
func (s *Snapshot) NeedingAction(now time.Time, within time.Duration, limit int) Needing {
	limit = min(limit, AttentionLimit)
	upTo := func(t float64) int {
		// Rejected profiles are in validUntil too; they count as rejected.
		n := func(sorted []float64) int { return sort.Search(len(sorted), func(i int) bool { return sorted[i] > t }) }
		return n(s.validUntil) - n(s.attention.rejectedValidUntil)
	}
	end := unix(now.Add(within))
	expired := upTo(unix(now))
	n := Needing{Rejected: s.Statuses[RejectedStatus], Expired: expired, Expiring: upTo(end) - expired}

	n.Rows = make([]ProfileRecord, 0, min(limit, n.Total()))
	rejected := s.attention.rejected.recs
	n.Rows = append(n.Rows, rejected[:min(limit, len(rejected))]...)
	for _, p := range s.attention.byExpiry.recs {
		if len(n.Rows) == limit || p.ValidUntil > end {
			break
		}
		n.Rows = append(n.Rows, p)
	}
	return n
}

// StatusCount is the number of profiles in one status.
type StatusCount struct {
	Status string
	N      int
}

// StatusCounts returns the counts by status in a stable order for people:
// the documented statuses in their review order, then any other by name.
func (s *Snapshot) StatusCounts() []StatusCount {
	out := make([]StatusCount, 0, len(s.Statuses))
	for _, st := range trusthub.Statuses {
		out = append(out, StatusCount{st, s.Statuses[st]})
	}
	var others []StatusCount
	for st, n := range s.Statuses {
		if !slices.Contains(trusthub.Statuses, st) {
			others = append(others, StatusCount{st, n})
		}
	}
	slices.SortFunc(others, func(a, b StatusCount) int { return strings.Compare(a.Status, b.Status) })
	return append(out, others...)
}
