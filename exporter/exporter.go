// Package exporter is the running system: from a checked configuration
// it builds, for every account, one API client, and for every kind watched
// in it, a cache entry whose listing decodes pages into a snapshot; it
// discovers subaccounts, and hands the listings to the collector. It
// applies a new configuration the way Prometheus' scrape manager applies
// one: what is unchanged keeps running with what it has cached, the new
// starts, the removed stops. A reload and a discovery refresh reconcile
// alike. It reads like a parts list: every other package does one thing
// and knows nothing of this wiring.
package exporter

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/accounts"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/cache"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/collector"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/config"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/snapshot"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/twilio"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/usage"
)

// Options configure the exporter beyond the config file.
type Options struct {
	UserAgent string
	Logger    log.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Retry spaces out retried requests; twilio.DefaultRetryPolicy when zero.
	Retry twilio.RetryPolicy
	// Registerer, when set, gets the process's own counters of failed
	// listings and skipped values (collector.Totals).
	Registerer prometheus.Registerer
}

// Exporter is the running system: the accounts (configured and
// discovered), their clients and cache entries, and the collector over
// them. It is safe for concurrent use.
type Exporter struct {
	o      Options
	ctx    context.Context
	cancel context.CancelFunc
	// transport is the connection pool of every account's client, sized
	// by max_concurrent_listings when the exporter starts.
	transport *http.Transport
	// inFlight bounds the requests in flight to each account, shared by
	// every client, the discovery's included.
	inFlight *twilio.InFlight
	set      *accounts.Set
	col      atomic.Pointer[collector.Exporter]
	totals   *collector.Totals
	// kindOptions are each kind's logger and failure count for its
	// entries, made once (one per entry was 50,000 at 10,000 subaccounts);
	// read only after build.
	kindOptions map[*kinds.Kind]kindOptions

	// mu makes a configuration's application and a discovery's changes
	// one at a time, and guards what follows.
	mu      sync.Mutex
	cfg     *config.Config
	copts   cache.Options
	watched map[string]*watched // by account name
	// listings and infos are what the collector was last given.
	listings []collector.Listing
	infos    map[string]collector.AccountInfo
}

// New builds the exporter of cfg and starts discovering the subaccounts
// the configuration asks for; the listings follow the set of accounts as
// it changes. Close stops it.
func New(cfg *config.Config, o Options) (*Exporter, error) {
	e, err := build(cfg, o)
	if err != nil {
		return nil, err
	}
	if o.Registerer != nil {
		if err := o.Registerer.Register(e.totals); err != nil {
			e.Close()
			return nil, err
		}
	}
	e.set.Run(e.ctx)
	return e, nil
}

// build is New without starting the discovery's clock.
func build(cfg *config.Config, o Options) (*Exporter, error) {
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
	transport := twilio.NewTransport(cfg.MaxConcurrentListings * twilio.ParentFanOut)
	context.AfterFunc(ctx, transport.CloseIdleConnections)
	inFlight := twilio.NewInFlight(cfg.MaxRequestsPerAccount)
	e := &Exporter{o: o, ctx: ctx, cancel: cancel, transport: transport, inFlight: inFlight, watched: map[string]*watched{}, totals: collector.NewTotals(),
		kindOptions: map[*kinds.Kind]kindOptions{}}
	for _, k := range kinds.All {
		// The cache logs the account; the resource comes with the logger.
		e.kindOptions[k] = kindOptions{logger: log.With(o.Logger, "resource", k.Name), failed: func(reason string) { e.totals.ListingFailed(k, reason) }}
	}
	set, err := accounts.New(cfg, accounts.Options{
		UserAgent: o.UserAgent, Logger: o.Logger, Now: o.Now, Retry: o.Retry, Transport: transport, InFlight: inFlight,
		// update logs an account it cannot watch; the others are watched.
		OnChange: func(m []accounts.Member) {
			e.mu.Lock()
			defer e.mu.Unlock()
			_ = e.update(m)
		},
	})
	if err != nil {
		cancel()
		return nil, err
	}
	e.set = set
	e.mu.Lock()
	defer e.mu.Unlock()
	// The configured accounts' clients are built now, so that a bad one
	// fails the start rather than a scrape.
	if err := e.apply(cfg); err != nil {
		cancel()
		return nil, err
	}
	return e, nil
}

// Apply makes cfg the running configuration. Every (account, kind) whose
// listing would be the same (the same credentials, API URLs, page size,
// filters, per-object records and usage counts) keeps its cache entry,
// with its snapshot, failures and counters, and takes the new timings
// (cache_ttl, max_stale, timeout, failure_backoff, the bound of
// max_concurrent_listings) at once; a parent whose discovery is unchanged
// keeps the subaccounts it found. What is new starts, what is gone stops.
// On an error (a client that cannot be built) the running configuration
// stays whole.
func (e *Exporter) Apply(cfg *config.Config) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.apply(cfg)
}

