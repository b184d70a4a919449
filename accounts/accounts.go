// Package accounts owns the set of accounts to watch: the configured ones
// and the subaccounts discovered under a parent, each with its own
// credentials. Discovery runs on its own clock (each parent's refresh),
// not per scrape; whoever builds listings from the set is told when it
// changes.
package accounts

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"path"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/cache"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/config"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/twilio"
)

// Info describes an account beyond its configuration entry: what the
// metrics (account_info) and the status page show of it.
type Info struct {
	// FriendlyName is Twilio's name of a discovered subaccount; the
	// configured name otherwise.
	FriendlyName string
	// Parent is the configured name of the account it was discovered
	// under; empty for a configured account.
	Parent string
	// Status is Twilio's status of a discovered subaccount; empty for a
	// configured one, whose status the exporter does not read.
	Status string
}

// Member is one account to watch.
type Member struct {
	// Account is its entry: a configured one, or for a discovered
	// subaccount, the parent's with the subaccount's SID and token.
	Account config.Account
	Info
}

// Discovery is what is known of one parent's discovery.
type Discovery struct {
	// Account is the parent's configured name.
	Account string
	// Up says whether the last discovery succeeded; false before the
	// first one ends.
	Up bool
	// Discovered is the number of subaccounts listed now.
	Discovered int
	// Errors counts failed discoveries by reason (internal/failure).
	Errors map[string]uint64
	// Requests counts the Accounts API requests that got an answer, by
	// HTTP status.
	Requests map[int]uint64
}

// Options configure a Set.
type Options struct {
	UserAgent string
	Logger    log.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Retry spaces out retried requests; twilio.DefaultRetryPolicy when zero.
	Retry twilio.RetryPolicy
	// OnChange is called, one call at a time, with every member after
	// the set changed.
	OnChange func([]Member)
	// Transport is the connection pool the discovery requests share with
	// the listings (see twilio.Options.Transport); nil, each parent's
	// client has its own.
	Transport http.RoundTripper
	// InFlight bounds the requests in flight to each account: the one
	// the listings' clients share, so that a parent's discovery counts
	// against its account's bound (see twilio.Options.InFlight).
	InFlight *twilio.InFlight
}

// Set is the accounts to watch. It is safe for concurrent use.
type Set struct {
	o Options
	// ctx is the parent of every discovery; cancel ends them all.
	ctx    context.Context
	cancel context.CancelFunc

	// mu guards what a configuration gives: the configured accounts, the
	// parents, and whether the discoveries run on their clocks.
	mu         sync.Mutex
	configured []Member
	parents    []*parent
	running    bool

	// changeMu makes OnChange calls one at a time, each with the set
	// as it is after the change.
	changeMu sync.Mutex
}

// parent is a configured account whose subaccounts are discovered. Its
// discovery is a cache entry like a kind's listing, so that its health
// (up, failures by reason, how long a list stands in after a failure) is
// kept by the same code.
type parent struct {
	sub config.Subaccounts
	// accountsURL is the Accounts API the client lists from.
	accountsURL string
	client      *twilio.Client
	entry       *cache.EntryOf[[]twilio.Account]
	ctx         context.Context
	// stop ends the parent's discovery, its loop and any listing.
	stop context.CancelFunc

	mu sync.Mutex
	// account is the parent's entry: what its subaccounts inherit.
	account config.Account
	// configured are the SIDs of every configured account: a subaccount
	// configured on its own is watched as configured, not twice.
	configured []string
	// notified are the members OnChange was last told of.
	notified []Member
}

