// Package accounts owns the set of accounts to watch: the configured ones
// and the subaccounts discovered under a parent, each with its own
// credentials. Discovery runs on its own clock (each parent's refresh),
// not per scrape; whoever builds listings from the set is told when it
// changes.
package accounts

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"path"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/config"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/twilio"
)

// Member is one account to watch.
type Member struct {
	// Account is its entry: a configured one, or for a discovered
	// subaccount, the parent's with the subaccount's SID and token.
	Account config.Account
	// FriendlyName is Twilio's name of a discovered subaccount; the
	// configured name otherwise.
	FriendlyName string
	// Parent is the configured name of the account it was discovered
	// under; empty for a configured account.
	Parent string
	// Status is Twilio's status of a discovered subaccount; empty for a
	// configured one.
	Status string
}

// Discovery is what is known of one parent's discovery.
type Discovery struct {
	// Parent is the parent's configured name.
	Parent string
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
}

// Set is the accounts to watch. It is safe for concurrent use.
type Set struct {
	o Options

	// mu guards what a configuration gives: the configured accounts, the
	// parents, the timings, and the context discoveries run under.
	mu         sync.Mutex
	configured []Member
	parents    []*parent
	maxStale   time.Duration
	timeout    time.Duration
	// run is the context Run was given; nil before Run.
	run context.Context

	// changeMu makes OnChange calls one at a time, each with the set
	// as it is after the change.
	changeMu sync.Mutex
}

// parent is a configured account whose subaccounts are discovered.
type parent struct {
	account config.Account
	sub     config.Subaccounts
	// accountsURL is the Accounts API the client lists from.
	accountsURL string
	client      *twilio.Client
	// stop ends the parent's discovery loop; nil until it runs.
	stop context.CancelFunc

	mu sync.Mutex
	// configured are the SIDs of every configured account: a subaccount
	// configured on its own is watched as configured, not twice.
	configured  []string
	members     []Member
	done, up    bool
	lastSuccess time.Time
	errors      map[string]uint64
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
	s := &Set{o: o}
	if err := s.Apply(cfg); err != nil {
		return nil, err
	}
	return s, nil
}

// Apply makes cfg's accounts the set's, as Prometheus' scrape manager
// applies a configuration: a parent whose credentials, subaccount
// settings and Accounts API are unchanged keeps its discovered
// subaccounts and their state; a new one starts discovering (once Run
// has); a removed one stops. On an error nothing changes. OnChange is not
// called: the caller reads Members after.
func (s *Set) Apply(cfg *config.Config) error {
	var configured []Member
	var sids []string
	for _, a := range cfg.Accounts {
		configured = append(configured, Member{Account: a, FriendlyName: a.Name})
		sids = append(sids, a.AccountSID)
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
		})
		if err != nil {
			return fmt.Errorf("accounts %s: %w", a.Name, err)
		}
		p := &parent{account: a, sub: *a.Subaccounts, accountsURL: cfg.AccountsAPIURL, client: client, configured: sids, errors: map[string]uint64{}}
		parents, accts = append(parents, p), append(accts, a)
		started = append(started, p)
	}
	for _, p := range s.parents {
		if !slices.Contains(parents, p) && p.stop != nil {
			p.stop()
		}
	}
	for i, p := range parents {
		// A parent kept may differ in what its subaccounts inherit (its
		// name, resources, filters): they take it now, not at the next
		// discovery.
		a := accts[i]
		p.mu.Lock()
		p.configured, p.account = sids, a
		members := make([]Member, len(p.members))
		for j, m := range p.members {
			m.Account = a.Subaccount(m.Account.AccountSID, m.Account.AuthToken)
			m.Parent = a.Name
			members[j] = m
		}
		p.members = members
		p.mu.Unlock()
	}
	s.configured, s.parents = configured, parents
	s.maxStale, s.timeout = max(cfg.MaxStale, cfg.CacheTTL), cfg.Timeout
	if s.run != nil {
		for _, p := range started {
			s.start(p)
		}
	}
	return nil
}

