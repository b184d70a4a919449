// Package config loads the exporter's configuration: which Twilio accounts to
// list, with which credentials, which kinds of objects in each, and how the
// listings are cached and bounded.
//
// A setting is one field: its key is the field's yaml tag (a former name
// of the key is its deprecated tag), its default is in Default (or
// DefaultSubaccounts), and New checks its value. Load, Parse, FromEnv and
// New are the ways to a checked Config, and each returns one that is
// complete (defaults applied, values derived) and valid, or an error.
package config

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	promconfig "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
)

var (
	accountSIDRe = regexp.MustCompile(`^AC[0-9a-fA-F]{32}$`)
	apiKeySIDRe  = regexp.MustCompile(`^SK[0-9a-fA-F]{32}$`)
	policySIDRe  = regexp.MustCompile(`^RN[0-9a-fA-F]{32}$`)
)

const maxExpiringWithinDays = 3650

// Config is the configuration: each field is a key of the file (its yaml
// tag), in Go types. Build one in code from Default and pass it to New;
// only what Load, Parse, FromEnv and New return is checked, with its
// derived values set (base URLs without a trailing slash, windows sorted,
// accounts' names and resources filled in). A checked Config is shared by
// the running exporter: read it, never change it.
type Config struct {
	// APIURL is the TrustHub base URL.
	APIURL string `yaml:"api_url"`
	// MessagingAPIURL is the Messaging base URL.
	MessagingAPIURL string `yaml:"messaging_api_url"`
	// AccountsAPIURL is the base URL of the 2010 Accounts API, where
	// subaccounts are listed.
	AccountsAPIURL string `yaml:"accounts_api_url"`
	// CacheTTL is how long a listing is served without calling Twilio.
	CacheTTL time.Duration `yaml:"cache_ttl"`
	// Timeout bounds one whole listing; greater than 0.
	Timeout time.Duration `yaml:"timeout"`
	// MaxStale is the age up to which data is served after a failed
	// listing.
	MaxStale time.Duration `yaml:"max_stale"`
	// FailureBackoff is the first wait after a failed listing.
	FailureBackoff time.Duration `yaml:"failure_backoff"`
	// UsageMaxAge is the longest a count of what uses an object (see
	// package usage) is kept while the object does not change.
	UsageMaxAge time.Duration `yaml:"usage_max_age"`
	// PageSize is the number of objects asked for per request, 1..1000.
	PageSize int `yaml:"page_size"`
	// ExpiringWithinDays are the expiry windows in days, each once;
	// sorted once checked.
	ExpiringWithinDays []int `yaml:"expiring_within_days"`
	// PerObjectMetrics says whether the per-object series are exported.
	PerObjectMetrics bool `yaml:"per_object_metrics" deprecated:"per_profile_metrics"`
	// PerObjectStatus says which series the per-object status families
	// write, for every kind.
	PerObjectStatus StatusSeries `yaml:"per_object_status" deprecated:"per_profile_status"`
	// MaxConcurrentListings bounds the listings running at once, at least 1.
	MaxConcurrentListings int `yaml:"max_concurrent_listings"`
	// MaxRequestsPerAccount bounds the requests in flight to any one
	// Twilio account, at least 1: Twilio's limit of concurrent requests
	// per account is shared with the account's own traffic.
	MaxRequestsPerAccount int `yaml:"max_requests_per_account"`
	// Resources are the kinds watched where an account names none of its
	// own: at least one, each once.
	Resources []*kinds.Kind `yaml:"resources"`
	// Accounts are the accounts listed: at least one, with distinct names.
	Accounts []Account `yaml:"accounts"`

	// Warnings say what of the file still works but should change (a
	// key under its deprecated name, with the key that replaces it), for
	// the log; Load starts each with the file's path.
	Warnings []string `yaml:"-"`
}

// Default returns the configuration with every default applied and no
// accounts: what a file starts from, as config.yml.example documents. New
// applies no defaults of its own, since a zero page_size or a false
// per_object_metrics may be what was written.
func Default() Config {
	return Config{
		APIURL:                "https://trusthub.twilio.com",
		MessagingAPIURL:       "https://messaging.twilio.com",
		AccountsAPIURL:        "https://api.twilio.com",
		CacheTTL:              5 * time.Minute,
		Timeout:               2 * time.Minute,
		MaxStale:              30 * time.Minute,
		FailureBackoff:        10 * time.Second,
		UsageMaxAge:           time.Hour,
		PageSize:              1000,
		ExpiringWithinDays:    []int{7, 30},
		PerObjectMetrics:      true,
		PerObjectStatus:       StatusFull,
		MaxConcurrentListings: 10,
		MaxRequestsPerAccount: 8,
		Resources:             kinds.Default(),
	}
}