// New builds the set of cfg's accounts. Nothing is discovered until Run
// or Refresh.
func New(cfg *config.Config, o Options) (*Set, error) {
	if o.Logger == nil {
		o.Logger = log.NewNopLogger()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.OnChange == nil {
		o.OnChange = func([]Member) {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Set{o: o, ctx: ctx, cancel: cancel}
	if err := s.Apply(cfg); err != nil {
		cancel()
		return nil, err
	}
	return s, nil
}

// Apply makes cfg's accounts the set's, as Prometheus' scrape manager
// applies a configuration: a parent whose credentials, subaccount
// settings and Accounts API are unchanged keeps its discovered
// subaccounts and their state, and they take at once what they inherit
// from it (its name, resources, filters); a new one starts discovering
// (once Run has); a removed one stops. On an error nothing changes.
// OnChange is not called: the caller reads Members after.
func (s *Set) Apply(cfg *config.Config) error {
	var configured []Member
	var sids []string
	for _, a := range cfg.Accounts {
		configured = append(configured, Member{Account: a, Info: Info{FriendlyName: a.Name}})
		sids = append(sids, a.AccountSID)
	}
	opts := cache.Options{
		// A list stands in after a failed discovery as a stale listing
		// does; past max_stale (or the refresh, when longer) nothing
		// known is trusted.
		MaxStale: max(cfg.MaxStale, cfg.CacheTTL), Timeout: cfg.Timeout,
		Reason: twilio.Reason, Now: s.o.Now,
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var parents, started []*parent
	var accts []config.Account // each parent's account in cfg
	for _, a := range cfg.Accounts {
		if a.Subaccounts == nil {
			continue
		}
		if i := slices.IndexFunc(s.parents, func(p *parent) bool { return p.same(a, cfg.AccountsAPIURL) }); i >= 0 {
			parents, accts = append(parents, s.parents[i]), append(accts, a)
			continue
		}
		client, err := twilio.New(twilio.Options{
			AccountsURL: cfg.AccountsAPIURL,
			Auth:        a.BasicAuth(),
			PageSize:    1000,
			UserAgent:   s.o.UserAgent,
			Retry:       s.o.Retry,
			Transport:   s.o.Transport,
			Account:     a.AccountSID,
			InFlight:    s.o.InFlight,
		})
		if err != nil {
			return fmt.Errorf("accounts %s: %w", a.Name, err)
		}
		ctx, stop := context.WithCancel(s.ctx)
		p := &parent{account: a, sub: *a.Subaccounts, accountsURL: cfg.AccountsAPIURL, client: client, ctx: ctx, stop: stop}
		p.entry = cache.NewEntryOf(ctx, a.Name, p.discover, func(found []twilio.Account) []any {
			return []any{"subaccounts", len(found)}
		}, s.entryOptions(opts, p.sub))
		parents, accts = append(parents, p), append(accts, a)
		started = append(started, p)
	}
	for _, p := range s.parents {
		if !slices.Contains(parents, p) {
			p.stop()
		}
	}
	for i, p := range parents {
		p.mu.Lock()
		p.configured, p.account = sids, accts[i]
		p.mu.Unlock()
		p.entry.SetOptions(s.entryOptions(opts, p.sub))
	}
	s.configured, s.parents = configured, parents
	if s.running {
		for _, p := range started {
			s.start(p)
		}
	}
	return nil
}

// entryOptions are the cache options of a parent's discovery with sub's
// settings.
func (s *Set) entryOptions(opts cache.Options, sub config.Subaccounts) cache.Options {
	// The next discovery after a failure is the next refresh.
	opts.TTL, opts.FailureBackoff = sub.Refresh, sub.Refresh
	opts.Logger = log.With(s.o.Logger, "resource", "subaccounts")
	return opts
}

// same says whether the parent discovers as account a of a configuration
// with that Accounts API would.
func (p *parent) same(a config.Account, accountsURL string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return a.Subaccounts != nil && SameCredentials(p.account, a) && p.account.AccountSID == a.AccountSID &&
		p.accountsURL == accountsURL && reflect.DeepEqual(p.sub, *a.Subaccounts)
}

// Members returns every account to watch: the configured ones in their
// order, then each parent's discovered subaccounts ordered by SID.
func (s *Set) Members() []Member {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.configured)
	for _, p := range s.parents {
		out = append(out, p.members()...)
	}
	return out
}

// members are the subaccounts of p's last discovery that may be trusted
// still, as entries inheriting p's settings now; none past max_stale.
func (p *parent) members() []Member {
	found := p.entry.State().Snapshot
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Member, 0, len(found))
	for _, a := range found {
		if slices.Contains(p.configured, a.SID) {
			continue // watched as configured
		}
		out = append(out, Member{
			Account: p.account.Subaccount(a.SID, a.AuthToken),
			Info:    Info{FriendlyName: a.FriendlyName, Parent: p.account.Name, Status: a.Status},
		})
	}
	return out
}

// discovered counts what members returns, without building it: every
// scrape and probe reads the count, and building 10,000 members to count
// them was most of a probe's time.
func (p *parent) discovered() int {
	found := p.entry.State().Snapshot
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, a := range found {
		if !slices.Contains(p.configured, a.SID) {
			n++
		}
	}
	return n
}

// Discoveries returns the state of every parent's discovery, in the
// configuration's order.
func (s *Set) Discoveries() []Discovery {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Discovery, 0, len(s.parents))
	for _, p := range s.parents {
		st := p.entry.State()
		p.mu.Lock()
		name := p.account.Name
		p.mu.Unlock()
		out = append(out, Discovery{Account: name, Up: st.Up, Discovered: p.discovered(), Errors: st.Errors, Requests: p.client.AccountsRequests()})
	}
	return out
}

// Run discovers every parent's subaccounts now and then every refresh,
// until ctx ends, and those of parents a later Apply adds. It returns at
// once; the discoveries run in the background.
func (s *Set) Run(ctx context.Context) {
	context.AfterFunc(ctx, s.cancel)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.running = true
	for _, p := range s.parents {
		s.start(p)
	}
}

// start runs p's discovery loop until the set stops or p is removed.
// s.mu is held.
func (s *Set) start(p *parent) {
	go func() {
		for {
			s.refresh(p.ctx, p)
			t := time.NewTimer(p.sub.Refresh)
			select {
			case <-p.ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
	}()
}

// Refresh discovers every parent's subaccounts once, now, and returns
// when done: for tests and for a first listing before serving.
func (s *Set) Refresh(ctx context.Context) {
	s.mu.Lock()
	parents := slices.Clone(s.parents)
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range parents {
		wg.Go(func() { s.refresh(ctx, p) })
	}
	wg.Wait()
}

// refresh discovers p's subaccounts now, and tells OnChange when the
// members changed.
func (s *Set) refresh(ctx context.Context, p *parent) {
	p.entry.Refresh(ctx)
	if p.ctx.Err() != nil {
		return // removed, or shutting down
	}
	after := p.members()
	p.mu.Lock()
	changed := !sameMembers(p.notified, after)
	p.notified = after
	name := p.account.Name
	p.mu.Unlock()
	if !changed {
		return
	}
	level.Info(s.o.Logger).Log("msg", "subaccounts changed", "account", name, "subaccounts", len(after))
	s.changeMu.Lock()
	defer s.changeMu.Unlock()
	s.o.OnChange(s.Members())
}

// discover lists the parent's subaccounts that match its settings, sorted
// by SID.
func (p *parent) discover(ctx context.Context) ([]twilio.Account, error) {
	// Twilio filters by one status and an exact name: send what it can
	// filter, and check everything here as well.
	var q twilio.AccountsQuery
	if len(p.sub.Status) == 1 {
		q.Status = p.sub.Status[0]
	}
	if g := p.sub.FriendlyName; g != "" && !hasMeta(g) {
		q.FriendlyName = g
	}
	p.mu.Lock()
	self := p.account.AccountSID
	p.mu.Unlock()
	var found []twilio.Account
	_, err := p.client.ListAccounts(ctx, q, func(a twilio.Account) error {
		switch {
		case a.SID == self:
			return nil // the parent itself
		case !slices.Contains(p.sub.Status, a.Status):
			return nil
		case p.sub.FriendlyName != "":
			if ok, _ := path.Match(p.sub.FriendlyName, a.FriendlyName); !ok {
				return nil // the glob was checked with the configuration
			}
		}
		if a.AuthToken == "" {
			return fmt.Errorf("subaccount %s listed without its auth_token: the credentials may not list subaccounts' tokens (a Standard API key cannot)", a.SID)
		}
		if slices.ContainsFunc(found, func(f twilio.Account) bool { return f.SID == a.SID }) {
			return nil // listed twice across pages
		}
		found = append(found, a)
		return nil
	})
	if err != nil {
		// err names no token: the client's errors carry status codes and
		// Twilio's messages, never the request's credentials.
		return nil, err
	}
	slices.SortFunc(found, func(a, b twilio.Account) int { return cmp.Compare(a.SID, b.SID) })
	return found, nil
}

// hasMeta says whether a glob has any special character, or is a plain
// name Twilio can filter by.
func hasMeta(glob string) bool {
	return slices.ContainsFunc([]rune(glob), func(r rune) bool { return r == '*' || r == '?' || r == '[' || r == '\\' })
}

// sameMembers says whether two lists name the same accounts with the same
// credentials and descriptions.
func sameMembers(a, b []Member) bool {
	return slices.EqualFunc(a, b, func(x, y Member) bool {
		return SameCredentials(x.Account, y.Account) && x.FriendlyName == y.FriendlyName && x.Status == y.Status && x.Parent == y.Parent
	})
}

// SameCredentials says whether two entries name the same account with the
// same credentials: a rotated subaccount token makes them differ.
func SameCredentials(a, b config.Account) bool {
	x, y := a.BasicAuth(), b.BasicAuth()
	return a.Name == b.Name && x.Username == y.Username && x.Password == y.Password && x.PasswordFile == y.PasswordFile
}
