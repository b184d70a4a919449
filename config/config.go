// Package config loads the exporter's configuration: which Twilio accounts to
// list, with which credentials, which kinds of objects in each, and how the
// listings are cached and bounded.
// Load, Parse, FromEnv and New are the only ways to a Config, and each
// returns one that is complete (defaults applied, values derived) and valid,
// or an error.
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
	"go.yaml.in/yaml/v3"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
)

var (
	accountSIDRe = regexp.MustCompile(`^AC[0-9a-fA-F]{32}$`)
	apiKeySIDRe  = regexp.MustCompile(`^SK[0-9a-fA-F]{32}$`)
	policySIDRe  = regexp.MustCompile(`^RN[0-9a-fA-F]{32}$`)
)

// Defaults, as documented in config.yml.example.
const (
	DefaultAPIURL                = "https://trusthub.twilio.com"
	DefaultMessagingAPIURL       = "https://messaging.twilio.com"
	DefaultAccountsAPIURL        = "https://api.twilio.com"
	DefaultSubaccountsRefresh    = 10 * time.Minute
	DefaultCacheTTL              = 5 * time.Minute
	DefaultTimeout               = 2 * time.Minute
	DefaultMaxStale              = 30 * time.Minute
	DefaultFailureBackoff        = 10 * time.Second
	DefaultUsageMaxAge           = time.Hour
	DefaultPageSize              = 1000
	DefaultMaxConcurrentListings = 10
	maxExpiringWithinDays        = 3650
)

// Spec is the configuration as written: the keys of the YAML file, or the
// same built in code from Default. It is only input: New checks it and turns
// it into a Config.
type Spec struct {
	APIURL                string        `yaml:"api_url"`
	MessagingAPIURL       string        `yaml:"messaging_api_url"`
	AccountsAPIURL        string        `yaml:"accounts_api_url"`
	CacheTTL              Duration      `yaml:"cache_ttl"`
	Timeout               Duration      `yaml:"timeout"`
	MaxStale              Duration      `yaml:"max_stale"`
	FailureBackoff        Duration      `yaml:"failure_backoff"`
	UsageMaxAge           Duration      `yaml:"usage_max_age"`
	PageSize              int           `yaml:"page_size"`
	ExpiringWithinDays    []int         `yaml:"expiring_within_days"`
	PerProfileMetrics     bool          `yaml:"per_profile_metrics"`
	PerProfileStatus      StatusSeries  `yaml:"per_profile_status"`
	MaxConcurrentListings int           `yaml:"max_concurrent_listings"`
	Resources             []Resource    `yaml:"resources"`
	Accounts              []AccountSpec `yaml:"accounts"`
}

// Resource is the name of a kind of object to watch (see package kinds),
// as written in a resources list.
type Resource string

// UnmarshalYAML checks the name as it is read, so that a wrong one is
// refused with its line; the decoder adds the line and the key.
func (r *Resource) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("cannot decode %s as a resource name", describe(n))
	}
	if _, err := Resource(n.Value).kind(); err != nil {
		return err
	}
	*r = Resource(n.Value)
	return nil
}

// kind returns the kind the name names, or says why there is none.
func (r Resource) kind() (*kinds.Kind, error) {
	if k, ok := kinds.ByName(string(r)); ok {
		return k, nil
	}
	return nil, fmt.Errorf("unknown resource %q; the valid ones are %s", string(r), strings.Join(kinds.Names(), ", "))
}

// resolveResources checks a resources list (at key) and returns its kinds.
func resolveResources(key string, rs []Resource) ([]*kinds.Kind, error) {
	if len(rs) == 0 {
		return nil, fmt.Errorf("%s: the list is empty; name at least one of %s", key, strings.Join(kinds.Names(), ", "))
	}
	out := make([]*kinds.Kind, 0, len(rs))
	for i, r := range rs {
		k, err := r.kind()
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: %w", key, i, err)
		}
		if slices.Contains(out, k) {
			return nil, fmt.Errorf("%s[%d]: %q is listed twice", key, i, string(r))
		}
		out = append(out, k)
	}
	return out, nil
}

