// Package collector turns the cached snapshots of every watched (account,
// kind) into Prometheus metrics, one consistent set per scrape. It does not
// know where the snapshots come from: the exporter package wires clients
// and caches into the Listings it is given.
package collector

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/accounts"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/cache"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/internal/failure"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
)

const namespace = "twilio_trusthub"

// Listing is one kind of object watched in one account: its cache entry,
// the client's count of the requests listing it, and the count of the
// values its listings skipped.
type Listing struct {
	Account string
	Kind    *kinds.Kind
	Entry   *cache.Entry
	// Requests returns the requests that got an answer, by HTTP status.
	Requests  func() map[int]uint64
	Anomalies *AnomalyCounter
	// UsageErrors returns how many counts of what uses an object failed;
	// nil for a kind without a Usage.
	UsageErrors func() uint64
}

// Options configure an Exporter.
type Options struct {
	// PerObject exports the per-object series (per_object_metrics).
	PerObject bool
	// SparseStatus writes, in each kind's per-object status family, only
	// the series of the object's status (per_object_status: sparse);
	// otherwise one per documented status, 0 but for the current one.
	SparseStatus bool
	// ExpiringDays are the expiry windows, in days.
	ExpiringDays []int
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Close stops the listings in flight; called by Exporter.Close.
	Close func()
	// Discovery returns the state of every parent's discovery; none when
	// nil.
	Discovery func() []DiscoveryState
}

// Exporter holds the listings and the metric descriptions. Each scrape goes
// through Scrape, which binds the scrape's deadline. The set of listings
// may change while it serves (accounts discovered or gone): SetAccounts
// swaps it whole, and every scrape works on the one set it started with.
type Exporter struct {
	mu sync.RWMutex
	v  *view

	kinds        []*kindMetrics
	perObject    bool
	expiringDays []int
	now          func() time.Time
	close        func()
	discovery    func() []DiscoveryState
	d            descs
	// textBlock and openMetricsBlock are the per-object blocks of the
	// last full scrape, in each text format (see blockCache).
	textBlock, openMetricsBlock blockCache
}

// view is one immutable set of listings. It is replaced, never changed, so
// a scrape can read it without a lock.
type view struct {
	listings []Listing
	// accounts are the account names in the listings' order, each once,
	// with the indices of its listings.
	accounts []accountListings
}

type accountListings struct {
	name     string
	info     AccountInfo
	listings []int
}

// AccountInfo describes a listed account for twilio_trusthub_account_info:
// the accounts package's description, not a copy of it.
type AccountInfo = accounts.Info

// DiscoveryState is what the metrics show of one parent's discovery of
// its subaccounts: the accounts package's, not a copy of it.
type DiscoveryState = accounts.Discovery

// DiscoveryResource is the resource label of the subaccount discovery's
// requests: the 2010 API's Accounts list.
const DiscoveryResource = "accounts"

// kindMetrics are the families of one kind: its aggregate descriptions
// and its per-object families.
type kindMetrics struct {
	kind                              *kinds.Kind
	objects, expiring, expired, codes *prometheus.Desc
	families                          []objectFamily
}

type descs struct {
	up, resourceUp, duration, lastSuccess, requests, listingErrors *prometheus.Desc
	anomalies, usageErrors                                         *prometheus.Desc
	accountInfo, discoveryUp, discovered, discoveryErrors          *prometheus.Desc
}

// cached ends the HELP of every metric drawn from a listing.
const cached = " From the account's cached listing, refreshed at most every cache_ttl."

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(namespace+"_"+name, help, append([]string{"account"}, labels...), nil)
}

