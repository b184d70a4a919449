package snapshot

import (
	"fmt"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/internal/objtest"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
)

var attNow = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func snapshotOf(keep bool, profiles []kinds.Object) *Snapshot {
	b := NewBuilder(kinds.CustomerProfiles, keep)
	for i := range profiles {
		_ = b.Add(&profiles[i])
	}
	return b.Done()
}

func sids(rows []Record) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.SID
	}
	return out
}

func TestNeedingAction(t *testing.T) {
	day := 24 * time.Hour
	rejected := func(sid string, updated time.Time, codes ...int64) kinds.Object {
		return objtest.New("sid", sid, "status", "twilio-rejected", "date_updated", updated, "errors", codes)
	}
	approved := func(sid string, until time.Time) kinds.Object {
		return objtest.New("sid", sid, "status", "twilio-approved", "valid_until", until)
	}
	for _, tc := range []struct {
		name     string
		profiles []kinds.Object
		within   time.Duration
		limit    int
		want     []string
		counts   [3]int // rejected, expired, expiring
	}{
		{
			name: "rejected newest first, one without date last, then by expiry",
			profiles: []kinds.Object{
				approved("BUsoon", attNow.Add(2*day)),
				rejected("BUold", attNow.Add(-30*day), 22215),
				approved("BUlong-expired", attNow.Add(-40*day)),
				rejected("BUnodate", time.Time{}),
				approved("BUfar", attNow.Add(300*day)), // outside the window
				rejected("BUnew", attNow.Add(-time.Hour), 22216, 22217),
				approved("BUjust-expired", attNow),
				objtest.New("sid", "BUdraft", "status", "draft"), // needs nothing
				approved("BUedge", attNow.Add(30*day)),
			},
			within: 30 * day, limit: 100,
			want:   []string{"BUnew", "BUold", "BUnodate", "BUlong-expired", "BUjust-expired", "BUsoon", "BUedge"},
			counts: [3]int{3, 2, 2},
		},
		{
			name: "the limit cuts the rows, not the counts",
			profiles: []kinds.Object{
				rejected("BUr1", attNow.Add(-2*day)), rejected("BUr2", attNow.Add(-day)),
				approved("BUe1", attNow.Add(-day)), approved("BUe2", attNow.Add(day)),
			},
			within: 7 * day, limit: 3,
			want:   []string{"BUr2", "BUr1", "BUe1"},
			counts: [3]int{2, 1, 1},
		},
		{
			name: "a rejected profile with a valid_until counts once, as rejected",
			profiles: []kinds.Object{
				objtest.New("sid", "BUrv", "status", "twilio-rejected", "valid_until", attNow.Add(-day), "date_updated", attNow.Add(-day)),
				approved("BUe", attNow.Add(-2*day)),
			},
			within: 7 * day, limit: 10,
			want:   []string{"BUrv", "BUe"},
			counts: [3]int{1, 1, 0},
		},
		{
			name:     "nothing needs action",
			profiles: []kinds.Object{approved("BUfar", attNow.Add(90*day)), objtest.New("sid", "BUd", "status", "draft")},
			within:   30 * day, limit: 10,
			want:   []string{},
			counts: [3]int{0, 0, 0},
		},
		{
			name:     "no window: only the expired",
			profiles: []kinds.Object{approved("BUe", attNow.Add(-time.Second)), approved("BUs", attNow.Add(time.Second))},
			within:   0, limit: 10,
			want:   []string{"BUe"},
			counts: [3]int{0, 1, 0},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, keep := range []bool{false, true} {
				n := snapshotOf(keep, tc.profiles).NeedingAction(attNow, tc.within, tc.limit)
				if got := sids(n.Rows); !slices.Equal(got, tc.want) {
					t.Errorf("per-profile %v: rows %v, want %v", keep, got, tc.want)
				}
				if got := [3]int{n.Rejected, n.Expired, n.Expiring}; got != tc.counts {
					t.Errorf("per-profile %v: rejected, expired, expiring = %v, want %v", keep, got, tc.counts)
				}
			}
		})
	}
}

