// Package cache serves each account's latest snapshot to scrapes, starting a
// listing when the snapshot is too old. Concurrent scrapes share one listing;
// a listing runs under its own timeout, detached from the scrape that started
// it, so that one which outlives its scrape still fills the cache.
package cache

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"golang.org/x/sync/singleflight"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/snapshot"
)

// ListFunc lists one account and reduces it to a snapshot.
type ListFunc func(ctx context.Context) (*snapshot.Snapshot, error)

// Options are the timings shared by every account.
type Options struct {
	// TTL: a snapshot younger than this is served without listing.
	TTL time.Duration
	// MaxStale: after a failed listing, a snapshot younger than this is still served.
	MaxStale time.Duration
	// Timeout bounds one whole listing.
	Timeout time.Duration
	// FailureBackoff spaces out listings after a failure: the first retry
	// waits this long, each further one twice as long, up to the TTL, so a
	// failing API is not hammered and a healed one is seen soon.
	FailureBackoff time.Duration
	// Reason classifies a failed listing for the error counter and the logs.
	Reason func(error) string
	// Limiter bounds the listings running at once, across accounts.
	Limiter chan struct{}
	// Now is the clock; time.Now when nil.
	Now    func() time.Time
	Logger log.Logger
}

// Account caches the listings of one account.
type Account struct {
	name string
	list ListFunc
	opts Options
	// ctx is the parent of every listing: cancelled on shutdown, not by a scrape.
	ctx   context.Context
	group singleflight.Group

	mu         sync.Mutex
	snap       *snapshot.Snapshot
	snapTime   time.Time
	lastErr    error
	lastReason string
	failures   int       // consecutive failed listings
	retryAt    time.Time // no listing before this after a failure
	completed  bool
	duration   time.Duration
	errors     map[string]uint64
	// failMsg and failTime describe the last failed listing, kept after a
	// recovery so that the status page can still say what went wrong.
	failMsg  string
	failTime time.Time
}

// State is what a scrape reports for an account.
type State struct {
	// Up: the last completed listing succeeded.
	Up bool
	// Completed: at least one listing has completed.
	Completed bool
	// Duration of the last completed listing.
	Duration time.Duration
	// LastSuccess is when the last successful listing completed; zero if none has.
	LastSuccess time.Time
	// Snapshot is the latest snapshot if it is young enough to serve, else nil.
	Snapshot *snapshot.Snapshot
	// Errors counts failed listings by reason.
	Errors map[string]uint64
	// LastError is the message of the last failed listing, even after a
	// later success; empty if none has failed. The listing's errors carry
	// no credentials (see trusthub), so it may be shown.
	LastError string
	// LastErrorTime is when that listing failed.
	LastErrorTime time.Time
}

// NewAccount makes the cache for one account. ctx bounds every listing it
// starts.
func NewAccount(ctx context.Context, name string, list ListFunc, opts Options) *Account {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = log.NewNopLogger()
	}
	if opts.Limiter == nil {
		opts.Limiter = make(chan struct{}, 1)
	}
	if opts.Reason == nil {
		opts.Reason = func(error) string { return "other" }
	}
	return &Account{name: name, list: list, opts: opts, ctx: ctx, errors: map[string]uint64{}}
}

// Name is the account's label value.
func (a *Account) Name() string { return a.name }

// Get returns the account's state, listing first if the snapshot is missing
// or older than the TTL, or if the last listing failed and its backoff has
// passed. It waits for the listing no longer than ctx allows; the listing
// itself goes on.
func (a *Account) Get(ctx context.Context) State {
	if a.due() {
		ch := a.group.DoChan("list", func() (any, error) {
			a.refresh()
			return nil, nil
		})
		select {
		case <-ch:
		case <-ctx.Done():
			level.Debug(a.opts.Logger).Log("msg", "scrape deadline reached before the listing finished; serving the cached state", "account", a.name)
		}
	}
	return a.State()
}

// due tells whether a scrape should start (or join) a listing.
func (a *Account) due() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.opts.Now()
	if a.lastErr != nil {
		return !now.Before(a.retryAt)
	}
	return a.snap == nil || now.Sub(a.snapTime) >= a.opts.TTL
}

// State reports the account without listing.
func (a *Account) State() State {
	a.mu.Lock()
	defer a.mu.Unlock()
	st := State{
		Up:          a.completed && a.lastErr == nil,
		Completed:   a.completed,
		Duration:    a.duration,
		LastSuccess: a.snapTime,
		Errors:      make(map[string]uint64, len(a.errors)),
	}
	st.LastError, st.LastErrorTime = a.failMsg, a.failTime
	for k, v := range a.errors {
		st.Errors[k] = v
	}
	if a.snap != nil && a.opts.Now().Sub(a.snapTime) < max(a.opts.TTL, a.opts.MaxStale) {
		st.Snapshot = a.snap
	}
	return st
}

func (a *Account) refresh() {
	select {
	case a.opts.Limiter <- struct{}{}:
		defer func() { <-a.opts.Limiter }()
	case <-a.ctx.Done():
		return
	}
	ctx, cancel := context.WithTimeout(a.ctx, a.opts.Timeout)
	defer cancel()
	start := time.Now()
	snap, err := a.list(ctx)
	took := time.Since(start)
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("listing did not finish within timeout %s: %w", a.opts.Timeout, err)
	}

	if a.ctx.Err() != nil {
		return // shutting down or replaced by a reload: nothing to record
	}

	a.mu.Lock()
	now := a.opts.Now()
	a.completed, a.duration = true, took
	prevErr, prevReason, failures := a.lastErr, a.lastReason, a.failures
	if err == nil {
		a.snap, a.snapTime, a.lastErr, a.lastReason, a.failures = snap, now, nil, "", 0
		a.mu.Unlock()
		if prevErr != nil {
			level.Info(a.opts.Logger).Log("msg", "listing recovered", "account", a.name, "after_failures", failures)
		}
		level.Debug(a.opts.Logger).Log("msg", "listing done", "account", a.name, "profiles", snap.Total, "duplicates_skipped", snap.Duplicates, "duration", took)
		return
	}
	reason := a.opts.Reason(err)
	a.lastErr, a.lastReason = err, reason
	a.failMsg, a.failTime = err.Error(), now
	a.failures++
	a.errors[reason]++
	a.retryAt = now.Add(a.backoff(a.failures))
	failures, wait := a.failures, a.retryAt.Sub(now)
	a.mu.Unlock()

	// A failure is logged once at error level, not on every scrape while it
	// lasts: again only when its reason changes.
	logAt := level.Error
	if prevErr != nil && prevReason == reason {
		logAt = level.Debug
	}
	logAt(a.opts.Logger).Log("msg", "listing failed", "account", a.name, "reason", reason, "consecutive_failures", failures,
		"next_try_after", wait, "duration", took, "err", err)
}

// backoff is the wait after the n-th consecutive failure.
func (a *Account) backoff(n int) time.Duration {
	base, ceiling := a.opts.FailureBackoff, max(a.opts.TTL, a.opts.FailureBackoff)
	if base <= 0 {
		return 0
	}
	if n > 30 {
		return ceiling
	}
	return min(ceiling, base<<(n-1))
}
