// Package cache serves each account's latest snapshot to scrapes, starting a
// listing when the snapshot is too old. Concurrent scrapes share one listing;
// a listing runs under its own timeout, detached from the scrape that started
// it, so that one which outlives its scrape still fills the cache.
//
// It keeps a listing's health too (up, failures by reason, backoff, the
// last error, how stale a result may be served), for any listing: an
// EntryOf lists a value of any type. An Entry lists a kind's snapshot; the
// subaccount discovery's entries list accounts, so that both report their
// health alike.
package cache

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/internal/backoff"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/internal/failure"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/snapshot"
)

// ListFunc lists one account and reduces it to a snapshot.
type ListFunc = ListFuncOf[*snapshot.Snapshot]

// ListFuncOf lists one thing and returns what a scrape is served.
type ListFuncOf[T any] func(ctx context.Context) (T, error)

// Entry is one account's entry for one kind: its latest snapshot.
type Entry = EntryOf[*snapshot.Snapshot]

// State is what a scrape reports of an Entry.
type State = StateOf[*snapshot.Snapshot]

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
	// Failed, when set, is called with the reason of each failed listing
	// counted in State.Errors: the process's own counters add them up.
	Failed func(reason string)
	// Limiter bounds the listings running at once, across accounts, and
	// grants them fairly among accounts.
	Limiter *Limiter
	// Now is the clock; time.Now when nil.
	Now    func() time.Time
	Logger log.Logger
}

// EntryOf is one listing's place in the cache: its latest value, its
// failures, and the one listing of it that may be running.
type EntryOf[T any] struct {
	name string
	list ListFuncOf[T]
	// describe gives what the debug log says of a value listed.
	describe func(T) []any
	opts     Options
	// ctx is the parent of every listing: cancelled on shutdown, not by a scrape.
	ctx context.Context

	mu sync.Mutex
	// running is closed when the listing running now ends; nil when none
	// runs.
	running   chan struct{}
	snap      T
	has       bool // snap was listed
	snapTime  time.Time
	completed bool
	duration  time.Duration
	// fail is nil until a listing fails: most entries never do, and
	// 50,000 of them (10,000 subaccounts) each held room for it.
	fail *failures
}

// failures is what an entry keeps of its failed listings.
type failures struct {
	lastErr    error // nil once a listing succeeds again
	lastReason string
	count      int       // consecutive failed listings
	retryAt    time.Time // no listing before this after a failure
	errors     map[string]uint64
	// msg and time describe the last failed listing, kept after a
	// recovery so that the status page can still say what went wrong.
	msg  string
	time time.Time
}

// StateOf is what a scrape reports of an entry.
type StateOf[T any] struct {
	// Up: the last completed listing succeeded.
	Up bool
	// Completed: at least one listing has completed.
	Completed bool
	// Duration of the last completed listing.
	Duration time.Duration
	// LastSuccess is when the last successful listing completed; zero if none has.
	LastSuccess time.Time
	// Snapshot is the latest value listed if it is young enough to serve,
	// else T's zero value (nil for a snapshot).
	Snapshot T
	// Errors counts failed listings by reason.
	Errors map[string]uint64
	// LastError is the message of the last failed listing, even after a
	// later success; empty if none has failed. The listing's errors carry
	// no credentials (see package twilio), so it may be shown.
	LastError string
	// LastErrorTime is when that listing failed.
	LastErrorTime time.Time
}

// NewEntry makes the cache entry of one account. ctx bounds every listing it
// starts.
func NewEntry(ctx context.Context, name string, list ListFunc, opts Options) *Entry {
	return NewEntryOf(ctx, name, list, func(s *snapshot.Snapshot) []any {
		return []any{"objects", s.Total, "duplicates_skipped", s.Duplicates}
	}, opts)
}

// NewEntryOf makes the entry of one listing, named name in the logs;
// describe (nil for nothing) says what the debug log tells of a value
// listed. ctx bounds every listing it starts.
func NewEntryOf[T any](ctx context.Context, name string, list ListFuncOf[T], describe func(T) []any, opts Options) *EntryOf[T] {
	if describe == nil {
		describe = func(T) []any { return nil }
	}
	return &EntryOf[T]{name: name, list: list, describe: describe, opts: withDefaults(opts), ctx: ctx}
}

func withDefaults(opts Options) Options {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = log.NewNopLogger()
	}
	if opts.Limiter == nil {
		opts.Limiter = NewLimiter(1)
	}
	if opts.Reason == nil {
		opts.Reason = func(error) string { return failure.Other }
	}
	return opts
}

// Name is the account's label value.
func (e *EntryOf[T]) Name() string { return e.name }

// SetOptions replaces the entry's timings, bound and logger, keeping its
// snapshot and failures: a reload that changes cache_ttl, max_stale,
// timeout, failure_backoff or max_concurrent_listings keeps what is
// cached. A listing in flight finishes under the options it started with.
func (e *EntryOf[T]) SetOptions(opts Options) {
	opts = withDefaults(opts)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.opts = opts
}

// options returns the entry's options, as set now.
func (e *EntryOf[T]) options() Options {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.opts
}

// Get returns the account's state, listing first if the snapshot is missing
// or older than the TTL, or if the last listing failed and its backoff has
// passed. It waits for the listing no longer than ctx allows; the listing
// itself goes on.
func (e *EntryOf[T]) Get(ctx context.Context) StateOf[T] {
	return e.Await(ctx, e.Begin())
}

