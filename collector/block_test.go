package collector

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/cache"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/exposition"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/simulator"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/snapshot"
)

// relisted is one listing of account "main" whose next listing returns
// whatever next holds, once the clock has passed the TTL.
type relisted struct {
	mu   sync.Mutex
	next *snapshot.Snapshot
	now  time.Time
}

func (r *relisted) set(snap *snapshot.Snapshot, advance time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.next, r.now = snap, r.now.Add(advance)
}

func (r *relisted) listing(t *testing.T) Listing {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	list := func(context.Context) (*snapshot.Snapshot, error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.next, nil
	}
	clock := func() time.Time {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.now
	}
	return Listing{
		Account: "main", Kind: kinds.CustomerProfiles,
		Entry:    cache.NewEntry(ctx, "main", list, cache.Options{TTL: time.Hour, Timeout: time.Minute, Now: clock}),
		Requests: func(func(int, uint64) bool) {},
	}
}

// streamed is what a scrape's per-object block is when written as it is
// formatted, never kept: what the kept block must be byte for byte.
func streamed(t *testing.T, s *Scrape, format expfmt.Format) string {
	t.Helper()
	var b bytes.Buffer
	e := exposition.NewEncoder(&b, format)
	s.eachObject(e)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestKeptBlock holds the kept per-object block to the streamed one as
// listings, accounts and formats change. (That the block is kept, and
// dropped with a snapshot, is exposition.Cache's test.)
func TestKeptBlock(t *testing.T) {
	one := snapshotOf(t, kinds.CustomerProfiles, []simulator.ServedObject{{SID: new("BU01"), Status: new("twilio-approved")}})
	two := snapshotOf(t, kinds.CustomerProfiles, []simulator.ServedObject{{SID: new("BU02"), Status: new("twilio-rejected")}})
	for _, format := range []expfmt.Format{expfmt.FmtText, expfmt.FmtOpenMetrics_1_0_0} {
		t.Run(string(format), func(t *testing.T) {
			r := &relisted{next: one, now: time.Unix(1e9, 0)}
			e := New([]Listing{r.listing(t)}, Options{PerObject: true})
			for _, step := range []struct {
				name string
				// change is done before the scrape.
				change func()
				want   string // a sid the block must name
			}{
				{"first scrape", func() {}, "BU01"},
				{"same snapshot", func() {}, "BU01"},
				{"clock moved, same listing", func() { r.set(one, time.Minute) }, "BU01"},
				{"new listing", func() { r.set(two, time.Hour) }, "BU02"},
				{"same accounts set again", func() { e.SetAccounts([]Listing{r.listing(t)}, nil) }, "BU02"},
			} {
				step.change()
				s := e.Scrape(context.Background())
				got := objectsIn(t, s, format)
				if want := streamed(t, s, format); got != want {
					t.Fatalf("%s: kept block\n%s\nwant the streamed one\n%s", step.name, got, want)
				}
				if !strings.Contains(got, `sid="`+step.want+`"`) {
					t.Errorf("%s: block %q does not name %s", step.name, got, step.want)
				}
			}
			// A probe writes its own block, which is the same.
			p, ok := e.ScrapeAccount(context.Background(), "main")
			if !ok {
				t.Fatal("no account main")
			}
			if got, want := objectsIn(t, p, format), streamed(t, p, format); got != want {
				t.Errorf("probe block\n%s\nwant\n%s", got, want)
			}
			if got, want := objectsIn(t, e.Scrape(context.Background()), format), streamed(t, p, format); got != want {
				t.Errorf("after a probe, the kept block\n%s\nwant\n%s", got, want)
			}
		})
	}
}
