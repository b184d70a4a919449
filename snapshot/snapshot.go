// Package snapshot holds what one listing of an account's objects of one
// kind found, reduced to what the metrics need: counts by status and error
// code, the expiry times, and (optionally) a compact record per object.
package snapshot

import (
	"slices"
	"sort"
	"time"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/trusthub"
)

// UnknownStatus counts objects whose status is null or empty.
const UnknownStatus = "unknown"

// Record is the per-object record kept for per-object series.
type Record struct {
	SID string
	// FriendlyName names the object for people: the value of the kind's
	// NameField.
	FriendlyName string
	// Labels are the values of the kind's InfoLabels, in their order.
	Labels []string
	Status string
	// ErrorCodes holds each code of the object's errors once; nil when none.
	ErrorCodes []int64
	// The dates are Unix seconds and Score a number, each valid only when
	// its Has flag says so.
	ValidUntil, EditExpiration, Updated, Score             float64
	HasValidUntil, HasEditExpiration, HasUpdated, HasScore bool
	// Rejected: Status is one of the kind's Rejected statuses.
	Rejected bool
}

// Value is the record's value of a date or number field, and whether it
// has one.
func (r *Record) Value(f kinds.Field) (float64, bool) {
	switch f {
	case kinds.FieldValidUntil:
		return r.ValidUntil, r.HasValidUntil
	case kinds.FieldEditExpiration:
		return r.EditExpiration, r.HasEditExpiration
	case kinds.FieldDateUpdated:
		return r.Updated, r.HasUpdated
	case kinds.FieldBrandScore:
		return r.Score, r.HasScore
	}
	return 0, false
}

// newRecord is the record of p, status being its canonical status. It
// shares p's Labels and ErrorCodes, which the caller copies to keep.
func newRecord(k *kinds.Kind, p *trusthub.Object, status string) Record {
	rec := Record{SID: p.SID, Labels: p.Labels, Status: status, ErrorCodes: p.ErrorCodes, Rejected: k.IsRejected(status)}
	if i := slices.Index(k.InfoLabels, k.NameField); i >= 0 && i < len(p.Labels) {
		rec.FriendlyName = p.Labels[i]
	}
	if !p.ValidUntil.IsZero() {
		rec.ValidUntil, rec.HasValidUntil = unix(p.ValidUntil), true
	}
	if !p.EditExpiration.IsZero() {
		rec.EditExpiration, rec.HasEditExpiration = unix(p.EditExpiration), true
	}
	if !p.DateUpdated.IsZero() {
		rec.Updated, rec.HasUpdated = unix(p.DateUpdated), true
	}
	if p.HasScore {
		rec.Score, rec.HasScore = float64(p.Score), true
	}
	return rec
}

// Snapshot is the immutable result of one successful listing.
type Snapshot struct {
	// Kind is the kind of the objects listed.
	Kind *kinds.Kind
	// Total is the number of distinct objects listed.
	Total int
	// Duplicates counts results skipped because their sid was already
	// listed, as happens when objects are added while the pages are read.
	Duplicates int
	// Statuses counts objects by status; every documented status of the
	// kind is present.
	Statuses map[string]int
	// ErrorCodes counts objects by error code.
	ErrorCodes map[int64]int
	// validUntil is every non-null valid_until, in Unix seconds, sorted, so
	// that "expiring within N days of now" is two binary searches at scrape
	// time rather than a count frozen at listing time.
	validUntil []float64
	// Records is nil unless the builder kept them.
	Records []Record
	// attention holds the status page's few records (see attention.go).
	attention attention
}

// Expired counts objects whose valid_until is at or before now.
func (s *Snapshot) Expired(now time.Time) int {
	return sort.Search(len(s.validUntil), func(i int) bool { return s.validUntil[i] > unix(now) })
}

// ExpiringWithin counts objects whose valid_until is after now and at most
// d after now.
func (s *Snapshot) ExpiringWithin(now time.Time, d time.Duration) int {
	end := sort.Search(len(s.validUntil), func(i int) bool { return s.validUntil[i] > unix(now.Add(d)) })
	return end - s.Expired(now)
}

func unix(t time.Time) float64 {
	return float64(t.Unix()) + float64(t.Nanosecond())/1e9
}

// Builder accumulates objects into a Snapshot. It is not safe for
// concurrent use.
type Builder struct {
	keepRecords bool
	s           *Snapshot
	seen        map[string]struct{}
	// anomalies outlives s: a failed listing has no snapshot, but what it
	// skipped was still seen (see Anomalies).
	anomalies Anomalies
	// labels is where kept records' Labels are cut from, a slab at a
	// time: one allocation per thousands of records, not one per record.
	labels []string
}

// NewBuilder starts a snapshot of objects of kind k; keepRecords keeps a
// record per object.
func NewBuilder(k *kinds.Kind, keepRecords bool) *Builder {
	s := &Snapshot{Kind: k, attention: attention{kind: k}, Statuses: make(map[string]int, len(k.Statuses)+1), ErrorCodes: map[int64]int{}}
	for _, st := range k.Statuses {
		s.Statuses[st] = 0
	}
	return &Builder{keepRecords: keepRecords, s: s, seen: map[string]struct{}{}}
}

// Add counts one object. It copies what it keeps, so p may be reused.
func (b *Builder) Add(p *trusthub.Object) error {
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
	status := canonicalStatus(s.Kind, p.Status)
	s.Statuses[status]++
	s.attention.add(p, status)
	for _, c := range p.ErrorCodes {
		s.ErrorCodes[c]++
	}
	if !p.ValidUntil.IsZero() {
		s.validUntil = append(s.validUntil, unix(p.ValidUntil))
	}
	if b.keepRecords {
		rec := newRecord(s.Kind, p, status)
		rec.ErrorCodes = nil
		if len(p.ErrorCodes) > 0 {
			rec.ErrorCodes = slices.Clone(p.ErrorCodes)
		}
		rec.Labels = b.keepLabels(p.Labels)
		s.Records = append(s.Records, rec)
	}
	return nil
}

// keepLabels copies labels into the builder's slab.
func (b *Builder) keepLabels(labels []string) []string {
	n := len(labels)
	if n == 0 {
		return nil
	}
	if cap(b.labels)-len(b.labels) < n {
		// Slabs double from small: a snapshot of a few objects keeps
		// no 4,096-string slab (64 KiB) it never fills, which with 1,000
		// small subaccounts held 63 MB.
		b.labels = make([]string, 0, max(n, min(4096, max(64, 2*cap(b.labels)))))
	}
	start := len(b.labels)
	b.labels = append(b.labels, labels...)
	return b.labels[start : start+n : start+n]
}

// Done seals the snapshot; the builder must not be used afterwards.
func (b *Builder) Done() *Snapshot {
	s := b.s
	b.s, b.seen, b.labels = nil, nil, nil
	slices.Sort(s.validUntil)
	s.validUntil = slices.Clip(s.validUntil)
	s.Records = slices.Clip(s.Records)
	s.attention.seal()
	return s
}

// canonicalStatus returns the shared constant for a documented status, so
// that a hundred thousand objects do not hold a hundred thousand copies.
func canonicalStatus(k *kinds.Kind, s string) string {
	if s == "" {
		return UnknownStatus
	}
	for _, st := range k.Statuses {
		if st == s {
			return st
		}
	}
	return s
}
