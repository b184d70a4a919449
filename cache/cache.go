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

	mu        sync.Mutex
	snap      *snapshot.Snapshot
	snapTime  time.Time
	lastErr   error
	completed bool
	duration  time.Duration
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
	return &Account{name: name, list: list, opts: opts, ctx: ctx}
}

// Name is the account's label value.
func (a *Account) Name() string { return a.name }

// Get returns the account's state, listing first if the snapshot is missing,
// older than the TTL, or the last listing failed. It waits for the listing
// no longer than ctx allows; the listing itself goes on.
func (a *Account) Get(ctx context.Context) State {
	if !a.fresh() {
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

func (a *Account) fresh() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.snap != nil && a.lastErr == nil && a.opts.Now().Sub(a.snapTime) < a.opts.TTL
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

	a.mu.Lock()
	a.completed, a.duration, a.lastErr = true, took, err
	if err == nil {
		a.snap, a.snapTime = snap, a.opts.Now()
	}
	a.mu.Unlock()

	if err != nil {
		level.Error(a.opts.Logger).Log("msg", "listing failed", "account", a.name, "duration", took, "err", err)
		return
	}
	level.Debug(a.opts.Logger).Log("msg", "listing done", "account", a.name, "profiles", snap.Total, "duplicates_skipped", snap.Duplicates, "duration", took)
}
