package snapshot

import (
	"cmp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
)

// AttentionLimit is how many records of each kind a snapshot keeps for the
// status page, whatever per_object_metrics says: the page lists at most
// this many rows.
const AttentionLimit = 100

// attention keeps the few records the status page lists, in bounded memory:
// the AttentionLimit rejected objects updated most recently, and the
// AttentionLimit other objects with the earliest valid_until. Both orders
// are fixed when the listing is made, so whenever the page is rendered
// later, its first rows are among these: the objects inside the expiry
// window at any moment are a prefix of the order by valid_until. A snapshot
// of 100,000 objects thus holds 200 records here rather than 100,000.
type attention struct {
	kind *kinds.Kind
	// labels and values are scratch for the record offered.
	labels             []string
	values             []float64
	rejected, byExpiry bounded
	// rejectedValidUntil is the sorted valid_until of rejected objects,
	// which Snapshot.validUntil also holds: subtracted so that no object
	// is counted twice on the page.
	rejectedValidUntil []float64
}

// bounded keeps the AttentionLimit most urgent records offered to it.
type bounded struct {
	recs []Record
	// Once recs has been cut down, worst is the least urgent record kept
	// then: a record no more urgent than it can never be among the first,
	// so most offers end in one comparison, without a copy.
	worst Record
	cut   bool
}

func (b *bounded) offer(rec *Record) {
	if b.cut && CompareUrgency(rec, &b.worst) >= 0 {
		return
	}
	// The decoder reuses the codes; the labels and values are the
	// caller's scratch.
	if len(rec.ErrorCodes) > 0 {
		rec.ErrorCodes = slices.Clone(rec.ErrorCodes)
	}
	rec.Labels, rec.Values = slices.Clone(rec.Labels), slices.Clone(rec.Values)
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
	b.worst = Record{}
}

// add considers one object, status being its canonical status. Only a
// rejected object or one with a valid_until is offered.
func (a *attention) add(p *kinds.Object, status string) {
	rejected := a.kind.IsRejected(status)
	validUntil, expires := p.Value(kinds.FieldValidUntil)
	if !rejected && !expires {
		return
	}
	if a.labels == nil {
		a.labels, a.values = make([]string, len(a.kind.InfoLabels)), make([]float64, len(a.kind.Values))
	}
	rec := newRecord(a.kind, p, status, a.labels, a.values)
	if !rejected {
		a.byExpiry.offer(&rec)
		return
	}
	if expires {
		a.rejectedValidUntil = append(a.rejectedValidUntil, validUntil)
	}
	a.rejected.offer(&rec)
}

func (a *attention) seal() {
	a.labels, a.values = nil, nil
	a.rejected.seal()
	a.byExpiry.seal()
	slices.Sort(a.rejectedValidUntil)
	a.rejectedValidUntil = slices.Clip(a.rejectedValidUntil)
}

// mostUrgent sorts rs by CompareUrgency and keeps the first AttentionLimit.
func mostUrgent(rs []Record) []Record {
	slices.SortFunc(rs, func(a, b Record) int { return CompareUrgency(&a, &b) })
	if len(rs) <= AttentionLimit {
		return rs
	}
	clear(rs[AttentionLimit:]) // let the dropped records' strings be collected
	return rs[:AttentionLimit]
}