// StatusSeries says which series each kind's per-object ..._status
// family writes.
type StatusSeries string

const (
	// StatusFull writes one series per documented status per object: 1
	// for the current one, 0 for the others.
	StatusFull StatusSeries = "full"
	// StatusSparse writes only the current status's series, of value 1.
	StatusSparse StatusSeries = "sparse"
)

// check is called by New, and by the decoder as the value is read so that a
// wrong one is refused with its line.
func (s StatusSeries) check() error {
	if s != StatusFull && s != StatusSparse {
		return fmt.Errorf("%q is not one of %s, %s", string(s), StatusFull, StatusSparse)
	}
	return nil
}

// Account is one entry of accounts: a Twilio account (or subaccount) whose
// objects are listed.
type Account struct {
	// Name is the account label; the AccountSID once checked, if unset.
	Name       string `yaml:"name"`
	AccountSID string `yaml:"account_sid"`
	// The credential is the auth token (inline or in a file), or an API key
	// with its secret (inline or in a file). Load takes a relative file
	// path as relative to the configuration file; the HTTP client re-reads
	// the file on every request.
	AuthToken     promconfig.Secret `yaml:"auth_token"`
	AuthTokenFile string            `yaml:"auth_token_file"`
	APIKey        string            `yaml:"api_key"`
	APISecret     promconfig.Secret `yaml:"api_secret"`
	APISecretFile string            `yaml:"api_secret_file"`
	// Status, FriendlyName and PolicySID filter the listings (see Filter).
	Status       string `yaml:"status"`
	FriendlyName string `yaml:"friendly_name"`
	PolicySID    string `yaml:"policy_sid"`
	// Resources are the kinds watched in the account; nil for the
	// top-level list, which New then sets.
	Resources []*kinds.Kind `yaml:"resources"`
	// Subaccounts, when set, may ask for the account's subaccounts to be
	// discovered and watched too. Once checked, it is nil unless they are.
	Subaccounts *Subaccounts `yaml:"subaccounts"`
}

// Subaccounts is an account's subaccounts key: which of its subaccounts are
// discovered, and how often.
type Subaccounts struct {
	Discover bool `yaml:"discover"`
	// Status lists the account statuses watched: active when nil, and
	// never empty once checked.
	Status []string `yaml:"status"`
	// FriendlyName is a glob (path.Match) a subaccount's friendly name
	// must match; any name when empty.
	FriendlyName string `yaml:"friendly_name"`
	// Refresh is how often the subaccounts are listed again; greater
	// than 0, so that a written 0s is refused rather than taken for
	// unset: start a value built in code from DefaultSubaccounts.
	Refresh time.Duration `yaml:"refresh"`
}

// DefaultSubaccounts returns what a subaccounts key starts from.
func DefaultSubaccounts() Subaccounts { return Subaccounts{Refresh: 10 * time.Minute} }

// AccountStatuses are the statuses of a Twilio account, as the 2010
// Accounts API writes them.
var AccountStatuses = []string{"active", "suspended", "closed"}

// String describes the account without its secrets, so that no %v of a
// configuration can print a token, even by mistake.
func (a Account) String() string {
	names := make([]string, len(a.Resources))
	for i, k := range a.Resources {
		if k != nil {
			names[i] = k.Name
		}
	}
	return fmt.Sprintf("{name:%s account_sid:%s api_key:%s auth_token_file:%s api_secret_file:%s status:%s friendly_name:%s policy_sid:%s resources:%v}",
		a.Name, a.AccountSID, a.APIKey, a.AuthTokenFile, a.APISecretFile, a.Status, a.FriendlyName, a.PolicySID, names)
}

// GoString is String, for %#v.
func (a Account) GoString() string { return a.String() }

// UsesAPIKey says whether the credential is an API key and secret rather
// than the account's auth token.
func (a Account) UsesAPIKey() bool { return a.APIKey != "" }

