package usage

import (
	"context"
	"fmt"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	promconfig "github.com/prometheus/common/config"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/simulator"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/snapshot"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/twilio"
)

const (
	accountSID = "AC0123456789abcdef0123456789abcdef"
	token      = "usage-token"
)

// fixture serves three profiles' assignments: BU1 two phone numbers and a
// short code, BU2 none, BU3 one number; and two services' numbers.
func fixture(t *testing.T) (*simulator.Server, *twilio.Client) {
	t.Helper()
	sim := simulator.New()
	sim.AddAccount(accountSID, token, nil)
	var as []simulator.ServedAssignment
	for i, a := range []struct{ bundle, typ string }{{"BU1", "phone-number"}, {"BU1", "short-code"}, {"BU1", "phone-number"}, {"BU3", "phone-number"}} {
		as = append(as, simulator.ServedAssignment{SID: simulator.Ptr(fmt.Sprintf("RA%d", i)), CustomerProfileSID: simulator.Ptr(a.bundle),
			ChannelEndpointType: simulator.Ptr(a.typ), ChannelEndpointSID: simulator.Ptr(fmt.Sprintf("PN%d", i))})
	}
	sim.SetAssignments(accountSID, kinds.CustomerProfiles, as)
	var m simulator.Messaging
	for i := range 3 {
		m.PhoneNumbers = append(m.PhoneNumbers, simulator.ServedPhoneNumber{SID: simulator.Ptr(fmt.Sprintf("PN%d", i)), ServiceSID: simulator.Ptr("MG1")})
	}
	sim.SetMessaging(accountSID, m)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	c, err := twilio.New(twilio.Options{BaseURL: srv.URL, MessagingURL: srv.URL, PageSize: 2,
		Auth: &promconfig.BasicAuth{Username: accountSID, Password: token}, Retry: twilio.RetryPolicy{Attempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	return sim, c
}

func assignments(sid string) string { return kinds.CustomerProfileEndpoints.Path(sid) }

// Counts by type, paged (page size 2), each subject once, and the
// requests counted under the kind listed.
func TestCount(t *testing.T) {
	sim, c := fixture(t)
	u := New(c, kinds.CustomerProfiles, Options{MaxAge: time.Hour})
	got := u.Count(context.Background(), []snapshot.Subject{{SID: "BU1", Updated: 1}, {SID: "BU2", Updated: 1}, {SID: "BU3"}})
	want := map[string]snapshot.Usage{
		"BU1": {{By: "phone-number", N: 2}, {By: "short-code", N: 1}},
		"BU2": nil, // counted: nothing uses it
		"BU3": {{By: "phone-number", N: 1}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if n := sim.RequestsTo(assignments("BU1")); n != 2 {
		t.Errorf("BU1: %d requests, want its 2 pages", n)
	}
	if n := c.Requests(kinds.CustomerProfiles)[200]; n != 4 {
		t.Errorf("%d requests counted for customer_profiles, want 4", n)
	}
	if u.Errors() != 0 {
		t.Errorf("%d errors", u.Errors())
	}

	// A service's numbers are counted together: 0 when it has none.
	m := New(c, kinds.A2PCampaigns, Options{MaxAge: time.Hour})
	got = m.Count(context.Background(), []snapshot.Subject{{SID: "MG1"}, {SID: "MG2"}})
	want = map[string]snapshot.Usage{"MG1": {{N: 3}}, "MG2": {{N: 0}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("services: got %v, want %v", got, want)
	}
}

// A count is listed again only when its subject changed or it aged; what
// fails keeps its last count; what is no longer a subject is forgotten.
func TestCountKeepsAndRefreshes(t *testing.T) {
	clock := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		// between the two counts: the clock moves on, a fault is set.
		later time.Duration
		fault *simulator.Fault
		// second are the subjects of the second count.
		second []snapshot.Subject
		// requests are the requests of the second count, per subject.
		requests map[string]int64
		want     map[string]snapshot.Usage
		errors   uint64
	}{
		{name: "unchanged: no request", later: 20 * time.Minute,
			second:   []snapshot.Subject{{SID: "BU1", Updated: 1}, {SID: "BU3", Updated: 1}},
			requests: map[string]int64{"BU1": 0, "BU3": 0},
			want:     map[string]snapshot.Usage{"BU1": {{By: "phone-number", N: 2}, {By: "short-code", N: 1}}, "BU3": {{By: "phone-number", N: 1}}}},
		{name: "a changed subject is listed again", later: time.Minute,
			second:   []snapshot.Subject{{SID: "BU1", Updated: 2}, {SID: "BU3", Updated: 1}},
			requests: map[string]int64{"BU1": 2, "BU3": 0},
			want:     map[string]snapshot.Usage{"BU1": {{By: "phone-number", N: 2}, {By: "short-code", N: 1}}, "BU3": {{By: "phone-number", N: 1}}}},
		{name: "past the maximum age every count is listed again", later: time.Hour,
			second:   []snapshot.Subject{{SID: "BU1", Updated: 1}, {SID: "BU3", Updated: 1}},
			requests: map[string]int64{"BU1": 2, "BU3": 1},
			want:     map[string]snapshot.Usage{"BU1": {{By: "phone-number", N: 2}, {By: "short-code", N: 1}}, "BU3": {{By: "phone-number", N: 1}}}},
		{name: "a failed count keeps the last one", later: time.Hour,
			fault:    &simulator.Fault{Path: assignments("BU1"), Status: 500, Code: 20500},
			second:   []snapshot.Subject{{SID: "BU1", Updated: 1}, {SID: "BU3", Updated: 1}},
			requests: map[string]int64{"BU1": 1, "BU3": 1},
			want:     map[string]snapshot.Usage{"BU1": {{By: "phone-number", N: 2}, {By: "short-code", N: 1}}, "BU3": {{By: "phone-number", N: 1}}},
			errors:   1},
		{name: "a subject never counted that fails is left out", later: time.Minute,
			fault:    &simulator.Fault{Path: assignments("BU2"), Status: 403, Code: 20003},
			second:   []snapshot.Subject{{SID: "BU1", Updated: 1}, {SID: "BU2"}},
			requests: map[string]int64{"BU1": 0, "BU2": 1},
			want:     map[string]snapshot.Usage{"BU1": {{By: "phone-number", N: 2}, {By: "short-code", N: 1}}},
			errors:   1},
		{name: "a subject no longer named is forgotten, and counted afresh when it returns", later: time.Minute,
			second:   []snapshot.Subject{{SID: "BU1", Updated: 1}},
			requests: map[string]int64{"BU1": 0, "BU3": 0},
			want:     map[string]snapshot.Usage{"BU1": {{By: "phone-number", N: 2}, {By: "short-code", N: 1}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sim, c := fixture(t)
			now := clock
			u := New(c, kinds.CustomerProfiles, Options{MaxAge: time.Hour, Now: func() time.Time { return now }})
			u.Count(context.Background(), []snapshot.Subject{{SID: "BU1", Updated: 1}, {SID: "BU3", Updated: 1}})
			before := map[string]int64{}
			for _, sid := range []string{"BU1", "BU2", "BU3"} {
				before[sid] = sim.RequestsTo(assignments(sid))
			}
			now = now.Add(tc.later)
			if tc.fault != nil {
				sim.SetFault(*tc.fault)
			}
			got := u.Count(context.Background(), tc.second)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			for sid, n := range tc.requests {
				if d := sim.RequestsTo(assignments(sid)) - before[sid]; d != n {
					t.Errorf("%s: %d requests, want %d", sid, d, n)
				}
			}
			if u.Errors() != tc.errors {
				t.Errorf("%d errors, want %d", u.Errors(), tc.errors)
			}
			if tc.name == "a subject no longer named is forgotten, and counted afresh when it returns" {
				u.Count(context.Background(), []snapshot.Subject{{SID: "BU1", Updated: 1}, {SID: "BU3", Updated: 1}})
				if d := sim.RequestsTo(assignments("BU3")) - before["BU3"]; d != 1 {
					t.Errorf("BU3 returned: %d requests, want 1", d)
				}
			}
		})
	}
}

// Counts made together fall due apart: each is kept between half the
// maximum age and all of it.
func TestAgesSpread(t *testing.T) {
	u := New(nil, kinds.CustomerProfiles, Options{MaxAge: time.Hour})
	lo, hi := time.Hour, time.Duration(0)
	for i := range 1000 {
		a := u.age(fmt.Sprintf("BU%032x", i))
		lo, hi = min(lo, a), max(hi, a)
	}
	if lo < 30*time.Minute || hi > time.Hour || hi-lo < 25*time.Minute {
		t.Errorf("ages between %s and %s, want spread over 30m..1h", lo, hi)
	}
}

// At most FanOut subjects are listed at once, and a listing out of time
// stops: what is left keeps its last count and is counted as failed.
func TestCountBoundsAndDeadline(t *testing.T) {
	sim, c := fixture(t)
	sim.SetFault(simulator.Fault{Delay: 20 * time.Millisecond})
	var subjects []snapshot.Subject
	for i := range 4 * FanOut {
		subjects = append(subjects, snapshot.Subject{SID: fmt.Sprintf("BU%d", 100+i)})
	}
	u := New(c, kinds.CustomerProfiles, Options{MaxAge: time.Hour})
	u.Count(context.Background(), subjects)
	if n := sim.MaxInFlight(); n > FanOut || n < 2 {
		t.Errorf("%d requests in flight at most, want 2..%d", n, FanOut)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	fresh := New(c, kinds.CustomerProfiles, Options{MaxAge: time.Hour})
	got := fresh.Count(ctx, subjects)
	if len(got) == len(subjects) || fresh.Errors() == 0 || int(fresh.Errors())+len(got) != len(subjects) {
		t.Errorf("out of time: %d counted, %d failed, of %d", len(got), fresh.Errors(), len(subjects))
	}
}