func (e *Exporter) apply(cfg *config.Config) error {
	// Every configured account's client is built first: a bad one refuses
	// the configuration before anything changes.
	for _, a := range cfg.Accounts {
		if _, err := e.client(cfg, a); err != nil {
			return fmt.Errorf("accounts %s: %w", a.Name, err)
		}
	}
	if err := e.set.Apply(cfg); err != nil {
		return err
	}
	prev := e.cfg
	e.cfg = cfg
	e.inFlight.SetMax(cfg.MaxRequestsPerAccount)
	limiter := e.copts.Limiter
	if prev == nil || prev.MaxConcurrentListings != cfg.MaxConcurrentListings {
		// One bound across every account and kind, discovered ones
		// included: every entry gets this one limiter. A listing in
		// flight holds its slot of the old one until it ends.
		limiter = cache.NewLimiter(cfg.MaxConcurrentListings)
	}
	e.copts = cache.Options{
		TTL: cfg.CacheTTL, MaxStale: cfg.MaxStale, Timeout: cfg.Timeout, FailureBackoff: cfg.FailureBackoff,
		Limiter: limiter, Reason: twilio.Reason, Now: e.o.Now,
	}
	copts := collector.Options{
		PerObject:    cfg.PerObjectMetrics,
		SparseStatus: cfg.PerObjectStatus == config.StatusSparse,
		ExpiringDays: cfg.ExpiringWithinDays,
		Now:          e.o.Now,
		Close:        e.cancel,
		Discovery:    e.set.Discoveries,
	}
	if prev == nil || prev.PerObjectMetrics != cfg.PerObjectMetrics || prev.PerObjectStatus != cfg.PerObjectStatus ||
		!slices.Equal(prev.ExpiringWithinDays, cfg.ExpiringWithinDays) {
		// The collector keeps no state but its rendered blocks: a new one
		// over the same listings writes what the new settings say.
		col := collector.New(nil, copts)
		col.SetAccounts(e.listings, e.infos)
		e.col.Store(col)
	}
	return e.update(e.set.Members())
}

// Close stops the listings and the discoveries.
func (e *Exporter) Close() { e.cancel() }

// Scrape waits, no longer than ctx allows, for the listings that are due,
// and returns what one scrape reports (see collector.Exporter.Scrape).
func (e *Exporter) Scrape(ctx context.Context) *collector.Scrape { return e.col.Load().Scrape(ctx) }

// ScrapeAccount is Scrape restricted to one account; ok is false when no
// account has that name.
func (e *Exporter) ScrapeAccount(ctx context.Context, name string) (*collector.Scrape, bool) {
	return e.col.Load().ScrapeAccount(ctx, name)
}

// Accounts returns every account listed now, sorted.
func (e *Exporter) Accounts() []string { return e.col.Load().Accounts() }

// ExpiryWindow is the longest expiring_within_days window.
func (e *Exporter) ExpiryWindow() time.Duration { return e.col.Load().ExpiryWindow() }

// watched is one account's listings.
type watched struct {
	account config.Account
	// options is what its listings were built with: any change builds
	// them again.
	options listingOptions
	client  *twilio.Client
	ctx     context.Context
	cancel  context.CancelFunc
	// byKind are its listings, by kind.
	byKind map[*kinds.Kind]collector.Listing
}

// listingOptions are what a listing's results depend on, beyond the
// account's own entry (its credentials, filters and resources).
type listingOptions struct {
	apiURL, messagingURL string
	pageSize             int
	keepRecords          bool
	usageWindow          time.Duration
	usageMaxAge          time.Duration
}

func optionsOf(cfg *config.Config) listingOptions {
	return listingOptions{
		apiURL: cfg.APIURL, messagingURL: cfg.MessagingAPIURL, pageSize: cfg.PageSize, keepRecords: cfg.PerObjectMetrics,
		usageWindow: time.Duration(slices.Max(append([]int{0}, cfg.ExpiringWithinDays...))) * 24 * time.Hour,
		usageMaxAge: cfg.UsageMaxAge,
	}
}

// sameListings says whether account a's listings under cfg would be
// those of w: the same credentials and filters, and the same options.
func (w *watched) sameListings(a config.Account, opts listingOptions) bool {
	return w.options == opts && accounts.SameCredentials(w.account, a) && w.account.AccountSID == a.AccountSID &&
		reflect.DeepEqual(w.account.Filter(), a.Filter())
}