func newDescs() descs {
	return descs{
		up:            desc("up", "1 if the last completed listing of every watched resource of the account succeeded, else 0 (also before the first one completes)."),
		resourceUp:    desc("resource_up", "1 if the account's last completed listing of the resource succeeded, else 0 (also before the first one completes).", "resource"),
		duration:      desc("listing_duration_seconds", "How long the account's last completed listing of the resource took.", "resource"),
		lastSuccess:   desc("last_success_timestamp_seconds", "When the account's last successful listing of the resource completed, as Unix time.", "resource"),
		requests:      desc("api_requests_total", "HTTP requests to Twilio listing the resource that got an answer, by status code; resource "+DiscoveryResource+" is the subaccount discovery's.", "resource", "code"),
		listingErrors: desc("listing_errors_total", "Failed listings of the account's resource, by reason: "+strings.Join(failure.Reasons, ", ")+".", "resource", "reason"),
		anomalies: desc("decode_anomalies_total", "Values in the account's listings that were skipped because their field cannot have that shape "+
			"(an error code that is no number, a date that does not parse), by resource and field; the rest of the object still counts, "+
			"and an object that stays malformed counts again in every listing.", "resource", "field"),
		usageErrors: desc("usage_listing_errors_total", "Failed listings of what uses one of the resource's objects (the channel endpoints "+
			"assigned to a Customer-Profile or Trust Product, the phone numbers of an A2P campaign's Messaging Service); "+
			"the object keeps its last known figure, and the listing of the resource is not failed.", "resource"),
		accountInfo: desc("account_info", "Always 1: one series per listed account, configured or discovered, naming it. "+
			"friendly_name is Twilio's for a discovered subaccount and the configured name otherwise; parent is the account it was discovered under, "+
			"empty for a configured one; status is Twilio's account status, empty for a configured one.", "friendly_name", "parent", "status"),
		discoveryUp: desc("discovery_up", "1 if the last listing of the account's subaccounts succeeded, else 0 (also before the first one completes); "+
			"a failed one keeps the subaccounts last listed, up to max_stale."),
		discovered:      desc("discovered_subaccounts", "Subaccounts discovered under the account and listed now."),
		discoveryErrors: desc("discovery_errors_total", "Failed listings of the account's subaccounts, by reason: "+strings.Join(failure.Reasons, ", ")+".", "reason"),
	}
}

func newKindMetrics(k *kinds.Kind, sparseStatus bool) *kindMetrics {
	desc := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(k.Metric(name), help, append([]string{"account"}, labels...), nil)
	}
	codes := k.Title + " whose errors list contains the code; a " + k.Short + " counts once per code."
	if k.Errors == kinds.ErrorCode {
		codes = k.Title + " whose " + k.Key(kinds.FieldErrors) + " is the code."
	}
	m := &kindMetrics{
		kind:     k,
		objects:  desc(k.Plural, upperFirst(k.Title)+" in each status."+cached, "status"),
		codes:    desc(k.Singular+"_errors", upperFirst(codes)+cached, "code"),
		families: objectFamilies(k, sparseStatus),
	}
	if k.Expires() {
		m.expiring = desc(k.Plural+"_expiring", upperFirst(k.Title)+" whose valid_until is after now and at most within_days days ahead."+cached, "within_days")
		m.expired = desc(k.Plural+"_expired", upperFirst(k.Title)+" whose valid_until is at or before now."+cached)
	}
	return m
}

