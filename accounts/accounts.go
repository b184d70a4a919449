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
	"slices"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/config"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/trusthub"
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
}

// Options configure a Set.
type Options struct {
	UserAgent string
	Logger    log.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Retry spaces out retried requests; trusthub.DefaultRetryPolicy when zero.
	Retry trusthub.RetryPolicy
	// OnChange is called, one call at a time, with every member after
	// the set changed.
	OnChange func([]Member)
	// Transport is the connection pool the discovery requests share with
	// the listings (see trusthub.Options.Transport); nil, each parent's
	// client has its own.
	Transport http.RoundTripper
}

// Set is the accounts to watch. It is safe for concurrent use.
type Set struct {
	configured []Member
	parents    []*parent
	o          Options
	maxStale   time.Duration
	timeout    time.Duration

	// changeMu makes OnChange calls one at a time, each with the set
	// as it is after the change.
	changeMu sync.Mutex
}

// parent is a configured account whose subaccounts are discovered.
type parent struct {
	account config.Account
	sub     config.Subaccounts
	client  *trusthub.Client
	// configured are the SIDs of every configured account: a subaccount
	// configured on its own is watched as configured, not twice.
	configured []string

	mu          sync.Mutex
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
	s := &Set{o: o, maxStale: max(cfg.MaxStale, cfg.CacheTTL), timeout: cfg.Timeout}
	var sids []string
	for _, a := range cfg.Accounts {
		s.configured = append(s.configured, Member{Account: a, FriendlyName: a.Name})
		sids = append(sids, a.AccountSID)
	}
	for _, a := range cfg.Accounts {
		if a.Subaccounts == nil {
			continue
		}
		client, err := trusthub.New(trusthub.Options{
			AccountsURL: cfg.AccountsAPIURL,
			Auth:        a.BasicAuth(),
			PageSize:    1000,
			UserAgent:   o.UserAgent,
			Retry:       o.Retry,
			Transport:   o.Transport,
		})
		if err != nil {
			return nil, err
		}
		s.parents = append(s.parents, &parent{account: a, sub: *a.Subaccounts, client: client, configured: sids, errors: map[string]uint64{}})
	}
	return s, nil
}

// Members returns every account to watch: the configured ones in their
// order, then each parent's discovered subaccounts ordered by SID.
func (s *Set) Members() []Member {
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
	out := make([]Discovery, 0, len(s.parents))
	for _, p := range s.parents {
		p.mu.Lock()
		d := Discovery{Parent: p.account.Name, Up: p.done && p.up, Discovered: len(p.members), Errors: make(map[string]uint64, len(p.errors))}
		for k, v := range p.errors {
			d.Errors[k] = v
		}
		p.mu.Unlock()
		out = append(out, d)
	}
	return out
}

// Run discovers every parent's subaccounts now and then every refresh,
// until ctx ends. It returns at once; the discoveries run in the
// background.
func (s *Set) Run(ctx context.Context) {
	for _, p := range s.parents {
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
}

// Refresh discovers every parent's subaccounts once, now, and returns
// when done: for tests and for a first listing before serving.
func (s *Set) Refresh(ctx context.Context) {
	var wg sync.WaitGroup
	for _, p := range s.parents {
		wg.Go(func() { s.refresh(ctx, p) })
	}
	wg.Wait()
}

func (s *Set) refresh(ctx context.Context, p *parent) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	start := time.Now()
	found, err := p.discover(ctx)
	if ctx.Err() != nil && errors.Is(context.Cause(ctx), context.Canceled) {
		return // shutting down or replaced by a reload
	}
	logger := log.With(s.o.Logger, "account", p.account.Name)
	now := s.o.Now()
	p.mu.Lock()
	before := p.members
	wasUp := p.up
	p.done = true
	if err == nil {
		p.up, p.lastSuccess, p.members = true, now, found
	} else {
		reason := trusthub.Reason(err)
		p.errors[reason]++
		p.up = false
		// The last list stands in for a while, as a stale listing does;
		// past max_stale nothing known is trusted.
		if now.Sub(p.lastSuccess) >= s.maxStale {
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
	var q trusthub.AccountsQuery
	if len(p.sub.Status) == 1 {
		q.Status = p.sub.Status[0]
	}
	if g := p.sub.FriendlyName; g != "" && !hasMeta(g) {
		q.FriendlyName = g
	}
	var found []Member
	_, err := p.client.ListAccounts(ctx, q, func(a trusthub.Account) error {
		switch {
		case a.SID == p.account.AccountSID, slices.Contains(p.configured, a.SID):
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
			Account:      p.account.Subaccount(a.SID, a.AuthToken),
			FriendlyName: a.FriendlyName,
			Parent:       p.account.Name,
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
