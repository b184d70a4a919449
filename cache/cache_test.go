package cache

import (
	"context"
	"errors"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/internal/objtest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/internal/proctest"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/snapshot"
)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// lister counts listings and fails or blocks on demand.
type lister struct {
	calls   atomic.Int64
	fail    atomic.Bool
	block   chan struct{} // when non-nil, a listing waits for it
	started chan struct{}
}

func (l *lister) list(ctx context.Context) (*snapshot.Snapshot, error) {
	n := l.calls.Add(1)
	if l.started != nil {
		l.started <- struct{}{}
	}
	if l.block != nil {
		select {
		case <-l.block:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if l.fail.Load() {
		return nil, errors.New("TrustHub answered HTTP 500")
	}
	b := snapshot.NewBuilder(kinds.CustomerProfiles, false)
	// The profile count tells which listing a snapshot came from.
	for range n {
		p := objtest.New("status", "draft")
		_ = b.Add(&p)
	}
	return b.Done(), nil
}

func newEntry(t *testing.T, l *lister, c *clock) *Entry {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return NewEntry(ctx, "main", l.list, Options{
		TTL: 5 * time.Minute, MaxStale: 30 * time.Minute, Timeout: time.Minute, FailureBackoff: 10 * time.Second, Now: c.Now,
	})
}

func total(st State) int {
	if st.Snapshot == nil {
		return -1
	}
	return st.Snapshot.Total
}

func TestTTL(t *testing.T) {
	l, c := &lister{}, &clock{t: time.Unix(1e9, 0)}
	a := newEntry(t, l, c)
	ctx := context.Background()

	if st := a.Get(ctx); !st.Up || total(st) != 1 || l.calls.Load() != 1 {
		t.Fatalf("first get: up %v, snapshot %d, listings %d", st.Up, total(st), l.calls.Load())
	}
	c.Advance(4 * time.Minute)
	if st := a.Get(ctx); total(st) != 1 || l.calls.Load() != 1 {
		t.Errorf("within the TTL: snapshot %d, listings %d; want the cached one and no listing", total(st), l.calls.Load())
	}
	c.Advance(time.Minute)
	if st := a.Get(ctx); total(st) != 2 || l.calls.Load() != 2 {
		t.Errorf("at the TTL: snapshot %d, listings %d; want a new listing", total(st), l.calls.Load())
	}
	if st := a.State(); st.LastSuccess != c.Now() {
		t.Errorf("last success = %s, want %s", st.LastSuccess, c.Now())
	}
}

// 100 scrapes on a cold cache share one listing.
func TestConcurrentGetsShareOneListing(t *testing.T) {
	l, c := &lister{block: make(chan struct{}), started: make(chan struct{}, 200)}, &clock{t: time.Unix(1e9, 0)}
	a := newEntry(t, l, c)
	var wg sync.WaitGroup
	var ups atomic.Int64
	for range 100 {
		wg.Go(func() {
			if a.Get(context.Background()).Up {
				ups.Add(1)
			}
		})
	}
	<-l.started
	// Let every scrape reach the wait before the listing ends.
	time.Sleep(100 * time.Millisecond)
	close(l.block)
	wg.Wait()
	if n := l.calls.Load(); n != 1 {
		t.Errorf("%d listings, want 1", n)
	}
	if ups.Load() != 100 {
		t.Errorf("%d of 100 scrapes saw up, want all", ups.Load())
	}
}

func TestFailureServesStaleWithinMaxStale(t *testing.T) {
	l, c := &lister{}, &clock{t: time.Unix(1e9, 0)}
	a := newEntry(t, l, c)
	ctx := context.Background()
	a.Get(ctx) // a good snapshot with 1 profile

	l.fail.Store(true)
	c.Advance(10 * time.Minute)
	st := a.Get(ctx)
	if st.Up || total(st) != 1 || !st.Completed {
		t.Errorf("after a failure: up %v, snapshot %d; want up false and the old snapshot", st.Up, total(st))
	}
	// The next try comes after the backoff, not after the TTL.
	a.Get(ctx)
	if n := l.calls.Load(); n != 2 {
		t.Errorf("%d listings, want 2: no retry within the backoff", n)
	}
	c.Advance(10 * time.Second)
	a.Get(ctx)
	if n := l.calls.Load(); n != 3 {
		t.Errorf("%d listings, want 3: a retry once the backoff has passed", n)
	}
	c.Advance(20*time.Minute - 10*time.Second) // the snapshot is now 30 minutes old
	if st := a.Get(ctx); st.Snapshot != nil || st.Up {
		t.Errorf("beyond max_stale: snapshot %d, up %v; want none, down", total(st), st.Up)
	}
	if st := a.State(); st.LastSuccess != time.Unix(1e9, 0) {
		t.Errorf("last success = %s, want the first listing's time", st.LastSuccess)
	}

	l.fail.Store(false)
	c.Advance(time.Minute) // past the backoff
	if st := a.Get(ctx); !st.Up || st.Snapshot == nil {
		t.Errorf("after recovery: up %v, snapshot %v", st.Up, st.Snapshot)
	}
}

// A scrape waits no longer than its context; the listing goes on and fills
// the cache for the next scrape.
func TestScrapeDeadlineDoesNotStopListing(t *testing.T) {
	l, c := &lister{block: make(chan struct{}), started: make(chan struct{}, 10)}, &clock{t: time.Unix(1e9, 0)}
	a := newEntry(t, l, c)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	st := a.Get(ctx)
	if st.Up || st.Completed || st.Snapshot != nil {
		t.Fatalf("before the first listing completes: %+v, want nothing", st)
	}
	<-l.started
	close(l.block)
	// The listing finishes in the background.
	deadline := time.Now().Add(10 * time.Second)
	for !a.State().Up {
		if time.Now().After(deadline) {
			t.Fatal("the listing never completed after its scrape gave up")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if st := a.Get(context.Background()); total(st) != 1 || l.calls.Load() != 1 {
		t.Errorf("next scrape: snapshot %d, listings %d; want the background result and no new listing", total(st), l.calls.Load())
	}
}

func TestListingTimeout(t *testing.T) {
	l, c := &lister{block: make(chan struct{})}, &clock{t: time.Unix(1e9, 0)}
	defer close(l.block)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a := NewEntry(ctx, "main", l.list, Options{TTL: time.Minute, Timeout: 30 * time.Millisecond, Now: c.Now})
	st := a.Get(context.Background())
	if st.Up || !st.Completed || st.Duration < 30*time.Millisecond {
		t.Errorf("a listing past its timeout: up %v, completed %v, duration %s", st.Up, st.Completed, st.Duration)
	}
	a.mu.Lock()
	err := a.fail.lastErr
	a.mu.Unlock()
	if err == nil || err.Error() != "listing did not finish within timeout 30ms: context deadline exceeded" {
		t.Errorf("error = %v", err)
	}
}

// The limiter bounds listings across accounts.
func TestLimiter(t *testing.T) {
	var running, peak atomic.Int64
	list := func(ctx context.Context) (*snapshot.Snapshot, error) {
		n := running.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
		running.Add(-1)
		return snapshot.NewBuilder(kinds.CustomerProfiles, false).Done(), nil
	}
	opts := Options{TTL: time.Minute, Timeout: time.Minute, Limiter: NewLimiter(2)}
	var wg sync.WaitGroup
	for range 6 {
		a := NewEntry(context.Background(), "a", list, opts)
		wg.Go(func() { a.Get(context.Background()) })
	}
	wg.Wait()
	if p := peak.Load(); p > 2 || p < 1 {
		t.Errorf("peak concurrent listings = %d, want at most 2", p)
	}
}

// Failed listings are spaced out, doubling up to the TTL, and a healed API
// is seen at the next try, without waiting for the TTL.
func TestFailureBackoff(t *testing.T) {
	l, c := &lister{}, &clock{t: time.Unix(1e9, 0)}
	a := newEntry(t, l, c)
	ctx := context.Background()
	l.fail.Store(true)
	a.Get(ctx)
	for _, wait := range []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second, 160 * time.Second, 5 * time.Minute, 5 * time.Minute} {
		before := l.calls.Load()
		c.Advance(wait - time.Second)
		a.Get(ctx)
		if l.calls.Load() != before {
			t.Fatalf("listed %s before the %s backoff ended", time.Second, wait)
		}
		c.Advance(time.Second)
		a.Get(ctx)
		if l.calls.Load() != before+1 {
			t.Fatalf("did not list when the %s backoff ended", wait)
		}
	}
	l.fail.Store(false)
	c.Advance(5 * time.Minute)
	if st := a.Get(ctx); !st.Up {
		t.Error("not up after the API healed")
	}
	// After a success the failure count starts again: a new failure waits 10s.
	c.Advance(5 * time.Minute)
	l.fail.Store(true)
	a.Get(ctx)
	before := l.calls.Load()
	c.Advance(10 * time.Second)
	a.Get(ctx)
	if l.calls.Load() != before+1 {
		t.Error("the backoff did not start again from its base after a success")
	}
}

// Failures are counted by reason and logged once at error level.
func TestErrorCountsAndLogging(t *testing.T) {
	l, c := &lister{}, &clock{t: time.Unix(1e9, 0)}
	var logs proctest.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reason := "server"
	a := NewEntry(ctx, "main", l.list, Options{
		TTL: time.Minute, Timeout: time.Minute, Now: c.Now,
		Reason: func(error) string { return reason },
		Logger: level.NewFilter(log.NewLogfmtLogger(&logs), level.AllowInfo()),
	})
	l.fail.Store(true)
	for range 3 {
		a.Get(context.Background())
	}
	reason = "auth"
	a.Get(context.Background())
	a.Get(context.Background())
	l.fail.Store(false)
	a.Get(context.Background())

	if got := a.State().Errors; got["server"] != 3 || got["auth"] != 2 || len(got) != 2 {
		t.Errorf("errors = %v, want server 3, auth 2", got)
	}
	out := logs.String()
	if n := strings.Count(out, `msg="listing failed"`); n != 2 {
		t.Errorf("%d error lines, want 2 (one per reason):\n%s", n, out)
	}
	if !strings.Contains(out, `msg="listing recovered" account=main after_failures=5`) {
		t.Errorf("no recovery line:\n%s", out)
	}
}