// StatusSeries says which series each kind's per-object ..._status
// family writes (per_profile_status).
type StatusSeries string

const (
	// StatusFull writes one series per documented status per object: 1
	// for the current one, 0 for the others.
	StatusFull StatusSeries = "full"
	// StatusSparse writes only the current status's series, of value 1.
	StatusSparse StatusSeries = "sparse"
)

// UnmarshalYAML checks the value as it is read, so that a wrong one is
// refused with its line; the decoder adds the line and the key.
func (s *StatusSeries) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("cannot decode %s as full or sparse", describe(n))
	}
	if err := StatusSeries(n.Value).check(); err != nil {
		return err
	}
	*s = StatusSeries(n.Value)
	return nil
}

func (s StatusSeries) check() error {
	if s != StatusFull && s != StatusSparse {
		return fmt.Errorf("%q is not one of %s, %s", string(s), StatusFull, StatusSparse)
	}
	return nil
}

// AccountSpec is one entry of accounts as written: a Twilio account (or
// subaccount) whose objects are listed.
type AccountSpec struct {
	Name          string            `yaml:"name"`
	AccountSID    string            `yaml:"account_sid"`
	AuthToken     promconfig.Secret `yaml:"auth_token"`
	AuthTokenFile string            `yaml:"auth_token_file"`
	APIKey        string            `yaml:"api_key"`
	APISecret     promconfig.Secret `yaml:"api_secret"`
	APISecretFile string            `yaml:"api_secret_file"`
	Status        string            `yaml:"status"`
	FriendlyName  string            `yaml:"friendly_name"`
	PolicySID     string            `yaml:"policy_sid"`
	// Resources, when set, replaces the top-level list for this account.
	Resources []Resource `yaml:"resources"`
	// Subaccounts, when set, may ask for the account's subaccounts to be
	// discovered and watched too.
	Subaccounts *SubaccountsSpec `yaml:"subaccounts"`
}

// SubaccountsSpec is an account's subaccounts key as written.
type SubaccountsSpec struct {
	Discover bool `yaml:"discover"`
	// Status lists the account statuses watched; active when unset.
	Status []string `yaml:"status"`
	// FriendlyName is a glob (path.Match) a subaccount's friendly name
	// must match; any name when empty.
	FriendlyName string `yaml:"friendly_name"`
	// Refresh is how often the subaccounts are listed again; 10m when
	// unset. A pointer, so that a written 0s is refused rather than taken
	// for unset.
	Refresh *Duration `yaml:"refresh"`
}

// AccountStatuses are the statuses of a Twilio account, as the 2010
// Accounts API writes them.
var AccountStatuses = []string{"active", "suspended", "closed"}

// String describes the account without its secrets, so that no %v of a
// specification can print a token, even by mistake.
func (a AccountSpec) String() string {
	return fmt.Sprintf("{name:%s account_sid:%s api_key:%s auth_token_file:%s api_secret_file:%s status:%s friendly_name:%s policy_sid:%s resources:%v}",
		a.Name, a.AccountSID, a.APIKey, a.AuthTokenFile, a.APISecretFile, a.Status, a.FriendlyName, a.PolicySID, a.Resources)
}

// GoString is String, for %#v.
func (a AccountSpec) GoString() string { return a.String() }

// Duration is a duration in Prometheus' notation (30s, 5m, 1h, 7d).
type Duration time.Duration

// UnmarshalYAML parses the duration; the decoder adds the line and the key.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("cannot decode %s as a duration", describe(n))
	}
	v, err := model.ParseDuration(n.Value)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration back in the same notation.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

func (d Duration) String() string { return model.Duration(d).String() }

