package collector

import (
	"bytes"
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/cache"
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
		Entry:     cache.NewEntry(ctx, "main", list, cache.Options{TTL: time.Hour, Timeout: time.Minute, Now: clock}),
		Requests:  func() map[int]uint64 { return nil },
		Anomalies: NewAnomalyCounter("main", kinds.CustomerProfiles, nil),
	}
}

// streamed is what a scrape's per-object block is when written as it is
// formatted, never kept: what the kept block must be byte for byte.
func streamed(t *testing.T, s *Scrape, openMetrics bool) string {
	t.Helper()
	var b bytes.Buffer
	if err := s.streamText(&b, openMetrics); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func written(t *testing.T, s *Scrape, openMetrics bool) string {
	t.Helper()
	var b bytes.Buffer
	write := s.WriteProfiles
	if openMetrics {
		write = s.WriteProfilesOpenMetrics
	}
	if err := write(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestKeptBlock holds the kept per-object block to the streamed one as
// listings, accounts and formats change, and checks it is kept only as
// long as it can be served again.
func TestKeptBlock(t *testing.T) {
	one := snapshotOf(t, kinds.CustomerProfiles, []simulator.ServedObject{{SID: new("BU01"), Status: new("twilio-approved")}})
	two := snapshotOf(t, kinds.CustomerProfiles, []simulator.ServedObject{{SID: new("BU02"), Status: new("twilio-rejected")}})
	for _, openMetrics := range []bool{false, true} {
		t.Run(map[bool]string{false: "text", true: "openmetrics"}[openMetrics], func(t *testing.T) {
			r := &relisted{next: one, now: time.Unix(1e9, 0)}
			e := New([]Listing{r.listing(t)}, Options{PerObject: true})
			c := &e.textBlock
			if openMetrics {
				c = &e.openMetricsBlock
			}
			for _, step := range []struct {
				name string
				// change is done before the scrape.
				change func()
				want   string // a sid the block must name
				reused bool
			}{
				{"first scrape", func() {}, "BU01", false},
				{"same snapshot", func() {}, "BU01", true},
				{"clock moved, same listing", func() { r.set(one, time.Minute) }, "BU01", true},
				{"new listing", func() { r.set(two, time.Hour) }, "BU02", false},
				{"same accounts set again", func() { e.SetAccounts([]Listing{r.listing(t)}, nil) }, "BU02", false},
			} {
				step.change()
				before := c.b
				s := e.Scrape(context.Background())
				got := written(t, s, openMetrics)
				if want := streamed(t, s, openMetrics); got != want {
					t.Fatalf("%s: kept block\n%s\nwant the streamed one\n%s", step.name, got, want)
				}
				if !bytes.Contains([]byte(got), []byte(`sid="`+step.want+`"`)) {
					t.Errorf("%s: block %q does not name %s", step.name, got, step.want)
				}
				if reused := before != nil && &before[0] == &c.b[0]; reused != step.reused {
					t.Errorf("%s: block reused = %v, want %v", step.name, reused, step.reused)
				}
			}

			// A probe writes its own block and keeps nothing.
			kept := c.b
			p, ok := e.ScrapeAccount(context.Background(), "main")
			if !ok {
				t.Fatal("no account main")
			}
			if got, want := written(t, p, openMetrics), streamed(t, p, openMetrics); got != want {
				t.Errorf("probe block\n%s\nwant\n%s", got, want)
			}
			if &kept[0] != &c.b[0] {
				t.Error("a probe replaced the kept block")
			}

		})
	}
}

// TestKeptBlockDroppedWithSnapshot checks that a kept block goes when its
// snapshot is collected, without another scrape.
func TestKeptBlockDroppedWithSnapshot(t *testing.T) {
	r := &relisted{next: snapshotOf(t, kinds.CustomerProfiles, []simulator.ServedObject{{SID: new("BU01"), Status: new("twilio-approved")}}), now: time.Unix(1e9, 0)}
	e := New([]Listing{r.listing(t)}, Options{PerObject: true})
	if got := written(t, e.Scrape(context.Background()), false); got == "" {
		t.Fatal("no block written")
	}
	// A new listing replaces the snapshot in the entry; nothing else
	// holds it once the scrape that listed is dropped.
	r.set(&snapshot.Snapshot{Kind: kinds.CustomerProfiles}, time.Hour)
	e.v.listings[0].Entry.Get(context.Background())
	for range 100 {
		runtime.GC()
		e.textBlock.mu.Lock()
		gone := e.textBlock.b == nil
		e.textBlock.mu.Unlock()
		if gone {
			return
		}
		runtime.Gosched()
	}
	t.Error("the block outlived its snapshot")
}