// BasicAuth returns the HTTP basic-auth settings: the account SID or API
// key as user, the token or secret (or the file holding it) as password.
func (a Account) BasicAuth() *promconfig.BasicAuth {
	if a.UsesAPIKey() {
		return &promconfig.BasicAuth{Username: a.APIKey, Password: a.APISecret, PasswordFile: a.APISecretFile}
	}
	return &promconfig.BasicAuth{Username: a.AccountSID, Password: a.AuthToken, PasswordFile: a.AuthTokenFile}
}

// Filter is the listing filter (status, friendly_name, policy_sid). Each
// kind is sent the filters it takes.
func (a Account) Filter() kinds.Filters {
	return kinds.Filters{kinds.FilterStatus: a.Status, kinds.FilterFriendlyName: a.FriendlyName, kinds.FilterPolicySID: a.PolicySID}
}

// Subaccount returns the account entry of a subaccount discovered under
// a: the subaccount's own SID as its name and user, its own auth token,
// and every other setting (resources, filters) of a. It discovers nothing
// itself.
func (a Account) Subaccount(sid string, authToken promconfig.Secret) Account {
	sub := a
	sub.Name, sub.AccountSID = sid, sid
	sub.AuthToken, sub.AuthTokenFile = authToken, ""
	sub.APIKey, sub.APISecret, sub.APISecretFile = "", "", ""
	sub.Subaccounts = nil
	sub.Resources = slices.Clip(slices.Clone(a.Resources))
	return sub
}

// Load reads and parses the file at path. Relative *_file paths are taken
// relative to the file's directory. Every error starts with path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path) //nolint:gosec // the operator names the file
	if err != nil {
		return nil, fmt.Errorf("%s: cannot be read: %w", path, unwrapPathError(err))
	}
	cfg, err := Parse(bytes.NewReader(data), filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for i, w := range cfg.Warnings {
		cfg.Warnings[i] = path + ": " + w
	}
	return cfg, nil
}

// Parse decodes a configuration strictly, applies the defaults and checks
// it; dir anchors relative *_file paths.
func Parse(r io.Reader, dir string) (*Config, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	c, err := decode(data)
	if err != nil {
		return nil, err
	}
	for i := range c.Accounts {
		a := &c.Accounts[i]
		a.AuthTokenFile = resolve(dir, a.AuthTokenFile)
		a.APISecretFile = resolve(dir, a.APISecretFile)
	}
	return New(c)
}

func resolve(dir, path string) string {
	if path == "" || filepath.IsAbs(path) || dir == "" {
		return path
	}
	return filepath.Join(dir, path)
}

// FromEnv builds a one-account configuration from Twilio's usual
// environment variables, for running without a config file.
func FromEnv(getenv func(string) string) (*Config, error) {
	sid := getenv("TWILIO_ACCOUNT_SID")
	if sid == "" {
		return nil, errors.New("no --config.file given and TWILIO_ACCOUNT_SID is not set: set TWILIO_ACCOUNT_SID with TWILIO_AUTH_TOKEN (or TWILIO_API_KEY and TWILIO_API_SECRET), or pass --config.file")
	}
	a := Account{AccountSID: sid}
	token, key, secret := getenv("TWILIO_AUTH_TOKEN"), getenv("TWILIO_API_KEY"), getenv("TWILIO_API_SECRET")
	switch {
	case key != "" || secret != "":
		a.APIKey, a.APISecret = key, promconfig.Secret(secret)
		if token != "" {
			return nil, errors.New("TWILIO_AUTH_TOKEN and TWILIO_API_KEY/TWILIO_API_SECRET are both set: set one kind of credential")
		}
		if key == "" || secret == "" {
			return nil, errors.New("TWILIO_API_KEY and TWILIO_API_SECRET must be set together")
		}
	case token != "":
		a.AuthToken = promconfig.Secret(token)
	default:
		return nil, errors.New("TWILIO_ACCOUNT_SID is set but no credential is: set TWILIO_AUTH_TOKEN, or TWILIO_API_KEY and TWILIO_API_SECRET")
	}
	c := Default()
	c.Accounts = []Account{a}
	cfg, err := New(c)
	if err != nil {
		return nil, fmt.Errorf("from environment: %w", err)
	}
	return cfg, nil
}