// Default returns a specification with every default applied and no accounts.
func Default() Spec {
	return Spec{
		APIURL:                DefaultAPIURL,
		MessagingAPIURL:       DefaultMessagingAPIURL,
		AccountsAPIURL:        DefaultAccountsAPIURL,
		CacheTTL:              Duration(DefaultCacheTTL),
		Timeout:               Duration(DefaultTimeout),
		MaxStale:              Duration(DefaultMaxStale),
		FailureBackoff:        Duration(DefaultFailureBackoff),
		UsageMaxAge:           Duration(DefaultUsageMaxAge),
		PageSize:              DefaultPageSize,
		ExpiringWithinDays:    []int{7, 30},
		PerProfileMetrics:     true,
		PerProfileStatus:      StatusFull,
		MaxConcurrentListings: DefaultMaxConcurrentListings,
		Resources:             defaultResources(),
	}
}

func defaultResources() []Resource {
	var out []Resource
	for _, k := range kinds.Default() {
		out = append(out, Resource(k.Name))
	}
	return out
}

// Config is a checked configuration with every value derived. Its fields
// are unexported so that none can be built half-way: get one from Load,
// Parse, FromEnv or New.
type Config struct {
	apiURL                string
	messagingAPIURL       string
	accountsAPIURL        string
	cacheTTL              time.Duration
	timeout               time.Duration
	maxStale              time.Duration
	failureBackoff        time.Duration
	usageMaxAge           time.Duration
	pageSize              int
	expiringWithinDays    []int
	perProfileMetrics     bool
	perProfileStatus      StatusSeries
	maxConcurrentListings int
	resources             []*kinds.Kind
	accounts              []Account
}

// APIURL is the TrustHub base URL, without a trailing slash.
func (c *Config) APIURL() string { return c.apiURL }

// MessagingAPIURL is the Messaging base URL, without a trailing slash.
func (c *Config) MessagingAPIURL() string { return c.messagingAPIURL }

// AccountsAPIURL is the base URL of the 2010 Accounts API, where
// subaccounts are listed, without a trailing slash.
func (c *Config) AccountsAPIURL() string { return c.accountsAPIURL }

// CacheTTL is how long a listing is served without calling Twilio.
func (c *Config) CacheTTL() time.Duration { return c.cacheTTL }

// Timeout bounds one whole listing.
func (c *Config) Timeout() time.Duration { return c.timeout }

// MaxStale is the age up to which data is served after a failed listing.
func (c *Config) MaxStale() time.Duration { return c.maxStale }

// FailureBackoff is the first wait after a failed listing.
func (c *Config) FailureBackoff() time.Duration { return c.failureBackoff }

// UsageMaxAge is the longest a count of what uses an object (see package
// usage) is kept while the object does not change.
func (c *Config) UsageMaxAge() time.Duration { return c.usageMaxAge }

// PageSize is the number of profiles asked for per request, 1..1000.
func (c *Config) PageSize() int { return c.pageSize }

// ExpiringWithinDays returns the expiry windows in days, sorted, distinct.
func (c *Config) ExpiringWithinDays() []int { return slices.Clone(c.expiringWithinDays) }

// PerProfileMetrics says whether the per-profile series are exported.
func (c *Config) PerProfileMetrics() bool { return c.perProfileMetrics }

// PerProfileStatus says which series the per-object status families
// write, for every kind: full or sparse.
func (c *Config) PerProfileStatus() StatusSeries { return c.perProfileStatus }

// MaxConcurrentListings bounds the listings running at once, at least 1.
func (c *Config) MaxConcurrentListings() int { return c.maxConcurrentListings }

// Resources returns the kinds watched where an account names none of its
// own: at least one, each once.
func (c *Config) Resources() []*kinds.Kind { return slices.Clone(c.resources) }

// Accounts returns the accounts, at least one, with distinct names.
func (c *Config) Accounts() []Account { return slices.Clone(c.accounts) }

// Account is one checked account with its name and credentials resolved.
type Account struct {
	name       string
	accountSID string
	// A pointer, so that no %v of an Account prints the secret in it.
	auth   *promconfig.BasicAuth
	apiKey bool
	filter kinds.Filters
	// resources are the kinds watched: the account's own list, or the
	// top-level one.
	resources []*kinds.Kind
	// subaccounts is nil unless the account's subaccounts are discovered.
	subaccounts *Subaccounts
}