// Begin starts a listing if one is due (as Get would), or joins the one
// running, without waiting for it: it returns a channel closed when the
// listing ends, nil when none is due. A scrape begins every listing it
// needs, then awaits each, which takes no goroutine per listing.
func (e *EntryOf[T]) Begin() <-chan struct{} {
	if !e.due() {
		return nil
	}
	return e.start()
}

// Await waits for done (from Begin; nil for nothing) no longer than ctx
// allows, and returns the state after it.
func (e *EntryOf[T]) Await(ctx context.Context, done <-chan struct{}) StateOf[T] {
	if done != nil {
		select {
		case <-done:
		case <-ctx.Done():
			level.Debug(e.options().Logger).Log("msg", "scrape deadline reached before the listing finished; serving the cached state", "account", e.name)
		}
	}
	return e.State()
}

// Refresh lists now, whether due or not (joining a listing already
// running), and returns the state after it: for a listing on its own
// clock rather than a scrape's. It waits no longer than ctx allows.
func (e *EntryOf[T]) Refresh(ctx context.Context) StateOf[T] {
	done := e.start()
	select {
	case <-done:
	case <-ctx.Done():
	}
	return e.State()
}

// start starts a listing, unless one is running, and returns the channel
// closed when the running one ends. The listing waits for its turn in the
// limiter, holding no goroutine until it has a slot.
func (e *EntryOf[T]) start() <-chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.running != nil {
		return e.running
	}
	done := make(chan struct{})
	e.running = done
	// The last listing's duration: the longest go first.
	e.opts.Limiter.Go(e.ctx, e.name, e.duration, func(granted bool) {
		if granted {
			e.refresh()
		}
		e.mu.Lock()
		e.running = nil
		e.mu.Unlock()
		close(done)
	})
	return done
}

// due tells whether a scrape should start (or join) a listing.
func (e *EntryOf[T]) due() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.opts.Now()
	if f := e.fail; f != nil && f.lastErr != nil {
		return !now.Before(f.retryAt)
	}
	return !e.has || now.Sub(e.snapTime) >= e.opts.TTL
}

// State reports the account without listing.
func (e *EntryOf[T]) State() StateOf[T] {
	e.mu.Lock()
	defer e.mu.Unlock()
	st := StateOf[T]{
		Up:          e.completed,
		Completed:   e.completed,
		Duration:    e.duration,
		LastSuccess: e.snapTime,
	}
	// Errors stays nil when none: most entries never fail, and a scrape
	// of 10,000 subaccounts reads 50,000 states.
	if f := e.fail; f != nil {
		st.Up = st.Up && f.lastErr == nil
		st.Errors = maps.Clone(f.errors)
		st.LastError, st.LastErrorTime = f.msg, f.time
	}
	if e.has && e.opts.Now().Sub(e.snapTime) < max(e.opts.TTL, e.opts.MaxStale) {
		st.Snapshot = e.snap
	}
	return st
}

// refresh lists, holding a slot of the limiter.
func (e *EntryOf[T]) refresh() {
	opts := e.options()
	// start is read before the timeout's clock starts, so that a listing
	// cut off by the timeout never reports a duration shorter than it.
	start := time.Now()
	ctx, cancel := context.WithTimeout(e.ctx, opts.Timeout)
	defer cancel()
	snap, err := e.list(ctx)
	took := time.Since(start)
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("listing did not finish within timeout %s: %w", opts.Timeout, err)
	}

	if e.ctx.Err() != nil {
		return // shutting down or replaced by a reload: nothing to record
	}

	e.mu.Lock()
	now := e.opts.Now()
	e.completed, e.duration = true, took
	var prevErr error
	prevReason, count := "", 0
	if f := e.fail; f != nil {
		prevErr, prevReason, count = f.lastErr, f.lastReason, f.count
	}
	if err == nil {
		e.snap, e.has, e.snapTime = snap, true, now
		if e.fail != nil {
			e.fail.lastErr, e.fail.lastReason, e.fail.count = nil, "", 0
		}
		e.mu.Unlock()
		if prevErr != nil {
			level.Info(opts.Logger).Log("msg", "listing recovered", "account", e.name, "after_failures", count)
		}
		level.Debug(opts.Logger).Log(append([]any{"msg", "listing done", "account", e.name, "duration", took}, e.describe(snap)...)...)
		return
	}
	reason := opts.Reason(err)
	if e.fail == nil {
		e.fail = &failures{errors: map[string]uint64{}}
	}
	f := e.fail
	f.lastErr, f.lastReason = err, reason
	f.msg, f.time = err.Error(), now
	f.count++
	f.errors[reason]++
	if opts.Failed != nil {
		opts.Failed(reason)
	}
	// Doubling from FailureBackoff up to the TTL, or FailureBackoff itself
	// when that is longer.
	f.retryAt = now.Add(backoff.Exponential(e.opts.FailureBackoff, max(e.opts.TTL, e.opts.FailureBackoff), f.count))
	count, wait := f.count, f.retryAt.Sub(now)
	e.mu.Unlock()

	// A failure is logged once at error level, not on every scrape while it
	// lasts: again only when its reason changes.
	logAt := level.Error
	if prevErr != nil && prevReason == reason {
		logAt = level.Debug
	}
	logAt(opts.Logger).Log("msg", "listing failed", "account", e.name, "reason", reason, "consecutive_failures", count,
		"next_try_after", wait, "duration", took, "err", err)
}
