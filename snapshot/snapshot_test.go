package snapshot

import (
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/internal/objtest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
)

var now = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func build(keep bool, profiles ...kinds.Object) *Snapshot {
	b := NewBuilder(kinds.CustomerProfiles, keep)
	for i := range profiles {
		_ = b.Add(&profiles[i])
	}
	return b.Done()
}

func TestExpiryBoundaries(t *testing.T) {
	day := 24 * time.Hour
	s := build(false,
		objtest.New("sid", "BU1", "valid_until", now.Add(-day)),                      // expired
		objtest.New("sid", "BU2", "valid_until", now),                                // expired: at now counts as expired
		objtest.New("sid", "BU3", "valid_until", now.Add(time.Second)),               // within 1 day
		objtest.New("sid", "BU4", "valid_until", now.Add(7*day)),                     // within 7 days: the boundary is included
		objtest.New("sid", "BU5", "valid_until", now.Add(7*day+time.Nanosecond*1e6)), // just past 7 days
		objtest.New("sid", "BU6", "valid_until", now.Add(30*day)),                    // within 30
		objtest.New("sid", "BU7"),                                                    // null: never expires, never counts
	)
	if got := s.Expired(now); got != 2 {
		t.Errorf("expired = %d, want 2", got)
	}
	for _, tc := range []struct {
		days int
		want int
	}{{1, 1}, {7, 2}, {8, 3}, {30, 4}, {3650, 4}} {
		if got := s.ExpiringWithin(now, time.Duration(tc.days)*day); got != tc.want {
			t.Errorf("expiring within %d days = %d, want %d", tc.days, got, tc.want)
		}
	}
	// The same snapshot read later: the counts move with the clock.
	later := now.Add(8 * day)
	if got := s.Expired(later); got != 5 {
		t.Errorf("expired 8 days later = %d, want 5", got)
	}
}

func TestCounts(t *testing.T) {
	s := build(true,
		objtest.New("sid", "BU1", "status", "twilio-rejected", "errors", []int64{1, 2}),
		objtest.New("sid", "BU2", "status", "twilio-rejected", "errors", []int64{2}),
		objtest.New("sid", "BU1", "status", "draft"), // a repeat of BU1: skipped
		objtest.New("sid", "BU3", "status", "twilio-suspended"),
		objtest.New("sid", "", "status", ""),
		objtest.New("sid", "", "status", "draft"), // no sid: cannot be a repeat
	)
	want := map[string]int{"draft": 1, "pending-review": 0, "in-review": 0, "twilio-approved": 0, "twilio-rejected": 2, "twilio-suspended": 1, UnknownStatus: 1}
	if len(s.Statuses) != len(want) {
		t.Errorf("statuses = %v, want %v", s.Statuses, want)
	}
	for k, v := range want {
		if s.Statuses[k] != v {
			t.Errorf("status %q = %d, want %d", k, s.Statuses[k], v)
		}
	}
	if s.ErrorCodes[1] != 1 || s.ErrorCodes[2] != 2 || len(s.ErrorCodes) != 2 {
		t.Errorf("error codes = %v, want map[1:1 2:2]", s.ErrorCodes)
	}
	if s.Total != 5 || s.Duplicates != 1 || len(s.Records) != 5 {
		t.Errorf("total %d, duplicates %d, profiles kept %d; want 5, 1, 5", s.Total, s.Duplicates, len(s.Records))
	}
	if p := s.Records[0]; p.SID != "BU1" || p.Status != "twilio-rejected" {
		t.Errorf("first kept profile = %+v, want the first BU1", p)
	}
}

func TestProfilesOnlyWhenKept(t *testing.T) {
	s := build(false, objtest.New("sid", "BU1", "status", "draft"))
	if s.Records != nil {
		t.Errorf("profiles kept without per-profile metrics: %v", s.Records)
	}
}

// The decoder reuses the profile it hands over; the builder must copy.
func TestAddCopies(t *testing.T) {
	b := NewBuilder(kinds.CustomerProfiles, true)
	day1 := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	p := objtest.New("sid", "BU1", "status", "draft", "errors", []int64{7}, "friendly_name", "One", "valid_until", day1)
	_ = b.Add(&p)
	objtest.Set(&p, "sid", "BU2", "friendly_name", "Two", "valid_until", day1.Add(time.Hour))
	p.ErrorCodes[0] = 8
	_ = b.Add(&p)
	s := b.Done()
	if s.Records[0].SID != "BU1" || s.ErrorCodes[7] != 1 || s.ErrorCodes[8] != 1 {
		t.Errorf("profiles %v, codes %v", s.Records, s.ErrorCodes)
	}
	r := &s.Records[0]
	if v, ok := r.Value(kinds.FieldValidUntil); r.Name() != "One" || !ok || v != float64(day1.Unix()) || r.ErrorCodes[0] != 7 {
		t.Errorf("the first record changed with the object: %+v", r)
	}
}