// New checks every field of c and returns it checked, with its derived
// values set; c itself, and what its slices hold, are left as they are.
// The error is the first problem, naming the key and the value.
func New(c Config) (*Config, error) {
	// cmp.Or returns the first error that is not nil.
	if err := cmp.Or(
		trimBaseURL("api_url", &c.APIURL),
		trimBaseURL("messaging_api_url", &c.MessagingAPIURL),
		trimBaseURL("accounts_api_url", &c.AccountsAPIURL),
		notNegative("cache_ttl", c.CacheTTL),
		greaterThanZero("timeout", c.Timeout),
		notNegative("max_stale", c.MaxStale),
		notNegative("failure_backoff", c.FailureBackoff),
		notNegative("usage_max_age", c.UsageMaxAge),
	); err != nil {
		return nil, err
	}
	if c.PageSize < 1 || c.PageSize > 1000 {
		return nil, fmt.Errorf("page_size: %d is outside 1..1000", c.PageSize)
	}
	if err := c.PerObjectStatus.check(); err != nil {
		return nil, fmt.Errorf("per_object_status: %w", err)
	}
	if c.MaxConcurrentListings < 1 {
		return nil, fmt.Errorf("max_concurrent_listings: %d must be at least 1", c.MaxConcurrentListings)
	}
	if c.MaxRequestsPerAccount < 1 {
		return nil, fmt.Errorf("max_requests_per_account: %d must be at least 1", c.MaxRequestsPerAccount)
	}
	for i, d := range c.ExpiringWithinDays {
		if d < 1 || d > maxExpiringWithinDays {
			return nil, fmt.Errorf("expiring_within_days[%d]: %d is outside 1..%d", i, d, maxExpiringWithinDays)
		}
		if slices.Contains(c.ExpiringWithinDays[:i], d) {
			return nil, fmt.Errorf("expiring_within_days[%d]: %d is listed twice", i, d)
		}
	}
	// Sorted makes a new slice, and Clip one that an append copies.
	c.ExpiringWithinDays = slices.Clip(slices.Sorted(slices.Values(c.ExpiringWithinDays)))
	var err error
	if c.Resources, err = checkResources("resources", c.Resources); err != nil {
		return nil, err
	}
	if len(c.Accounts) == 0 {
		return nil, errors.New("accounts: at least one account is required")
	}
	accounts := make([]Account, len(c.Accounts))
	for i, a := range c.Accounts {
		if accounts[i], err = checkAccount(a, c.Resources); err != nil {
			return nil, fmt.Errorf("accounts[%d]: %w", i, err)
		}
		if j := slices.IndexFunc(accounts[:i], func(b Account) bool { return b.Name == accounts[i].Name }); j >= 0 {
			return nil, fmt.Errorf("accounts[%d]: name %q is already used by accounts[%d]", i, accounts[i].Name, j)
		}
	}
	c.Accounts = accounts
	return &c, nil
}

// trimBaseURL checks an API's base URL, at key, and drops its trailing
// slash.
func trimBaseURL(key string, u *string) error {
	p, err := url.Parse(*u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" || p.RawQuery != "" || p.Fragment != "" || p.User != nil {
		return fmt.Errorf("%s: %q is not an http(s) URL with a host and no user, query or fragment", key, *u)
	}
	*u = strings.TrimRight(*u, "/")
	return nil
}

// Durations are written back in the notation they are read in (30s, 5m).

func notNegative(key string, d time.Duration) error {
	if d < 0 {
		return fmt.Errorf("%s: %s must not be negative", key, model.Duration(d))
	}
	return nil
}

func greaterThanZero(key string, d time.Duration) error {
	if d <= 0 {
		return fmt.Errorf("%s: %s must be greater than 0", key, model.Duration(d))
	}
	return nil
}

// checkResources checks a resources list (at key) and returns a copy.
func checkResources(key string, ks []*kinds.Kind) ([]*kinds.Kind, error) {
	if len(ks) == 0 {
		return nil, fmt.Errorf("%s: the list is empty; name at least one of %s", key, strings.Join(kinds.Names(), ", "))
	}
	for i, k := range ks {
		if k == nil {
			return nil, fmt.Errorf("%s[%d]: the item is empty", key, i)
		}
		if slices.Contains(ks[:i], k) {
			return nil, fmt.Errorf("%s[%d]: %q is listed twice", key, i, k.Name)
		}
	}
	return slices.Clip(slices.Clone(ks)), nil
}