// CompareUrgency orders the status page's rows: rejected objects first,
// the most recently updated first (one without date_updated last); then the
// others by valid_until, the earliest first, so that the expired come
// before the soonest to expire. Ties go by sid.
func CompareUrgency(a, b *Record) int {
	ar, br := a.Rejected, b.Rejected
	switch {
	case ar && !br:
		return -1
	case br && !ar:
		return 1
	case ar:
		bu, hasBU := b.Value(kinds.FieldDateUpdated)
		au, hasAU := a.Value(kinds.FieldDateUpdated)
		if c := compareTimes(bu, hasBU, au, hasAU); c != 0 {
			return c // later first
		}
	default:
		av, hasAV := a.Value(kinds.FieldValidUntil)
		bv, hasBV := b.Value(kinds.FieldValidUntil)
		if c := compareTimes(av, hasAV, bv, hasBV); c != 0 {
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
// how many objects of each kind there are in all.
type Needing struct {
	// Rows are in CompareUrgency's order.
	Rows []Record
	// Rejected counts the rejected objects; Expired and Expiring the
	// others whose valid_until is at or before now, or after now and
	// within the window.
	Rejected, Expired, Expiring int
}

// Total is how many objects need action.
func (n Needing) Total() int { return n.Rejected + n.Expired + n.Expiring }

// NeedingAction returns what needs action at now: the rejected objects,
// then the others whose valid_until is at or before now+within (expired,
// or expiring within the window). It keeps at most limit rows (at most
// AttentionLimit).
func (s *Snapshot) NeedingAction(now time.Time, within time.Duration, limit int) Needing {
	limit = min(limit, AttentionLimit)
	upTo := func(t float64) int {
		// Rejected objects are in validUntil too; they count as rejected.
		n := func(sorted []float64) int { return sort.Search(len(sorted), func(i int) bool { return sorted[i] > t }) }
		return n(s.validUntil) - n(s.attention.rejectedValidUntil)
	}
	end := unix(now.Add(within))
	expired := upTo(unix(now))
	n := Needing{Expired: expired, Expiring: upTo(end) - expired}
	// Every status the rows count as rejected: for a kind with
	// KnownGood, all but those and the unknown. Looked up rather than
	// ranged over, as the status page does this for every listing.
	if good := s.Kind.KnownGood; len(good) > 0 {
		n.Rejected = s.Total - s.Statuses[UnknownStatus]
		for _, st := range good {
			n.Rejected -= s.Statuses[st]
		}
	} else {
		for _, st := range s.Kind.Rejected {
			n.Rejected += s.Statuses[st]
		}
	}

	n.Rows = make([]Record, 0, min(limit, n.Total()))
	rejected := s.attention.rejected.recs
	n.Rows = append(n.Rows, rejected[:min(limit, len(rejected))]...)
	for _, p := range s.attention.byExpiry.recs {
		if v, _ := p.Value(kinds.FieldValidUntil); len(n.Rows) == limit || v > end {
			break
		}
		n.Rows = append(n.Rows, p)
	}
	return n
}

// Kept returns every record the snapshot keeps that needs action at now:
// the rejected ones (the AttentionLimit updated most recently), and the
// others expired or expiring within the window (of the AttentionLimit
// with the earliest valid_until), each in CompareUrgency's order. Unlike
// NeedingAction's rows, which are the first of all objects in that order,
// they are what the status page can rank by something else (what uses
// each object) without the rejected crowding out the expiring. The
// slices are the snapshot's own: read them, never change them.
func (s *Snapshot) Kept(now time.Time, within time.Duration) (rejected, expiring []Record) {
	end := unix(now.Add(within))
	byExpiry := s.attention.byExpiry.recs
	n := sort.Search(len(byExpiry), func(i int) bool {
		v, _ := byExpiry[i].Value(kinds.FieldValidUntil)
		return v > end
	})
	return s.attention.rejected.recs, byExpiry[:n:n]
}

// StatusCount is the number of objects in one status.
type StatusCount struct {
	Status string
	N      int
}

// StatusCounts returns the counts by status in a stable order for people:
// the documented statuses in their review order, then any other by name.
func (s *Snapshot) StatusCounts() []StatusCount {
	out := make([]StatusCount, 0, len(s.Statuses))
	for _, st := range s.Kind.Statuses {
		out = append(out, StatusCount{st, s.Statuses[st]})
	}
	// Every documented status is in Statuses: when it holds no more,
	// there is no other to look for.
	if len(s.Statuses) == len(s.Kind.Statuses) {
		return out
	}
	var others []StatusCount
	for st, n := range s.Statuses {
		if !s.Kind.Documented(st) {
			others = append(others, StatusCount{st, n})
		}
	}
	slices.SortFunc(others, func(a, b StatusCount) int { return strings.Compare(a.Status, b.Status) })
	return append(out, others...)
}