// same says whether the parent discovers as account a of a configuration
// with that Accounts API would.
func (p *parent) same(a config.Account, accountsURL string) bool {
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
		p.mu.Lock()
		out = append(out, p.members...)
		p.mu.Unlock()
	}
	return out
}

// Discoveries returns the state of every parent's discovery, in the
// configuration's order.
func (s *Set) Discoveries() []Discovery {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Discovery, 0, len(s.parents))
	for _, p := range s.parents {
		p.mu.Lock()
		d := Discovery{Parent: p.account.Name, Up: p.done && p.up, Discovered: len(p.members), Errors: make(map[string]uint64, len(p.errors)),
			Requests: p.client.AccountsRequests()}
		for k, v := range p.errors {
			d.Errors[k] = v
		}
		p.mu.Unlock()
		out = append(out, d)
	}
	return out
}

// Run discovers every parent's subaccounts now and then every refresh,
// until ctx ends, and those of parents a later Apply adds. It returns at
// once; the discoveries run in the background.
func (s *Set) Run(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.run = ctx
	for _, p := range s.parents {
		s.start(p)
	}
}

// start runs p's discovery loop until s.run ends or p is removed. s.mu is
// held.
func (s *Set) start(p *parent) {
	ctx, stop := context.WithCancel(s.run)
	p.stop = stop
	go func() {
		for {
			s.refresh(ctx, p)
			t := time.NewTimer(p.sub.Refresh)
			select {
			case <-ctx.Done():
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

func (s *Set) refresh(ctx context.Context, p *parent) {
	s.mu.Lock()
	timeout, maxStale := s.timeout, s.maxStale
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	found, err := p.discover(ctx)
	if ctx.Err() != nil && errors.Is(context.Cause(ctx), context.Canceled) {
		return // shutting down or replaced by a reload
	}
	now := s.o.Now()
	p.mu.Lock()
	logger := log.With(s.o.Logger, "account", p.account.Name)
	before := p.members
	wasUp := p.up
	p.done = true
	if err == nil {
		p.up, p.lastSuccess, p.members = true, now, found
	} else {
		reason := twilio.Reason(err)
		p.errors[reason]++
		p.up = false
		// The last list stands in for a while, as a stale listing does;
		// past max_stale nothing known is trusted.
		if now.Sub(p.lastSuccess) >= maxStale {
			p.members = nil
		}
		kept := len(p.members)
		p.mu.Unlock()
		// err names no token: the client's errors carry status codes and
		// Twilio's messages, never the request's credentials.
		level.Error(logger).Log("msg", "subaccount discovery failed; keeping the last list", "reason", reason, "kept", kept, "err", err)
		p.mu.Lock()
	}
	after := p.members
	p.mu.Unlock()
	if err == nil {
		if !wasUp {
			level.Info(logger).Log("msg", "subaccounts discovered", "subaccounts", len(after), "duration", time.Since(start))
		} else {
			level.Debug(logger).Log("msg", "subaccounts discovered", "subaccounts", len(after), "duration", time.Since(start))
		}
	}
	if !sameMembers(before, after) {
		s.changeMu.Lock()
		defer s.changeMu.Unlock()
		s.o.OnChange(s.Members())
	}
}

// discover lists the parent's subaccounts that match its settings.
func (p *parent) discover(ctx context.Context) ([]Member, error) {
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
	configured, parent := p.configured, p.account
	p.mu.Unlock()
	var found []Member
	_, err := p.client.ListAccounts(ctx, q, func(a twilio.Account) error {
		switch {
		case a.SID == parent.AccountSID, slices.Contains(configured, a.SID):
			return nil // listed as configured
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
		if slices.ContainsFunc(found, func(m Member) bool { return m.Account.AccountSID == a.SID }) {
			return nil // listed twice across pages
		}
		found = append(found, Member{
			Account:      parent.Subaccount(a.SID, a.AuthToken),
			FriendlyName: a.FriendlyName,
			Parent:       parent.Name,
			Status:       a.Status,
		})
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(found, func(a, b Member) int { return cmp.Compare(a.Account.AccountSID, b.Account.AccountSID) })
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
