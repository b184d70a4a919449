// Package snapshot holds what one listing of an account's objects of one
// kind found, reduced to what the metrics need: counts by status and error
// code, the expiry times, and (optionally) a compact record per object.
package snapshot

import (
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
)

// UnknownStatus counts objects whose status is null or empty.
const UnknownStatus = kinds.UnknownStatus

// Record is the per-object record kept for per-object series and the
// status page. Its values are indexed by its kind's lists, so that a field
// added to a kind reaches every reader of a record without code here.
type Record struct {
	Kind   *kinds.Kind
	SID    string
	Status string
	// Labels are the values of the kind's InfoLabels, in their order.
	Labels []string
	// Values are the values of the kind's Values (dates as Unix seconds),
	// in their order; Values[i] is valid only when Has bit i is set.
	Values []float64
	Has    uint16
	// ErrorCodes holds each code of the object's errors once; nil when none.
	ErrorCodes []int64
	// Rejected: Status is rejected (kinds.Kind.IsRejected).
	Rejected bool
}

// A kind has at most as many values as Record.Has has bits.
var _ = func() int {
	for _, k := range kinds.All {
		if len(k.Values) > 16 {
			panic(k.Name + ": more values than a record holds")
		}
	}
	return 0
}()

// Value is the record's value of a date or number field, and whether it
// has one.
func (r *Record) Value(f kinds.Field) (float64, bool) {
	i := r.Kind.ValueIndex(f)
	if i < 0 || r.Has&(1<<i) == 0 {
		return 0, false
	}
	return r.Values[i], true
}

// Label is the record's value of an info label field; "" when it has none.
func (r *Record) Label(f kinds.Field) string {
	if i := r.Kind.LabelIndex(f); i >= 0 && i < len(r.Labels) {
		return r.Labels[i]
	}
	return ""
}

// Name names the object for people: the value of the kind's NameField.
func (r *Record) Name() string { return r.Label(r.Kind.NameField) }