// Subaccounts says which subaccounts of an account are discovered and
// how often.
type Subaccounts struct {
	// Statuses are the account statuses watched, at least one, each once.
	Statuses []string
	// FriendlyName is a valid path.Match glob, or empty for any name.
	FriendlyName string
	// Refresh is greater than 0.
	Refresh time.Duration
}

// Subaccounts returns what of the account's subaccounts is discovered;
// ok is false when none is.
func (a Account) Subaccounts() (s Subaccounts, ok bool) {
	if a.subaccounts == nil {
		return Subaccounts{}, false
	}
	s = *a.subaccounts
	s.Statuses = slices.Clone(s.Statuses)
	return s, true
}

// Subaccount returns the account entry of a subaccount discovered under
// a: the subaccount's own SID as its name and user, its own auth token,
// and every other setting (resources, filters) of a. It discovers nothing
// itself.
func (a Account) Subaccount(sid string, authToken promconfig.Secret) Account {
	sub := a
	sub.name, sub.accountSID = sid, sid
	sub.auth = &promconfig.BasicAuth{Username: sid, Password: authToken}
	sub.apiKey = false
	sub.subaccounts = nil
	sub.resources = slices.Clone(a.resources)
	return sub
}

// Name is the account label: the configured name, or the account SID.
func (a Account) Name() string { return a.name }

// AccountSID is the account's SID (AC...).
func (a Account) AccountSID() string { return a.accountSID }

// BasicAuth returns the HTTP basic-auth settings: the account SID or API
// key as user, the token or secret (or the file holding it) as password.
// Each call returns a copy.
func (a Account) BasicAuth() *promconfig.BasicAuth {
	b := *a.auth
	return &b
}

// UsesAPIKey says whether the credential is an API key and secret rather
// than the account's auth token.
func (a Account) UsesAPIKey() bool { return a.apiKey }

// Filter is the listing filter (status, friendly_name, policy_sid). Each
// kind is sent the filters it takes.
func (a Account) Filter() kinds.Filters { return a.filter }

// Resources returns the kinds watched in the account: at least one, each
// once.
func (a Account) Resources() []*kinds.Kind { return slices.Clone(a.resources) }

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
	return cfg, nil
}

// Parse decodes a configuration strictly, applies the defaults and checks
// it; dir anchors relative *_file paths.
func Parse(r io.Reader, dir string) (*Config, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	spec, err := decode(data)
	if err != nil {
		return nil, err
	}
	for i := range spec.Accounts {
		a := &spec.Accounts[i]
		a.AuthTokenFile = resolve(dir, a.AuthTokenFile)
		a.APISecretFile = resolve(dir, a.APISecretFile)
	}
	return New(spec)
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
	a := AccountSpec{AccountSID: sid}
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
	spec := Default()
	spec.Accounts = []AccountSpec{a}
	cfg, err := New(spec)
	if err != nil {
		return nil, fmt.Errorf("from environment: %w", err)
	}
	return cfg, nil
}

