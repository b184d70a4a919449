// Package exporter is the composition root: from a checked configuration it
// builds, for every account, one API client, and for every kind watched in
// it, a cache entry whose listing decodes pages into a snapshot; then it
// hands them to the collector. It reads like a parts list: every other
// package does one thing and knows nothing of this wiring.
package exporter

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/accounts"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/cache"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/collector"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/config"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/snapshot"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/trusthub"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/usage"
)

// Options configure the exporter beyond the config file.
type Options struct {
	UserAgent string
	Logger    log.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Retry spaces out retried requests; trusthub.DefaultRetryPolicy when zero.
	Retry trusthub.RetryPolicy
}

// New builds the clients and caches of every account and kind in cfg, and
// the collector over them, and starts discovering the subaccounts the
// configuration asks for; the listings follow the set of accounts as it
// changes. Its Close stops the listings and the discovery.
func New(cfg *config.Config, o Options) (*collector.Exporter, error) {
	exp, set, err := build(cfg, o)
	if err != nil {
		return nil, err
	}
	set.Run(exp.ctx)
	return exp.Exporter, nil
}

// built is the exporter with what tests reach into.
type built struct {
	*collector.Exporter
	ctx context.Context
	w   *wiring
}

// build is New without starting the discovery's clock.
func build(cfg *config.Config, o Options) (*built, *accounts.Set, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = log.NewNopLogger()
	}
	ctx, cancel := context.WithCancel(context.Background())
	// One pool of connections for every account, discovered ones
	// included, each request carrying its account's credentials: as many
	// idle connections per host as listings may have requests in flight,
	// not a pool per account (a thousand subaccounts kept thousands of
	// idle connections, each with two goroutines and its buffers).
	transport := trusthub.NewTransport(cfg.MaxConcurrentListings * trusthub.ParentFanOut)
	context.AfterFunc(ctx, transport.CloseIdleConnections)
	w := &wiring{
		cfg: cfg, o: o, ctx: ctx, transport: transport,
		copts: cache.Options{
			TTL:            cfg.CacheTTL,
			MaxStale:       cfg.MaxStale,
			Timeout:        cfg.Timeout,
			FailureBackoff: cfg.FailureBackoff,
			// One bound across every account and kind, discovered ones
			// included: every entry gets this one channel.
			Limiter: make(chan struct{}, cfg.MaxConcurrentListings),
			Reason:  trusthub.Reason,
			Now:     o.Now,
		},
		watched: map[string]*watched{},
	}
	set, err := accounts.New(cfg, accounts.Options{
		UserAgent: o.UserAgent, Logger: o.Logger, Now: o.Now, Retry: o.Retry, Transport: transport,
		// update logs an account it cannot watch; the others are watched.
		OnChange: func(m []accounts.Member) { _ = w.update(m) },
	})
	if err != nil {
		cancel()
		return nil, nil, err
	}
	w.exp = collector.New(nil, collector.Options{
		PerObject:    cfg.PerObjectMetrics,
		SparseStatus: cfg.PerObjectStatus == config.StatusSparse,
		ExpiringDays: cfg.ExpiringWithinDays,
		Now:          o.Now,
		Close:        cancel,
		Discovery: func() []collector.DiscoveryState {
			ds := set.Discoveries()
			out := make([]collector.DiscoveryState, len(ds))
			for i, d := range ds {
				out[i] = collector.DiscoveryState{Account: d.Parent, Up: d.Up, Discovered: d.Discovered, Errors: d.Errors}
			}
			return out
		},
	})
	// The configured accounts' clients are built now, so that a bad one
	// fails the start (or the reload) rather than a scrape.
	if err := w.update(set.Members()); err != nil {
		cancel()
		return nil, nil, err
	}
	return &built{Exporter: w.exp, ctx: ctx, w: w}, set, nil
}

// wiring keeps one client and one cache entry per kind for every account
// of the set, building those of an account that appears and stopping
// those of one that goes.
type wiring struct {
	cfg   *config.Config
	o     Options
	ctx   context.Context
	copts cache.Options
	exp   *collector.Exporter
	// transport is the connection pool of every account's client.
	transport *http.Transport

	mu      sync.Mutex
	watched map[string]*watched // by account name
}

// watched is one account's listings.
type watched struct {
	account  config.Account
	cancel   context.CancelFunc
	listings []collector.Listing
}