// update makes the listings those of members, keeping the listings of
// every (account, kind) that stays the same, and gives them to the
// collector. e.mu is held.
func (e *Exporter) update(members []accounts.Member) error {
	opts := optionsOf(e.cfg)
	next := make(map[string]*watched, len(members))
	var listings []collector.Listing
	infos := map[string]collector.AccountInfo{}
	var firstErr error
	for _, m := range members {
		name := m.Account.Name
		if _, dup := next[name]; dup {
			continue // a discovered SID that is also a configured name: the first stands
		}
		w, err := e.watch(m.Account, opts)
		if err != nil {
			firstErr = cmp.Or(firstErr, err)
			level.Error(e.o.Logger).Log("msg", "cannot watch the account", "account", name, "err", err)
			continue
		}
		next[name] = w
		for _, k := range m.Account.Resources {
			listings = append(listings, w.byKind[k])
		}
		if m.Parent != "" {
			infos[name] = m.Info
		}
	}
	for name, old := range e.watched {
		// A listing kept has its context; one built again or gone has not.
		if w, ok := next[name]; !ok || w.ctx != old.ctx {
			old.cancel() // its listing in flight, if any, records nothing
		}
	}
	e.watched, e.listings, e.infos = next, listings, infos
	e.col.Load().SetAccounts(listings, infos)
	return firstErr
}

// watch returns account a's listings: its watched ones when they are the
// same, with the kinds the account no longer watches dropped, the new ones
// added and every entry given the current timings; else new ones. e.mu is
// held.
func (e *Exporter) watch(a config.Account, opts listingOptions) (*watched, error) {
	w, ok := e.watched[a.Name]
	if !ok || !w.sameListings(a, opts) {
		client, err := e.client(e.cfg, a)
		if err != nil {
			return nil, err
		}
		ctx, cancel := context.WithCancel(e.ctx)
		w = &watched{account: a, options: opts, client: client, ctx: ctx, cancel: cancel, byKind: map[*kinds.Kind]collector.Listing{}}
	} else {
		// The same listings: the account's entry may still differ in
		// what does not change them (its resources, subaccount settings).
		w = &watched{account: a, options: opts, client: w.client, ctx: w.ctx, cancel: w.cancel, byKind: w.byKind}
	}
	byKind := make(map[*kinds.Kind]collector.Listing, len(a.Resources))
	for _, k := range a.Resources {
		l, ok := w.byKind[k]
		if !ok {
			l = e.listing(w, k)
		}
		l.Entry.SetOptions(e.entryOptions(k))
		byKind[k] = l
	}
	w.byKind = byKind
	return w, nil
}

// client builds account a's client under cfg.
func (e *Exporter) client(cfg *config.Config, a config.Account) (*twilio.Client, error) {
	return twilio.New(twilio.Options{
		BaseURL:      cfg.APIURL,
		MessagingURL: cfg.MessagingAPIURL,
		Auth:         a.BasicAuth(),
		PageSize:     cfg.PageSize,
		UserAgent:    e.o.UserAgent,
		Retry:        e.o.Retry,
		Transport:    e.transport,
		Account:      a.AccountSID,
		InFlight:     e.inFlight,
	})
}

// kindOptions are what every entry of one kind shares.
type kindOptions struct {
	logger log.Logger
	failed func(reason string)
}

// entryOptions are the cache options of kind k's entries now.
func (e *Exporter) entryOptions(k *kinds.Kind) cache.Options {
	ko := e.kindOptions[k]
	opts := e.copts
	opts.Logger, opts.Failed = ko.logger, ko.failed
	return opts
}

// listing builds the listing of kind k in w's account.
func (e *Exporter) listing(w *watched, k *kinds.Kind) collector.Listing {
	a, client := w.account, w.client
	anomalies := e.totals.Anomalies(a.Name, k, e.o.Logger)
	l := listing{client: client, name: a.Name, filter: a.Filter(), credential: credential(a), kind: k, keepRecords: w.options.keepRecords, anomalies: anomalies, now: e.o.Now}
	cl := collector.Listing{
		Account:  a.Name,
		Kind:     k,
		Requests: client.RequestCounts(k),
	}
	if k.Uses != nil {
		l.usage = usage.New(client, k, usage.Options{MaxAge: w.options.usageMaxAge, Now: e.o.Now, Logger: log.With(e.o.Logger, "account", a.Name)})
		l.usageWindow = w.options.usageWindow
		cl.UsageErrors = l.usage.Errors
	}
	cl.Entry = cache.NewEntry(w.ctx, a.Name, l.list, e.entryOptions(k))
	return cl
}

// listing lists one kind in one account.
type listing struct {
	client *twilio.Client
	// name, filter and credential are what it needs of its account's
	// entry, not the entry itself (a copy per listing was 10 MB at
	// 10,000 subaccounts).
	name, credential string
	filter           kinds.Filters
	kind             *kinds.Kind
	keepRecords      bool
	anomalies        *collector.AnomalyCounter
	now              func() time.Time
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
	_, err := l.client.List(ctx, l.kind, l.filter, b.Add)
	l.anomalies.Seen(b.Anomalies())
	if err != nil {
		if twilio.IsAuth(err) {
			return nil, fmt.Errorf("authentication failed for account %s: check the %s, and that it may read %s: %w",
				l.name, l.credential, l.kind.Title, err)
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