// The objects naming another are found by the sid they name, each once,
// with the sid its usage is listed under; a kind without References names
// nothing.
func TestNaming(t *testing.T) {
	for _, tc := range []struct {
		k       *kinds.Kind
		objects []kinds.Object
		named   string
		want    []Dependent
	}{
		{kinds.BrandRegistrations, []kinds.Object{
			objtest.New("sid", "BN1", "customer_profile_bundle_sid", "BUp", "a2p_profile_bundle_sid", "BUt"),
			objtest.New("sid", "BN2", "customer_profile_bundle_sid", "BUp"),
			objtest.New("sid", "BN3", "a2p_profile_bundle_sid", "BUt"),
			objtest.New("sid", "BN4"),
		}, "BUp", []Dependent{{SID: "BN1"}, {SID: "BN2"}}},
		{kinds.BrandRegistrations, []kinds.Object{
			objtest.New("sid", "BN1", "customer_profile_bundle_sid", "BUsame", "a2p_profile_bundle_sid", "BUsame"),
		}, "BUsame", []Dependent{{SID: "BN1"}}},
		{kinds.A2PCampaigns, []kinds.Object{
			objtest.New("sid", "QE1", "brand_registration_sid", "BN1", "messaging_service_sid", "MG1"),
			objtest.New("sid", "QE2", "brand_registration_sid", "BN1", "messaging_service_sid", "MG2"),
		}, "BN1", []Dependent{{"QE1", "MG1"}, {"QE2", "MG2"}}},
		{kinds.TollfreeVerifications, []kinds.Object{
			objtest.New("sid", "HH1", "customer_profile_sid", "BUp", "trust_product_sid", "BUt"),
		}, "BUt", []Dependent{{SID: "HH1"}}},
		{kinds.CustomerProfiles, []kinds.Object{objtest.New("sid", "BU1", "policy_sid", "BUx")}, "BUx", nil},
	} {
		b := NewBuilder(tc.k, false)
		for i := range tc.objects {
			_ = b.Add(&tc.objects[i])
		}
		if got := b.Done().Naming(tc.named); !slices.Equal(got, tc.want) {
			t.Errorf("%s naming %s: %v, want %v", tc.k.Name, tc.named, got, tc.want)
		}
	}
}

// Every empty listing of a kind gets the one empty snapshot, with each
// documented status at 0; a listing with an object gets its own.
func TestEmptySnapshotShared(t *testing.T) {
	for _, k := range kinds.All {
		a, b := NewBuilder(k, true).Done(), NewBuilder(k, false).Done()
		if a != b {
			t.Errorf("%s: two empty listings, two snapshots", k.Name)
		}
		if a.Total != 0 || len(a.Statuses) != len(k.Statuses) || len(a.Records) != 0 {
			t.Errorf("%s: empty snapshot with %d objects, %d statuses (want %d), %d records", k.Name, a.Total, len(a.Statuses), len(k.Statuses), len(a.Records))
		}
		for _, st := range k.Statuses {
			if n, ok := a.Statuses[st]; !ok || n != 0 {
				t.Errorf("%s: status %s is %d, present %v; want 0", k.Name, st, n, ok)
			}
		}
	}
	one := build(true, objtest.New("sid", "BU1", "status", "twilio-approved"))
	if one == build(true) || one.Total != 1 || len(one.Records) != 1 {
		t.Errorf("a listing of one object: shared %v, %d objects, %d records", one == build(true), one.Total, len(one.Records))
	}
}

// A snapshot that keeps its records serves the status page's from them,
// not from copies: the page's records are the first of Records, and every
// object is still there once.
func TestAttentionSharesRecords(t *testing.T) {
	day := 24 * time.Hour
	s := build(true,
		objtest.New("sid", "BU1", "status", "twilio-approved", "valid_until", now.Add(30*day)),
		objtest.New("sid", "BU2", "status", "twilio-rejected", "date_updated", now.Add(-day)),
		objtest.New("sid", "BU3", "status", "twilio-approved"),
		objtest.New("sid", "BU4", "status", "twilio-approved", "valid_until", now.Add(2*day)),
	)
	rejected, expiring := s.Kept(now, 40*day)
	if len(rejected) != 1 || len(expiring) != 2 || rejected[0].SID != "BU2" || expiring[0].SID != "BU4" || expiring[1].SID != "BU1" {
		t.Fatalf("kept %v and %v", rejected, expiring)
	}
	if &rejected[0] != &s.Records[0] || &expiring[0] != &s.Records[1] {
		t.Error("the page's records are copies, not the snapshot's own")
	}
	var sids []string
	for _, r := range s.Records {
		sids = append(sids, r.SID)
	}
	if got := strings.Join(sids, " "); got != "BU2 BU4 BU1 BU3" {
		t.Errorf("records %s, want BU2 BU4 BU1 BU3", got)
	}
}
