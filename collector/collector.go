// Package collector turns the cached snapshots of every watched (account,
// kind) into Prometheus metrics, one consistent set per scrape. It does not
// know where the snapshots come from: the exporter package wires clients
// and caches into the Listings it is given.
package collector

import (
	"context"
	"iter"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/accounts"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/cache"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/exposition"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/internal/failure"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/snapshot"
)

const namespace = "twilio_trusthub"

// Listing is one kind of object watched in one account: its cache entry
// and the client's count of the requests listing it.
type Listing struct {
	Account string
	Kind    *kinds.Kind
	Entry   *cache.Entry
	// Requests yields the requests that got an answer, by HTTP status,
	// in status order.
	Requests iter.Seq2[int, uint64]
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
	d            families
	// objects keeps the per-object block of the last full scrape, in
	// each text format: it depends only on the listings served (their
	// accounts and kinds, fixed by the view), their snapshots, which never
	// change once built, and the settings, fixed at New; not on the clock.
	objects exposition.Cache[snapshot.Snapshot]
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

// kindMetrics are the families of one kind: its aggregates and its
// per-object families.
type kindMetrics struct {
	kind                              *kinds.Kind
	objects, expiring, expired, codes *exposition.Family
	families                          []objectFamily
}

// families are the aggregates of every kind. Each comment says the labels
// of its series, after the account, in label-name order.
type families struct {
	up            *exposition.Family
	resourceUp    *exposition.Family // resource
	duration      *exposition.Family // resource
	lastSuccess   *exposition.Family // resource
	requests      *exposition.Family // code, resource
	listingErrors *exposition.Family // resource
	usageErrors   *exposition.Family // resource
	accountInfo   *exposition.Family // friendly_name, parent, status
	discoveryUp   *exposition.Family
	discovered    *exposition.Family
	// discoveryErrors, by reason.
	discoveryErrors *exposition.Family
}

// cached ends the HELP of every metric drawn from a listing.
const cached = " From the account's cached listing, refreshed at most every cache_ttl."

func gauge(name, help string) *exposition.Family {
	return exposition.NewFamily(namespace+"_"+name, help, exposition.Gauge)
}

func counter(name, help string) *exposition.Family {
	return exposition.NewFamily(namespace+"_"+name, help, exposition.Counter)
}

func newFamilies() families {
	return families{
		up:          gauge("up", "1 if the last completed listing of every watched resource of the account succeeded, else 0 (also before the first one completes)."),
		resourceUp:  gauge("resource_up", "1 if the account's last completed listing of the resource succeeded, else 0 (also before the first one completes)."),
		duration:    gauge("listing_duration_seconds", "How long the account's last completed listing of the resource took."),
		lastSuccess: gauge("last_success_timestamp_seconds", "When the account's last successful listing of the resource completed, as Unix time."),
		requests:    counter("api_requests_total", "HTTP requests to Twilio listing the resource that got an answer, by status code; resource "+DiscoveryResource+" is the subaccount discovery's."),
		listingErrors: counter("listing_errors_total", "Failed listings of the account's resource; twilio_trusthub_exporter_listing_errors_total "+
			"has them by reason, across accounts."),
		usageErrors: counter("usage_listing_errors_total", "Failed listings of what uses one of the resource's objects (the channel endpoints "+
			"assigned to a Customer-Profile or Trust Product, the phone numbers of an A2P campaign's Messaging Service); "+
			"the object keeps its last known figure, and the listing of the resource is not failed."),
		accountInfo: gauge("account_info", "Always 1: one series per listed account, configured or discovered, naming it. "+
			"friendly_name is Twilio's for a discovered subaccount and the configured name otherwise; parent is the account it was discovered under, "+
			"empty for a configured one; status is Twilio's account status, empty for a configured one."),
		discoveryUp: gauge("discovery_up", "1 if the last listing of the account's subaccounts succeeded, else 0 (also before the first one completes); "+
			"a failed one keeps the subaccounts last listed, up to max_stale."),
		discovered:      gauge("discovered_subaccounts", "Subaccounts discovered under the account and listed now."),
		discoveryErrors: counter("discovery_errors_total", "Failed listings of the account's subaccounts, by reason: "+strings.Join(failure.Reasons, ", ")+"."),
	}
}

func newKindMetrics(k *kinds.Kind, sparseStatus bool) *kindMetrics {
	desc := func(name, help string) *exposition.Family {
		return exposition.NewFamily(k.Metric(name), help, exposition.Gauge)
	}
	codes := k.Title + " whose errors list contains the code; a " + k.Short + " counts once per code."
	if k.Errors == kinds.ErrorCode {
		codes = k.Title + " whose " + k.Key(kinds.FieldErrors) + " is the code."
	}
	m := &kindMetrics{
		kind:     k,
		objects:  desc(k.Plural, upperFirst(k.Title)+" in each status."+cached),
		codes:    desc(k.Singular+"_errors", upperFirst(codes)+cached),
		families: objectFamilies(k, sparseStatus),
	}
	if k.Expires() {
		m.expiring = desc(k.Plural+"_expiring", upperFirst(k.Title)+" whose valid_until is after now and at most within_days days ahead."+cached)
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
		d:            newFamilies(),
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

// Close cancels the listings in flight.
func (e *Exporter) Close() { e.close() }

// Scrape waits, no longer than ctx allows, for the listings that are due,
// and returns what one scrape reports, for Write.
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
	// Every listing due begins before any is awaited, so a scrape waits
	// once for the slowest, and no goroutine waits for each: at 10,000
	// subaccounts, one per listing was 50,000.
	done := make([]<-chan struct{}, len(v.listings))
	for _, i := range v.startOrder() {
		done[i] = v.listings[i].Entry.Begin()
	}
	states := make([]cache.State, len(v.listings))
	for i, l := range v.listings {
		states[i] = l.Entry.Await(ctx, done[i])
	}
	return &Scrape{e: e, v: v, discovery: disc, states: states, now: e.now()}
}

// startOrder is the order in which a scrape asks for the listings: every
// account's first kind, then every account's second, and so on. The
// listings that must wait for a slot of max_concurrent_listings queue in
// the limiter, which serves accounts in turn; those that get a slot at
// once are the first to ask, so asking account by account would give the
// first two accounts every slot of a cold start.
func (v *view) startOrder() []int {
	order := make([]int, 0, len(v.listings))
	seen := make([]bool, len(v.listings))
	for r := 0; len(order) < len(v.listings); r++ {
		added := false
		for _, a := range v.accounts {
			if r < len(a.listings) && !seen[a.listings[r]] {
				order, seen[a.listings[r]], added = append(order, a.listings[r]), true, true
			}
		}
		if !added { // a listing of no account: none today, but never lost
			for i := range v.listings {
				if !seen[i] {
					order, seen[i] = append(order, i), true
				}
			}
		}
	}
	return order
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

// Write gives e every series of the scrape, family by family: the
// aggregates, then the per-object series.
func (s *Scrape) Write(e *exposition.Encoder) {
	s.writeAggregates(e)
	s.writeObjects(e)
}

// Gather returns every series of the scrape as metric families, as a
// client_golang registry would gather them: for tests and tools, which
// read families rather than bytes.
func (s *Scrape) Gather() ([]*dto.MetricFamily, error) {
	return exposition.Gather(s.Write), nil
}

// writeAggregates writes the series of every family but the per-object
// ones, each family whole: listing by listing, account by account.
func (s *Scrape) writeAggregates(e *exposition.Encoder) {
	d, listings := &s.e.d, s.v.listings
	// Label values that are numbers, converted once per scrape.
	w := newWriter(e)
	each := func(f *exposition.Family, write func(l Listing, st cache.State)) {
		e.Family(f)
		for i, l := range listings {
			write(l, s.states[i])
		}
	}
	each(d.resourceUp, func(l Listing, st cache.State) {
		e.Add(boolFloat(st.Up), "account", l.Account, "resource", l.Kind.Name)
	})
	each(d.duration, func(l Listing, st cache.State) {
		if st.Completed {
			e.Add(st.Duration.Seconds(), "account", l.Account, "resource", l.Kind.Name)
		}
	})
	each(d.lastSuccess, func(l Listing, st cache.State) {
		if !st.LastSuccess.IsZero() {
			e.Add(float64(st.LastSuccess.UnixNano())/1e9, "account", l.Account, "resource", l.Kind.Name)
		}
	})
	// One yield for every listing: a range-over-func loop would allocate
	// its body once per listing, 5,000 times a scrape at 1,000 subaccounts.
	var current Listing
	add := func(code int, n uint64) bool {
		e.Add(float64(n), "account", current.Account, "code", w.code(int64(code)), "resource", current.Kind.Name)
		return true
	}
	each(d.requests, func(l Listing, _ cache.State) {
		current = l
		l.Requests(add)
	})
	// The same family: a parent's discovery requests, as resource accounts.
	for _, ds := range s.discovery {
		for _, code := range slices.Sorted(maps.Keys(ds.Requests)) {
			e.Add(float64(ds.Requests[code]), "account", ds.Account, "code", w.code(int64(code)), "resource", DiscoveryResource)
		}
	}
	// From the start, so that increase() sees the first failure; one
	// series per listing, the reasons being the process's (Totals).
	each(d.listingErrors, func(l Listing, st cache.State) {
		n := uint64(0)
		for _, c := range st.Errors {
			n += c
		}
		e.Add(float64(n), "account", l.Account, "resource", l.Kind.Name)
	})
	each(d.usageErrors, func(l Listing, _ cache.State) {
		if l.UsageErrors != nil {
			e.Add(float64(l.UsageErrors()), "account", l.Account, "resource", l.Kind.Name)
		}
	})
	e.Family(d.up)
	for _, a := range s.v.accounts {
		up := true
		for _, i := range a.listings {
			up = up && s.states[i].Up
		}
		e.Add(boolFloat(up), "account", a.name)
	}
	e.Family(d.accountInfo)
	for _, a := range s.v.accounts {
		e.Add(1, "account", a.name, "friendly_name", a.info.FriendlyName, "parent", a.info.Parent, "status", a.info.Status)
	}
	e.Family(d.discoveryUp)
	for _, ds := range s.discovery {
		e.Add(boolFloat(ds.Up), "account", ds.Account)
	}
	e.Family(d.discovered)
	for _, ds := range s.discovery {
		e.Add(float64(ds.Discovered), "account", ds.Account)
	}
	// Every reason from the start, so that rate() sees the first failure.
	e.Family(d.discoveryErrors)
	for _, ds := range s.discovery {
		for _, reason := range failure.Reasons {
			e.Add(float64(ds.Errors[reason]), "account", ds.Account, "reason", reason)
		}
	}
	s.writeKindAggregates(e, w)
}

// writeKindAggregates writes each kind's counts of its listings'
// snapshots.
func (s *Scrape) writeKindAggregates(e *exposition.Encoder, w *writer) {
	days := make([]string, len(s.e.expiringDays))
	for i, d := range s.e.expiringDays {
		days[i] = strconv.Itoa(d)
	}
	for _, m := range s.e.kinds {
		each := func(f *exposition.Family, write func(account string, snap *snapshot.Snapshot)) {
			if f == nil {
				return
			}
			e.Family(f)
			for i, l := range s.v.listings {
				if snap := s.states[i].Snapshot; snap != nil && l.Kind == m.kind {
					write(l.Account, snap)
				}
			}
		}
		each(m.objects, func(account string, snap *snapshot.Snapshot) {
			for status, n := range snap.Statuses {
				e.Add(float64(n), "account", account, "status", status)
			}
		})
		each(m.expiring, func(account string, snap *snapshot.Snapshot) {
			for i, d := range s.e.expiringDays {
				e.Add(float64(snap.ExpiringWithin(s.now, time.Duration(d)*24*time.Hour)), "account", account, "within_days", days[i])
			}
		})
		each(m.expired, func(account string, snap *snapshot.Snapshot) {
			e.Add(float64(snap.Expired(s.now)), "account", account)
		})
		each(m.codes, func(account string, snap *snapshot.Snapshot) {
			for code, n := range snap.ErrorCodes {
				e.Add(float64(n), "account", account, "code", w.code(code))
			}
		})
	}
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