// upperFirst starts a sentence with a kind's title ("toll-free ...").
func upperFirst(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

// New builds an Exporter over the listings, reported in their order.
func New(listings []Listing, o Options) *Exporter {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Close == nil {
		o.Close = func() {}
	}
	if o.Discovery == nil {
		o.Discovery = func() []DiscoveryState { return nil }
	}
	e := &Exporter{
		perObject:    o.PerObject,
		expiringDays: o.ExpiringDays,
		now:          o.Now,
		close:        o.Close,
		discovery:    o.Discovery,
		d:            newDescs(),
	}
	// Every declared kind is described, watched or not, so that Describe
	// does not depend on the configuration.
	for _, k := range kinds.All {
		e.kinds = append(e.kinds, newKindMetrics(k, o.SparseStatus))
	}
	e.v = newView(listings, nil)
	return e
}

// newView groups the listings by account, in their order; an account
// without an entry in infos is a configured one.
func newView(listings []Listing, infos map[string]AccountInfo) *view {
	v := &view{listings: listings}
	for i, l := range listings {
		if n := len(v.accounts); n == 0 || v.accounts[n-1].name != l.Account {
			info, ok := infos[l.Account]
			if !ok {
				info = AccountInfo{FriendlyName: l.Account}
			}
			v.accounts = append(v.accounts, accountListings{name: l.Account, info: info})
		}
		a := &v.accounts[len(v.accounts)-1]
		a.listings = append(a.listings, i)
	}
	return v
}

// SetAccounts replaces the listings, as New takes them, and the accounts'
// descriptions (none for a configured account). Scrapes already started
// finish with the set they started with.
func (e *Exporter) SetAccounts(listings []Listing, infos map[string]AccountInfo) {
	v := newView(listings, infos)
	e.mu.Lock()
	e.v = v
	e.mu.Unlock()
}

func (e *Exporter) view() *view {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.v
}

// Accounts returns the names of every account listed now, configured and
// discovered, sorted.
func (e *Exporter) Accounts() []string {
	v := e.view()
	names := make([]string, len(v.accounts))
	for i, a := range v.accounts {
		names[i] = a.name
	}
	slices.Sort(names)
	return names
}

// metricsOf returns the families of kind k.
func (e *Exporter) metricsOf(k *kinds.Kind) *kindMetrics {
	for _, m := range e.kinds {
		if m.kind == k {
			return m
		}
	}
	return nil
}

// Close cancels the listings in flight.
func (e *Exporter) Close() { e.close() }

// Describe sends every description the exporter may emit.
func (e *Exporter) Describe(ch chan<- *prometheus.Desc) {
	for _, m := range e.kinds {
		ch <- m.objects
		ch <- m.codes
		if m.kind.Expires() {
			ch <- m.expiring
			ch <- m.expired
		}
	}
	for _, d := range []*prometheus.Desc{
		e.d.up, e.d.resourceUp, e.d.duration, e.d.lastSuccess, e.d.requests, e.d.listingErrors, e.d.anomalies, e.d.usageErrors,
		e.d.accountInfo, e.d.discoveryUp, e.d.discovered, e.d.discoveryErrors,
	} {
		ch <- d
	}
}

// Scrape waits, no longer than ctx allows, for the listings that are due,
// and returns what one scrape reports: the aggregates as a
// prometheus.Collector, the per-object series through WriteProfiles.
func (e *Exporter) Scrape(ctx context.Context) *Scrape {
	s := e.scrape(ctx, e.view(), e.discovery())
	s.full = true
	return s
}

// ScrapeAccount is Scrape restricted to one account: all its kinds, its
// health series, its account_info and, for a parent, its discovery
// series; nothing of other accounts. ok is false when no account has that
// name.
func (e *Exporter) ScrapeAccount(ctx context.Context, name string) (s *Scrape, ok bool) {
	v := e.view()
	i := slices.IndexFunc(v.accounts, func(a accountListings) bool { return a.name == name })
	if i < 0 {
		return nil, false
	}
	a := v.accounts[i]
	one := &view{
		listings: make([]Listing, len(a.listings)),
		accounts: []accountListings{{name: a.name, info: a.info, listings: make([]int, len(a.listings))}},
	}
	for j, li := range a.listings {
		one.listings[j] = v.listings[li]
		one.accounts[0].listings[j] = j
	}
	var disc []DiscoveryState
	for _, d := range e.discovery() {
		if d.Account == name {
			disc = append(disc, d)
		}
	}
	return e.scrape(ctx, one, disc), true
}

func (e *Exporter) scrape(ctx context.Context, v *view, disc []DiscoveryState) *Scrape {
	// Listings are awaited together, so a scrape waits once for the slowest.
	states := make([]cache.State, len(v.listings))
	var wg sync.WaitGroup
	for i, l := range v.listings {
		wg.Go(func() { states[i] = l.Entry.Get(ctx) })
	}
	wg.Wait()
	return &Scrape{e: e, v: v, discovery: disc, states: states, now: e.now()}
}

// Scrape is one scrape's consistent view of every listing.
type Scrape struct {
	e         *Exporter
	v         *view
	discovery []DiscoveryState
	states    []cache.State
	now       time.Time
	// full is set for a scrape of every listing, whose per-object block
	// is kept for the next one.
	full bool
}

var _ prometheus.Collector = (*Scrape)(nil)

// Describe sends the descriptions of the aggregate metrics.
func (s *Scrape) Describe(ch chan<- *prometheus.Desc) { s.e.Describe(ch) }

// Collect sends the aggregate metrics, built from the scrape's states.
func (s *Scrape) Collect(ch chan<- prometheus.Metric) {
	for _, a := range s.v.accounts {
		up := true
		for _, i := range a.listings {
			up = up && s.states[i].Up
			s.e.collectListing(ch, s.v.listings[i], s.states[i], s.now)
		}
		ch <- prometheus.MustNewConstMetric(s.e.d.up, prometheus.GaugeValue, boolFloat(up), a.name)
		ch <- prometheus.MustNewConstMetric(s.e.d.accountInfo, prometheus.GaugeValue, 1, a.name, a.info.FriendlyName, a.info.Parent, a.info.Status)
	}
	for _, d := range s.discovery {
		ch <- prometheus.MustNewConstMetric(s.e.d.discoveryUp, prometheus.GaugeValue, boolFloat(d.Up), d.Account)
		ch <- prometheus.MustNewConstMetric(s.e.d.discovered, prometheus.GaugeValue, float64(d.Discovered), d.Account)
		for code, n := range d.Requests {
			ch <- prometheus.MustNewConstMetric(s.e.d.requests, prometheus.CounterValue, float64(n), d.Account, DiscoveryResource, strconv.Itoa(code))
		}
		// Every reason from the start, so that rate() sees the first failure.
		for _, reason := range failure.Reasons {
			ch <- prometheus.MustNewConstMetric(s.e.d.discoveryErrors, prometheus.CounterValue, float64(d.Errors[reason]), d.Account, reason)
		}
	}
}

func (e *Exporter) collectListing(ch chan<- prometheus.Metric, l Listing, st cache.State, now time.Time) {
	name, resource := l.Account, l.Kind.Name
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, append([]string{name}, labels...)...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, append([]string{name, resource}, labels...)...)
	}
	gauge(e.d.resourceUp, boolFloat(st.Up), resource)
	if st.Completed {
		gauge(e.d.duration, st.Duration.Seconds(), resource)
	}
	if !st.LastSuccess.IsZero() {
		gauge(e.d.lastSuccess, float64(st.LastSuccess.UnixNano())/1e9, resource)
	}
	for code, n := range l.Requests() {
		counter(e.d.requests, float64(n), strconv.Itoa(code))
	}
	// Every reason from the start, so that rate() sees the first failure.
	for _, reason := range failure.Reasons {
		counter(e.d.listingErrors, float64(st.Errors[reason]), reason)
	}
	// Every field of the kind from the start too, for the same reason.
	anomalies := l.Anomalies.counts()
	for _, f := range l.Kind.Fields() {
		counter(e.d.anomalies, anomalies[f], l.Kind.Key(f))
	}
	if l.UsageErrors != nil {
		counter(e.d.usageErrors, float64(l.UsageErrors()))
	}
	snap := st.Snapshot
	if snap == nil {
		return
	}
	m := e.metricsOf(l.Kind)
	for status, n := range snap.Statuses {
		gauge(m.objects, float64(n), status)
	}
	if l.Kind.Expires() {
		for _, days := range e.expiringDays {
			gauge(m.expiring, float64(snap.ExpiringWithin(now, time.Duration(days)*24*time.Hour)), strconv.Itoa(days))
		}
		gauge(m.expired, float64(snap.Expired(now)))
	}
	for code, n := range snap.ErrorCodes {
		gauge(m.codes, float64(n), strconv.FormatInt(code, 10))
	}
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