// update makes the listings those of members, keeping the caches of the
// accounts that stay with the same credentials.
func (w *wiring) update(members []accounts.Member) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	next := make(map[string]*watched, len(members))
	var listings []collector.Listing
	infos := map[string]collector.AccountInfo{}
	var firstErr error
	for _, m := range members {
		name := m.Account.Name
		if _, dup := next[name]; dup {
			continue // a discovered SID that is also a configured name: the first stands
		}
		cur, ok := w.watched[name]
		if !ok || !accounts.SameCredentials(cur.account, m.Account) {
			var err error
			if cur, err = w.watch(m.Account); err != nil {
				firstErr = cmp.Or(firstErr, err)
				level.Error(w.o.Logger).Log("msg", "cannot watch the account", "account", name, "err", err)
				continue
			}
		}
		next[name] = cur
		listings = append(listings, cur.listings...)
		if m.Parent != "" {
			infos[name] = collector.AccountInfo{FriendlyName: m.FriendlyName, Parent: m.Parent, Status: m.Status}
		}
	}
	for name, old := range w.watched {
		if next[name] != old {
			old.cancel() // its listing in flight, if any, records nothing
		}
	}
	w.watched = next
	w.exp.SetAccounts(listings, infos)
	return firstErr
}

// watch builds an account's client and cache entries.
func (w *wiring) watch(a config.Account) (*watched, error) {
	client, err := trusthub.New(trusthub.Options{
		BaseURL:      w.cfg.APIURL,
		MessagingURL: w.cfg.MessagingAPIURL,
		Auth:         a.BasicAuth(),
		PageSize:     w.cfg.PageSize,
		UserAgent:    w.o.UserAgent,
		Retry:        w.o.Retry,
		Transport:    w.transport,
	})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(w.ctx)
	wa := &watched{account: a, cancel: cancel}
	for _, k := range a.Resources {
		anomalies := collector.NewAnomalyCounter(a.Name, k, w.o.Logger)
		opts := w.copts
		// The cache logs the account; the resource comes with the logger.
		opts.Logger = log.With(w.o.Logger, "resource", k.Name)
		l := listing{client: client, account: a, kind: k, keepRecords: w.cfg.PerObjectMetrics, anomalies: anomalies, now: w.o.Now}
		cl := collector.Listing{
			Account:   a.Name,
			Kind:      k,
			Requests:  func() map[int]uint64 { return client.Requests(k) },
			Anomalies: anomalies,
		}
		if k.Uses != nil {
			l.usage = usage.New(client, k, usage.Options{MaxAge: w.cfg.UsageMaxAge, Now: w.o.Now, Logger: log.With(w.o.Logger, "account", a.Name)})
			l.usageWindow = time.Duration(slices.Max(append([]int{0}, w.cfg.ExpiringWithinDays...))) * 24 * time.Hour
			cl.UsageErrors = l.usage.Errors
		}
		cl.Entry = cache.NewEntry(ctx, a.Name, l.list, opts)
		wa.listings = append(wa.listings, cl)
	}
	return wa, nil
}

// listing lists one kind in one account.
type listing struct {
	client      *trusthub.Client
	account     config.Account
	kind        *kinds.Kind
	keepRecords bool
	anomalies   *collector.AnomalyCounter
	now         func() time.Time
	// usage, for a kind with a Usage, counts what uses its objects with a
	// problem: those not approved or expiring within usageWindow.
	usage       *usage.Counter
	usageWindow time.Duration
}

// list lists the kind and reduces the listing to a snapshot, counting
// what the decoder skipped whether or not the listing completes; then,
// within the same slot and timeout, what uses the objects with a problem.
func (l *listing) list(ctx context.Context) (*snapshot.Snapshot, error) {
	b := snapshot.NewBuilder(l.kind, l.keepRecords)
	if l.usage != nil {
		b.CollectSubjects(l.now(), l.usageWindow)
	}
	_, err := l.client.List(ctx, l.kind, l.account.Filter(), b.Add)
	l.anomalies.Seen(b.Anomalies())
	if err != nil {
		if trusthub.IsAuth(err) {
			return nil, fmt.Errorf("authentication failed for account %s: check the %s, and that it may read %s: %w",
				l.account.Name, credential(l.account), l.kind.Title, err)
		}
		return nil, err
	}
	if l.usage != nil {
		b.SetUsage(l.usage.Count(ctx, b.Subjects()))
	}
	return b.Done(), nil
}

// credential names the kind of credential the account uses, for a message.
func credential(a config.Account) string {
	if a.UsesAPIKey() {
		return "API key and secret"
	}
	return "auth token"
}