// The snapshot keeps only AttentionLimit records of each kind, yet at any
// later moment its rows are exactly the first of all profiles in urgency
// order: checked against the full per-profile records, which the builder
// keeps when asked.
func TestNeedingActionMatchesAllProfiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2)) //nolint:gosec // G404: a reproducible fixture
	day := 24 * time.Hour
	var profiles []kinds.Object
	for i := range 3000 {
		p := objtest.New("sid", fmt.Sprintf("BU%05d", i), "status", "twilio-approved")
		switch r := rng.IntN(10); {
		case r < 3:
			objtest.Set(&p, "status", "twilio-rejected")
			if rng.IntN(20) > 0 {
				objtest.Set(&p, "date_updated", attNow.Add(-time.Duration(rng.IntN(400*24))*time.Hour))
			}
			if rng.IntN(10) == 0 {
				objtest.Set(&p, "valid_until", attNow.Add(time.Duration(rng.IntN(80*24)-40*24)*time.Hour))
			}
		case r < 9:
			objtest.Set(&p, "valid_until", attNow.Add(time.Duration(rng.IntN(200*24)-100*24)*time.Hour))
		default:
			objtest.Set(&p, "status", "draft")
		}
		profiles = append(profiles, p)
	}
	s := snapshotOf(true, profiles)
	if len(s.attention.rejected.recs) != AttentionLimit || len(s.attention.byExpiry.recs) != AttentionLimit {
		t.Fatalf("kept %d rejected and %d by expiry, want %d each", len(s.attention.rejected.recs), len(s.attention.byExpiry.recs), AttentionLimit)
	}
	for _, tc := range []struct {
		later  time.Duration
		within time.Duration
		limit  int
	}{
		{0, 30 * day, AttentionLimit}, {0, 30 * day, 40}, {90 * day, 30 * day, AttentionLimit},
		{200 * day, 7 * day, AttentionLimit}, {0, 0, 150}, {-50 * day, 0, 10},
	} {
		at := attNow.Add(tc.later)
		end, nowSecs := unix(at.Add(tc.within)), unix(at)
		var all []Record
		var want [3]int
		for _, p := range s.Records {
			validUntil, expires := p.Value(kinds.FieldValidUntil)
			switch {
			case p.Status == "twilio-rejected":
				want[0]++
			case expires && validUntil <= nowSecs:
				want[1]++
			case expires && validUntil <= end:
				want[2]++
			default:
				continue
			}
			all = append(all, p)
		}
		slices.SortFunc(all, func(a, b Record) int { return CompareUrgency(&a, &b) })
		wantRows := sids(all[:min(len(all), tc.limit, AttentionLimit)])

		n := s.NeedingAction(at, tc.within, tc.limit)
		if got := sids(n.Rows); !slices.Equal(got, wantRows) {
			t.Errorf("%s later, within %s, limit %d: rows differ from the first of all profiles\n got %v\nwant %v", tc.later, tc.within, tc.limit, got, wantRows)
		}
		if got := [3]int{n.Rejected, n.Expired, n.Expiring}; got != want {
			t.Errorf("%s later, within %s: counts %v, want %v", tc.later, tc.within, got, want)
		}
	}
}

func TestStatusCounts(t *testing.T) {
	s := snapshotOf(false, []kinds.Object{
		objtest.New("sid", "BU1", "status", "twilio-approved"), objtest.New("sid", "BU2", "status", "zz-new"), objtest.New("sid", "BU3", "status", "aa-new"), objtest.New("sid", "BU4"),
	})
	var got []string
	for _, c := range s.StatusCounts() {
		got = append(got, fmt.Sprintf("%s=%d", c.Status, c.N))
	}
	want := []string{"draft=0", "pending-review=0", "in-review=0", "twilio-approved=1", "twilio-rejected=0", "aa-new=1", UnknownStatus + "=1", "zz-new=1"}
	if !slices.Equal(got, want) {
		t.Errorf("status counts %v, want %v", got, want)
	}
}

// A campaign's status that Twilio does not document is rejected (its kind
// knows only the good ones): it is counted as it is listed.
func TestNeedingActionCountsEveryRejectedStatus(t *testing.T) {
	b := NewBuilder(kinds.A2PCampaigns, false)
	for _, o := range []kinds.Object{
		objtest.New("sid", "QE1", "status", "FAILED"),
		objtest.New("sid", "QE2", "status", "SUSPENDED"),
		objtest.New("sid", "QE3", "status", "IN_PROGRESS"),
		objtest.New("sid", "QE4", "status", "VERIFIED"),
		objtest.New("sid", "QE5"),
	} {
		_ = b.Add(&o)
	}
	n := b.Done().NeedingAction(attNow, 0, 10)
	if got := sids(n.Rows); n.Rejected != 2 || len(got) != 2 {
		t.Errorf("%d rejected, rows %v; want 2 and QE1, QE2", n.Rejected, got)
	}
}

// Kept has the expiring beside the rejected however many are rejected:
// NeedingAction's first rows would be rejected ones only.
func TestKept(t *testing.T) {
	day := 24 * time.Hour
	var profiles []kinds.Object
	for i := range 150 {
		profiles = append(profiles, objtest.New("sid", fmt.Sprintf("BUr%03d", i), "status", "twilio-rejected", "date_updated", attNow.Add(-time.Duration(i)*time.Hour)))
	}
	for i, d := range []time.Duration{-day, 2 * day, 20 * day, 40 * day} {
		profiles = append(profiles, objtest.New("sid", fmt.Sprintf("BUe%d", i), "status", "twilio-approved", "valid_until", attNow.Add(d)))
	}
	s := snapshotOf(false, profiles)
	rejected, expiring := s.Kept(attNow, 30*day)
	if len(rejected) != AttentionLimit || rejected[0].SID != "BUr000" || rejected[AttentionLimit-1].SID != "BUr099" {
		t.Errorf("kept rejected %d, from %s to %s; want the %d newest", len(rejected), rejected[0].SID, rejected[len(rejected)-1].SID, AttentionLimit)
	}
	if got := sids(expiring); !slices.Equal(got, []string{"BUe0", "BUe1", "BUe2"}) {
		t.Errorf("kept expiring %v, want those within 30 days, the earliest first", got)
	}
	if _, expiring := s.Kept(attNow, 0); len(expiring) != 1 {
		t.Errorf("without a window, %d kept expiring; want the one expired", len(expiring))
	}
	if n := s.NeedingAction(attNow, 30*day, AttentionLimit); sids(n.Rows)[AttentionLimit-1] != "BUr099" {
		t.Errorf("NeedingAction's rows end with %s", n.Rows[len(n.Rows)-1].SID)
	}
}