// checkAccount checks an account and fills in its name and resources.
func checkAccount(a Account, resources []*kinds.Kind) (Account, error) {
	if !accountSIDRe.MatchString(a.AccountSID) {
		return Account{}, fmt.Errorf("account_sid: %q does not match %s", a.AccountSID, accountSIDRe)
	}
	a.Name = cmp.Or(a.Name, a.AccountSID)
	if a.Resources == nil {
		a.Resources = resources
	} else {
		var err error
		if a.Resources, err = checkResources("resources", a.Resources); err != nil {
			return Account{}, err
		}
	}
	hasToken := a.AuthToken != "" || a.AuthTokenFile != ""
	hasKey := a.APIKey != "" || a.APISecret != "" || a.APISecretFile != ""
	switch {
	case a.AuthToken != "" && a.AuthTokenFile != "":
		return Account{}, errors.New("auth_token and auth_token_file are mutually exclusive")
	case a.APISecret != "" && a.APISecretFile != "":
		return Account{}, errors.New("api_secret and api_secret_file are mutually exclusive")
	case hasToken && hasKey:
		return Account{}, errors.New("set either auth_token(_file) or api_key with api_secret(_file), not both")
	case !hasToken && !hasKey:
		return Account{}, errors.New("no credentials: set auth_token, auth_token_file, or api_key with api_secret or api_secret_file")
	}
	fileKey := "auth_token_file"
	if hasKey {
		if !apiKeySIDRe.MatchString(a.APIKey) {
			return Account{}, fmt.Errorf("api_key: %q does not match %s", a.APIKey, apiKeySIDRe)
		}
		if a.APISecret == "" && a.APISecretFile == "" {
			return Account{}, errors.New("api_key needs api_secret or api_secret_file")
		}
		fileKey = "api_secret_file"
	}
	if file := a.BasicAuth().PasswordFile; file != "" {
		// Read once now so that a typo fails at start; the HTTP client
		// re-reads it on every request so that rotation needs no reload.
		b, err := os.ReadFile(file) //nolint:gosec // the operator names the file
		if err != nil {
			return Account{}, fmt.Errorf("%s: %q cannot be read: %w", fileKey, file, unwrapPathError(err))
		}
		if strings.TrimSpace(string(b)) == "" {
			return Account{}, fmt.Errorf("%s: %q is empty", fileKey, file)
		}
	}
	if a.Status != "" {
		// The status filter goes to every watched kind that takes it, so
		// it must be a status of each.
		for _, k := range a.Resources {
			if k.Takes(kinds.FilterStatus) && !k.Documented(a.Status) {
				return Account{}, fmt.Errorf("status: %q is not one of %s", a.Status, strings.Join(k.Statuses, ", "))
			}
		}
	}
	if a.PolicySID != "" && !policySIDRe.MatchString(a.PolicySID) {
		return Account{}, fmt.Errorf("policy_sid: %q does not match %s", a.PolicySID, policySIDRe)
	}
	if a.Subaccounts != nil {
		sub, err := checkSubaccounts(*a.Subaccounts)
		if err != nil {
			return Account{}, fmt.Errorf("subaccounts: %w", err)
		}
		a.Subaccounts = sub
	}
	return a, nil
}

// checkSubaccounts checks a subaccounts key; nil when discover is off.
func checkSubaccounts(s Subaccounts) (*Subaccounts, error) {
	if s.Status == nil {
		s.Status = []string{"active"}
	} else if len(s.Status) == 0 {
		return nil, fmt.Errorf("status: the list is empty; name at least one of %s", strings.Join(AccountStatuses, ", "))
	}
	for i, st := range s.Status {
		if !slices.Contains(AccountStatuses, st) {
			return nil, fmt.Errorf("status[%d]: %q is not one of %s", i, st, strings.Join(AccountStatuses, ", "))
		}
		if slices.Contains(s.Status[:i], st) {
			return nil, fmt.Errorf("status[%d]: %q is listed twice", i, st)
		}
	}
	s.Status = slices.Clip(slices.Clone(s.Status))
	if _, err := path.Match(s.FriendlyName, ""); err != nil {
		return nil, fmt.Errorf("friendly_name: %q is not a valid glob (path.Match syntax: *, ?, [a-z])", s.FriendlyName)
	}
	if err := greaterThanZero("refresh", s.Refresh); err != nil {
		return nil, err
	}
	if !s.Discover {
		return nil, nil // checked, and nothing to discover
	}
	return &s, nil
}

// unwrapPathError drops the *PathError wrapper, whose text repeats the path.
func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