// New checks every field of s and derives the values the exporter uses
// (the URL without a trailing slash, the windows sorted, account names,
// credentials). It returns the first problem, naming the key and the value.
// Start s from Default: New applies no defaults of its own, since a zero
// page_size or a false per_profile_metrics may be what was written.
func New(s Spec) (*Config, error) {
	if err := checkBaseURL("api_url", s.APIURL); err != nil {
		return nil, err
	}
	if err := checkBaseURL("messaging_api_url", s.MessagingAPIURL); err != nil {
		return nil, err
	}
	if err := checkBaseURL("accounts_api_url", s.AccountsAPIURL); err != nil {
		return nil, err
	}
	if s.CacheTTL < 0 {
		return nil, fmt.Errorf("cache_ttl: %s must not be negative", s.CacheTTL)
	}
	if s.Timeout <= 0 {
		return nil, fmt.Errorf("timeout: %s must be greater than 0", s.Timeout)
	}
	if s.MaxStale < 0 {
		return nil, fmt.Errorf("max_stale: %s must not be negative", s.MaxStale)
	}
	if s.FailureBackoff < 0 {
		return nil, fmt.Errorf("failure_backoff: %s must not be negative", s.FailureBackoff)
	}
	if s.UsageMaxAge < 0 {
		return nil, fmt.Errorf("usage_max_age: %s must not be negative", s.UsageMaxAge)
	}
	if s.PageSize < 1 || s.PageSize > 1000 {
		return nil, fmt.Errorf("page_size: %d is outside 1..1000", s.PageSize)
	}
	if err := s.PerProfileStatus.check(); err != nil {
		return nil, fmt.Errorf("per_profile_status: %w", err)
	}
	if s.MaxConcurrentListings < 1 {
		return nil, fmt.Errorf("max_concurrent_listings: %d must be at least 1", s.MaxConcurrentListings)
	}
	seenDays := map[int]bool{}
	for i, d := range s.ExpiringWithinDays {
		if d < 1 || d > maxExpiringWithinDays {
			return nil, fmt.Errorf("expiring_within_days[%d]: %d is outside 1..%d", i, d, maxExpiringWithinDays)
		}
		if seenDays[d] {
			return nil, fmt.Errorf("expiring_within_days[%d]: %d is listed twice", i, d)
		}
		seenDays[d] = true
	}
	resources, err := resolveResources("resources", s.Resources)
	if err != nil {
		return nil, err
	}
	if len(s.Accounts) == 0 {
		return nil, errors.New("accounts: at least one account is required")
	}
	c := &Config{
		apiURL:                strings.TrimRight(s.APIURL, "/"),
		messagingAPIURL:       strings.TrimRight(s.MessagingAPIURL, "/"),
		accountsAPIURL:        strings.TrimRight(s.AccountsAPIURL, "/"),
		cacheTTL:              time.Duration(s.CacheTTL),
		timeout:               time.Duration(s.Timeout),
		maxStale:              time.Duration(s.MaxStale),
		failureBackoff:        time.Duration(s.FailureBackoff),
		usageMaxAge:           time.Duration(s.UsageMaxAge),
		pageSize:              s.PageSize,
		expiringWithinDays:    slices.Sorted(slices.Values(s.ExpiringWithinDays)),
		perProfileMetrics:     s.PerProfileMetrics,
		perProfileStatus:      s.PerProfileStatus,
		maxConcurrentListings: s.MaxConcurrentListings,
		resources:             resources,
	}
	names := map[string]int{}
	for i, as := range s.Accounts {
		a, err := newAccount(as, resources)
		if err != nil {
			return nil, fmt.Errorf("accounts[%d]: %w", i, err)
		}
		if j, dup := names[a.name]; dup {
			return nil, fmt.Errorf("accounts[%d]: name %q is already used by accounts[%d]", i, a.name, j)
		}
		names[a.name] = i
		c.accounts = append(c.accounts, a)
	}
	return c, nil
}

// checkBaseURL checks an API's base URL, at key.
func checkBaseURL(key, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("%s: %q is not an http(s) URL with a host and no user, query or fragment", key, raw)
	}
	return nil
}