// newRecord is the record of p, status being its canonical status, its
// labels and values written into the slices given (each of the kind's
// length), which it keeps. Its ErrorCodes are p's, which the caller
// copies to keep.
func newRecord(k *kinds.Kind, p *kinds.Object, status string, labels []string, values []float64) Record {
	rec := Record{Kind: k, SID: p.SID(), Status: status, Labels: labels, Values: values, ErrorCodes: p.ErrorCodes, Rejected: k.IsRejected(status)}
	for i, f := range k.InfoLabels {
		labels[i] = p.Strings[f]
	}
	for i, f := range k.Values {
		if v, ok := p.Value(f); ok {
			values[i] = v
			rec.Has |= 1 << i
		}
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
	// Usage is what uses each subject of the kind's Usage, by the sid
	// listed under; nil for a kind without one (see Builder.SetUsage).
	Usage map[string]Usage
	// usageOrder are Usage's sids, sorted.
	usageOrder []string
	// naming holds, for each sid named in one of the kind's References,
	// the objects naming it (see Naming); nil for a kind without
	// References. It grows with the objects that name another, brands,
	// campaigns and verifications, which are few beside profiles.
	naming map[string][]Dependent
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
	// labels and values are where kept records' Labels and Values are cut
	// from: one allocation per thousands of records, not one per record.
	labels slab[string]
	values slab[float64]
	// usageUntil, when not zero, collects the subjects of the kind's Usage:
	// objects not approved, or whose valid_until is at or before it.
	usageUntil float64
	subjects   map[string]float64
}

// slab hands out short slices of long ones.
type slab[T any] []T

// take returns a new slice of n elements.
func (s *slab[T]) take(n int) []T {
	if n == 0 {
		return nil
	}
	if cap(*s)-len(*s) < n {
		// Slabs double from small: a snapshot of a few objects keeps
		// no 4,096-element slab it never fills, which with 1,000 small
		// subaccounts held 63 MB.
		*s = make([]T, 0, max(n, min(4096, max(64, 2*cap(*s)))))
	}
	start := len(*s)
	*s = (*s)[:start+n]
	return (*s)[start : start+n : start+n]
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

// CollectSubjects has the builder note the subjects of the kind's Usage
// (see Subjects): every object that is not approved, or whose valid_until
// is within window of now. A kind without a Usage has none.
func (b *Builder) CollectSubjects(now time.Time, window time.Duration) {
	if b.s.Kind.Uses != nil {
		b.usageUntil, b.subjects = unix(now.Add(window)), map[string]float64{}
	}
}

// Add counts one object. It copies what it keeps, so p may be reused.
func (b *Builder) Add(p *kinds.Object) error {
	s := b.s
	sid := p.SID()
	if sid != "" {
		if _, dup := b.seen[sid]; dup {
			s.Duplicates++
			return nil
		}
		b.seen[sid] = struct{}{}
	}
	s.Total++
	b.anomalies.add(p)
	status := canonicalStatus(s.Kind, p.Strings[kinds.FieldStatus])
	s.Statuses[status]++
	s.attention.add(p, status)
	for _, c := range p.ErrorCodes {
		s.ErrorCodes[c]++
	}
	validUntil, expires := p.Value(kinds.FieldValidUntil)
	if expires {
		s.validUntil = append(s.validUntil, validUntil)
	}
	if len(s.Kind.References) > 0 && sid != "" {
		b.addNaming(p, sid)
	}
	if b.subjects != nil && (status != s.Kind.Approved || expires && validUntil <= b.usageUntil) {
		if subject := p.Strings[s.Kind.Uses.Subject]; subject != "" {
			updated, _ := p.Value(kinds.FieldDateUpdated)
			b.subjects[subject] = max(b.subjects[subject], updated)
		}
	}
	if b.keepRecords {
		rec := newRecord(s.Kind, p, status, b.labels.take(len(s.Kind.InfoLabels)), b.values.take(len(s.Kind.Values)))
		rec.ErrorCodes = nil
		if len(p.ErrorCodes) > 0 {
			rec.ErrorCodes = slices.Clone(p.ErrorCodes)
		}
		s.Records = append(s.Records, rec)
	}
	return nil
}

// Dependent is an object that names another in one of its kind's
// References: it is built on that other one.
type Dependent struct {
	SID string
	// Subject is the sid its usage is listed under (see kinds.Usage);
	// "" for a kind without one.
	Subject string
}

func (b *Builder) addNaming(p *kinds.Object, sid string) {
	s := b.s
	if s.naming == nil {
		s.naming = map[string][]Dependent{}
	}
	d := Dependent{SID: sid}
	if u := s.Kind.Uses; u != nil {
		d.Subject = p.Strings[u.Subject]
	}
	for i, r := range s.Kind.References {
		named := p.Strings[r.Field]
		// One object naming the same sid in two fields depends on it once.
		if named == "" || slices.ContainsFunc(s.Kind.References[:i], func(o kinds.Reference) bool { return p.Strings[o.Field] == named }) {
			continue
		}
		s.naming[named] = append(s.naming[named], d)
	}
}

// Naming returns the objects of the snapshot that name sid in one of
// their kind's References, in the order listed.
func (s *Snapshot) Naming(sid string) []Dependent { return s.naming[sid] }

// Subject is an object whose usage is to be listed (see kinds.Usage).
type Subject struct {
	// SID is the sid listed under.
	SID string
	// Updated is the latest date_updated of the objects that named it, as
	// Unix seconds (0 when none had one): a count made since it changed
	// can be reused.
	Updated float64
}

// Subjects returns the subjects collected (see CollectSubjects), by sid.
func (b *Builder) Subjects() []Subject {
	out := make([]Subject, 0, len(b.subjects))
	for sid, updated := range b.subjects {
		out = append(out, Subject{sid, updated})
	}
	slices.SortFunc(out, func(a, b Subject) int { return strings.Compare(a.SID, b.SID) })
	return out
}

// Usage is what uses one subject, as its last listing counted it: one
// count per value of the usage's By field (one count, By "", without
// one), in order of By.
type Usage []UsageCount

// UsageCount is one count of a Usage.
type UsageCount struct {
	By string
	N  int
}

// Total is the sum of the counts.
func (u Usage) Total() int {
	n := 0
	for _, c := range u {
		n += c.N
	}
	return n
}

// SetUsage records what uses the subjects, by sid: the figures known for
// the subjects collected, however old. It must come before Done.
func (b *Builder) SetUsage(usage map[string]Usage) {
	b.s.Usage, b.s.usageOrder = usage, slices.Sorted(maps.Keys(usage))
}

// EachUsage calls fn with what uses each subject, in sid order.
func (s *Snapshot) EachUsage(fn func(sid string, u Usage)) {
	for _, sid := range s.usageOrder {
		fn(sid, s.Usage[sid])
	}
}

// Done seals the snapshot; the builder must not be used afterwards. An
// empty listing gets the kind's one empty snapshot, shared: most
// subaccounts of an ISV have no object of most kinds, and at 10,000
// subaccounts their 40,000 empty snapshots held 35 MB. Sharing it also
// tells the collector's kept block that nothing changed.
func (b *Builder) Done() *Snapshot {
	s := b.s
	b.s, b.seen, b.labels, b.values, b.subjects = nil, nil, nil, nil, nil
	if s.Total == 0 && s.Duplicates == 0 && len(s.Usage) == 0 {
		return emptyOf(s.Kind)
	}
	slices.Sort(s.validUntil)
	s.validUntil = slices.Clip(s.validUntil)
	s.attention.seal()
	s.shareAttention()
	return s
}

// shareAttention makes the status page's records, when the snapshot keeps
// every record, the first of Records rather than copies of them: the
// rejected ones it keeps, then those by expiry, each in its order, then
// every other in the order listed. A small subaccount's records are all
// on the page, and the copies were as many as the records (35 MB at
// 10,000 subaccounts). The records are copied once more here, which also
// sheds the slack of their growth by doubling. Records whose sid is not
// unique (an answer without sids) keep the copies.
func (s *Snapshot) shareAttention() {
	if s.Records == nil {
		return
	}
	rejected, byExpiry := s.attention.rejected.recs, s.attention.byExpiry.recs
	pos, ok := s.positions(rejected, byExpiry)
	if !ok {
		s.Records = slices.Clip(s.Records)
		return
	}
	out := make([]Record, 0, len(s.Records))
	for _, r := range [][]Record{rejected, byExpiry} {
		for _, rec := range r {
			out = append(out, s.Records[pos[rec.SID]])
		}
	}
	for _, rec := range s.Records {
		if _, ok := pos[rec.SID]; !ok {
			out = append(out, rec)
		}
	}
	s.attention.rejected.recs = out[:len(rejected):len(rejected)]
	s.attention.byExpiry.recs = out[len(rejected) : len(rejected)+len(byExpiry) : len(rejected)+len(byExpiry)]
	s.Records = out
}

// positions returns where in Records each of the page's records is, by
// sid; ok is false unless each is there exactly once.
func (s *Snapshot) positions(page ...[]Record) (pos map[string]int, ok bool) {
	pos = map[string]int{}
	for _, r := range page {
		for _, rec := range r {
			if rec.SID == "" {
				return nil, false
			}
			pos[rec.SID] = -1
		}
	}
	found := 0
	for i := range s.Records {
		if p, ok := pos[s.Records[i].SID]; ok {
			if p != -1 { // a sid listed twice: cannot tell which is kept
				return nil, false
			}
			pos[s.Records[i].SID] = i
			found++
		}
	}
	return pos, found == len(pos) // else one kept for the page, yet not listed: never so
}

// empties holds each kind's empty snapshot, by *kinds.Kind.
var empties sync.Map

// emptyOf returns kind k's empty snapshot: what Done makes of a builder
// given nothing.
func emptyOf(k *kinds.Kind) *Snapshot {
	if s, ok := empties.Load(k); ok {
		return s.(*Snapshot)
	}
	s := NewBuilder(k, false).s
	s.attention.seal()
	got, _ := empties.LoadOrStore(k, s)
	return got.(*Snapshot)
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
