// Package usage lists what uses the objects that have a problem: the
// channel endpoints (phone numbers) assigned to a Customer-Profile or a
// Trust Product, the phone numbers of an A2P campaign's Messaging Service
// (see kinds.Usage). A rejection or an expiry stops what uses the object;
// these counts say whether that is anything, and so whether an alert
// pages.
//
// Each subject costs one listing of its own, so the counts are kept
// between listings of the kind: a subject is listed again only when an
// object that names it changed (its date_updated) or when its count is
// older than the maximum age (assigning a number to a bundle may not
// touch the bundle). An unchanged estate then costs no request between
// those refreshes. A failed count keeps the subject's last one, and never
// fails the listing it is part of.
package usage

import (
	"cmp"
	"context"
	"hash/maphash"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"golang.org/x/sync/errgroup"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/snapshot"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/twilio"
)

// FanOut is how many subjects of one listing are counted at once, within
// the one slot of max_concurrent_listings the listing holds: as many as a
// listing of campaigns lists services at once.
const FanOut = twilio.ParentFanOut

// Client lists the items under one subject (twilio.Client.ListUnder).
type Client interface {
	ListUnder(ctx context.Context, counted, sub *kinds.Kind, sid string, fn func(*kinds.Object) error) (int, error)
}

// Counter keeps the counts of one kind's subjects in one account.
type Counter struct {
	client Client
	kind   *kinds.Kind
	maxAge time.Duration
	now    func() time.Time
	logger log.Logger
	seed   maphash.Seed

	mu    sync.Mutex
	known map[string]entry
	// errors counts the subjects whose listing failed, as a float64 for
	// Prometheus.
	errors atomic.Uint64
}

// entry is a subject's last count.
type entry struct {
	usage snapshot.Usage
	// updated is the subject's date_updated the count was made for, at
	// is when it was made.
	updated float64
	at      time.Time
}

// Options configure a Counter.
type Options struct {
	// MaxAge is the longest a count is kept for a subject that did not
	// change.
	MaxAge time.Duration
	// Now is the clock; time.Now when nil.
	Now    func() time.Time
	Logger log.Logger
}

// New returns a Counter of kind k's usage (k.Uses must be set), listed
// through client.
func New(client Client, k *kinds.Kind, o Options) *Counter {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = log.NewNopLogger()
	}
	return &Counter{client: client, kind: k, maxAge: o.MaxAge, now: o.Now, logger: o.Logger, seed: maphash.MakeSeed(), known: map[string]entry{}}
}

// Errors is how many counts have failed so far.
func (c *Counter) Errors() uint64 { return c.errors.Load() }

// Count returns the usage of every subject: its known count while that is
// current, else a new one, FanOut subjects at a time within ctx. A subject
// whose listing fails keeps its known count; one never counted is left
// out. Subjects no longer named are forgotten.
func (c *Counter) Count(ctx context.Context, subjects []snapshot.Subject) map[string]snapshot.Usage {
	now := c.now()
	out := make(map[string]snapshot.Usage, len(subjects))
	var due []snapshot.Subject
	c.mu.Lock()
	for _, s := range subjects {
		e, ok := c.known[s.SID]
		if ok {
			out[s.SID] = e.usage
		}
		if !ok || e.updated != s.Updated || now.Sub(e.at) >= c.age(s.SID) {
			due = append(due, s)
		}
	}
	// What is no longer a subject (approved again, or gone) is dropped:
	// should it return, it is counted afresh.
	for sid := range c.known {
		if _, named := out[sid]; !named && !slices.ContainsFunc(due, func(s snapshot.Subject) bool { return s.SID == sid }) {
			delete(c.known, sid)
		}
	}
	c.mu.Unlock()
	if len(due) == 0 {
		return out
	}

	var mu sync.Mutex // guards out, failed and firstErr
	var failed int
	var firstErr error
	g := errgroup.Group{}
	g.SetLimit(FanOut)
	for i, s := range due {
		if ctx.Err() != nil {
			// Out of time: what is left keeps its last count.
			mu.Lock()
			failed += len(due) - i
			firstErr = cmp.Or(firstErr, ctx.Err())
			mu.Unlock()
			break
		}
		g.Go(func() error {
			u, err := c.list(ctx, s.SID)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed++
				firstErr = cmp.Or(firstErr, err)
				return nil
			}
			out[s.SID] = u
			c.mu.Lock()
			c.known[s.SID] = entry{usage: u, updated: s.Updated, at: now}
			c.mu.Unlock()
			return nil
		})
	}
	_ = g.Wait() // the goroutines return no error
	if failed > 0 {
		c.errors.Add(uint64(failed))
		// Once per listing, not per subject: a failing API would
		// otherwise log a line for every object with a problem.
		level.Warn(c.logger).Log("msg", "could not list what uses some objects; they keep their last known figure",
			"resource", c.kind.Name, "failed", failed, "of", len(due), "err", firstErr)
	}
	return out
}

// list counts what uses one subject.
func (c *Counter) list(ctx context.Context, sid string) (snapshot.Usage, error) {
	u := c.kind.Uses
	var counts snapshot.Usage
	_, err := c.client.ListUnder(ctx, c.kind, u.List, sid, func(o *kinds.Object) error {
		by := ""
		if u.CountsBy() {
			by = o.Strings[u.By]
		}
		i, found := slices.BinarySearchFunc(counts, by, func(c snapshot.UsageCount, by string) int { return strings.Compare(c.By, by) })
		if !found {
			counts = slices.Insert(counts, i, snapshot.UsageCount{By: by})
		}
		counts[i].N++
		return nil
	})
	if err != nil {
		return nil, err
	}
	if counts == nil && !u.CountsBy() {
		counts = snapshot.Usage{{}} // none, said as a count of 0
	}
	return counts, nil
}

// age is how long a subject's count is kept: between half the maximum age
// and all of it, spread by sid, so that the counts made in one listing do
// not all fall due in the same later one.
func (c *Counter) age(sid string) time.Duration {
	frac := float64(maphash.String(c.seed, sid)%1024) / 2048
	return time.Duration(float64(c.maxAge) * (0.5 + frac))
}