func newAccount(s AccountSpec, resources []*kinds.Kind) (Account, error) {
	if !accountSIDRe.MatchString(s.AccountSID) {
		return Account{}, fmt.Errorf("account_sid: %q does not match %s", s.AccountSID, accountSIDRe)
	}
	a := Account{
		name:       cmp.Or(s.Name, s.AccountSID),
		accountSID: s.AccountSID,
		filter:     kinds.Filters{kinds.FilterStatus: s.Status, kinds.FilterFriendlyName: s.FriendlyName, kinds.FilterPolicySID: s.PolicySID},
		resources:  resources,
	}
	if s.Resources != nil {
		own, err := resolveResources("resources", s.Resources)
		if err != nil {
			return Account{}, err
		}
		a.resources = own
	}
	hasToken := s.AuthToken != "" || s.AuthTokenFile != ""
	a.apiKey = s.APIKey != "" || s.APISecret != "" || s.APISecretFile != ""
	switch {
	case s.AuthToken != "" && s.AuthTokenFile != "":
		return Account{}, errors.New("auth_token and auth_token_file are mutually exclusive")
	case s.APISecret != "" && s.APISecretFile != "":
		return Account{}, errors.New("api_secret and api_secret_file are mutually exclusive")
	case hasToken && a.apiKey:
		return Account{}, errors.New("set either auth_token(_file) or api_key with api_secret(_file), not both")
	case !hasToken && !a.apiKey:
		return Account{}, errors.New("no credentials: set auth_token, auth_token_file, or api_key with api_secret or api_secret_file")
	}
	a.auth = &promconfig.BasicAuth{Username: s.AccountSID, Password: s.AuthToken, PasswordFile: s.AuthTokenFile}
	fileKey := "auth_token_file"
	if a.apiKey {
		if !apiKeySIDRe.MatchString(s.APIKey) {
			return Account{}, fmt.Errorf("api_key: %q does not match %s", s.APIKey, apiKeySIDRe)
		}
		if s.APISecret == "" && s.APISecretFile == "" {
			return Account{}, errors.New("api_key needs api_secret or api_secret_file")
		}
		a.auth = &promconfig.BasicAuth{Username: s.APIKey, Password: s.APISecret, PasswordFile: s.APISecretFile}
		fileKey = "api_secret_file"
	}
	if file := a.auth.PasswordFile; file != "" {
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
	if s.Status != "" {
		// The status filter goes to every watched kind that takes it, so
		// it must be a status of each.
		for _, k := range a.resources {
			if k.Takes(kinds.FilterStatus) && !k.Documented(s.Status) {
				return Account{}, fmt.Errorf("status: %q is not one of %s", s.Status, strings.Join(k.Statuses, ", "))
			}
		}
	}
	if s.PolicySID != "" && !policySIDRe.MatchString(s.PolicySID) {
		return Account{}, fmt.Errorf("policy_sid: %q does not match %s", s.PolicySID, policySIDRe)
	}
	if s.Subaccounts != nil {
		sub, err := newSubaccounts(*s.Subaccounts)
		if err != nil {
			return Account{}, fmt.Errorf("subaccounts: %w", err)
		}
		a.subaccounts = sub
	}
	return a, nil
}

// newSubaccounts checks a subaccounts key; nil when discover is off.
func newSubaccounts(s SubaccountsSpec) (*Subaccounts, error) {
	sub := &Subaccounts{Statuses: []string{"active"}, FriendlyName: s.FriendlyName, Refresh: DefaultSubaccountsRefresh}
	if s.Status != nil {
		if len(s.Status) == 0 {
			return nil, fmt.Errorf("status: the list is empty; name at least one of %s", strings.Join(AccountStatuses, ", "))
		}
		sub.Statuses = nil
		for i, st := range s.Status {
			if !slices.Contains(AccountStatuses, st) {
				return nil, fmt.Errorf("status[%d]: %q is not one of %s", i, st, strings.Join(AccountStatuses, ", "))
			}
			if slices.Contains(sub.Statuses, st) {
				return nil, fmt.Errorf("status[%d]: %q is listed twice", i, st)
			}
			sub.Statuses = append(sub.Statuses, st)
		}
	}
	if _, err := path.Match(s.FriendlyName, ""); err != nil {
		return nil, fmt.Errorf("friendly_name: %q is not a valid glob (path.Match syntax: *, ?, [a-z])", s.FriendlyName)
	}
	if s.Refresh != nil {
		if *s.Refresh <= 0 {
			return nil, fmt.Errorf("refresh: %s must be greater than 0", *s.Refresh)
		}
		sub.Refresh = time.Duration(*s.Refresh)
	}
	if !s.Discover {
		return nil, nil // checked, and nothing to discover
	}
	return sub, nil
}

// unwrapPathError drops the *PathError wrapper, whose text repeats the path.
func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
