// Package config loads, defaults and validates the exporter's configuration:
// which Twilio accounts to list, with which credentials, and how the listings
// are cached and bounded.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	promconfig "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/trusthub"
)

var (
	accountSIDRe = regexp.MustCompile(`^AC[0-9a-fA-F]{32}$`)
	apiKeySIDRe  = regexp.MustCompile(`^SK[0-9a-fA-F]{32}$`)
	policySIDRe  = regexp.MustCompile(`^RN[0-9a-fA-F]{32}$`)
)

// Defaults, as documented in config.yml.example.
const (
	DefaultAPIURL                = "https://trusthub.twilio.com"
	DefaultCacheTTL              = 5 * time.Minute
	DefaultTimeout               = 2 * time.Minute
	DefaultMaxStale              = 30 * time.Minute
	DefaultFailureBackoff        = 10 * time.Second
	DefaultPageSize              = 1000
	DefaultMaxConcurrentListings = 10
	maxExpiringWithinDays        = 3650
)

// Config is the whole configuration file.
type Config struct {
	APIURL                string    `yaml:"api_url"`
	CacheTTL              Duration  `yaml:"cache_ttl"`
	Timeout               Duration  `yaml:"timeout"`
	MaxStale              Duration  `yaml:"max_stale"`
	FailureBackoff        Duration  `yaml:"failure_backoff"`
	PageSize              int       `yaml:"page_size"`
	ExpiringWithinDays    []int     `yaml:"expiring_within_days"`
	PerProfileMetrics     bool      `yaml:"per_profile_metrics"`
	MaxConcurrentListings int       `yaml:"max_concurrent_listings"`
	Accounts              []Account `yaml:"accounts"`
}

// Account is one Twilio account (or subaccount) whose Customer-Profiles are listed.
type Account struct {
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

	credentials *promconfig.BasicAuth
}

// Duration is a duration in Prometheus' notation (30s, 5m, 1h, 7d).
type Duration time.Duration

// UnmarshalYAML parses the duration and says where a bad one is.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := model.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration back in the same notation.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

func (d Duration) String() string { return model.Duration(d).String() }

// String describes the account without its secrets, so that no %v of a
// configuration can print a token, even by mistake.
func (a Account) String() string {
	return fmt.Sprintf("{name:%s account_sid:%s api_key:%s auth_token_file:%s api_secret_file:%s status:%s friendly_name:%s policy_sid:%s}",
		a.Name, a.AccountSID, a.APIKey, a.AuthTokenFile, a.APISecretFile, a.Status, a.FriendlyName, a.PolicySID)
}

// GoString is String, for %#v.
func (a Account) GoString() string { return a.String() }

// Default returns a configuration with every default applied and no accounts.
func Default() *Config {
	return &Config{
		APIURL:                DefaultAPIURL,
		CacheTTL:              Duration(DefaultCacheTTL),
		Timeout:               Duration(DefaultTimeout),
		MaxStale:              Duration(DefaultMaxStale),
		FailureBackoff:        Duration(DefaultFailureBackoff),
		PageSize:              DefaultPageSize,
		ExpiringWithinDays:    []int{7, 30},
		PerProfileMetrics:     true,
		MaxConcurrentListings: DefaultMaxConcurrentListings,
	}
}

// Load reads, decodes strictly and validates the file at path. Relative
// *_file paths are taken relative to the file's directory.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path) //nolint:gosec // the operator names the file
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	cfg, err := Parse(bytes.NewReader(data), filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// Parse decodes strictly and validates a configuration; dir anchors
// relative *_file paths.
func Parse(r io.Reader, dir string) (*Config, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	cfg := Default()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("the file is empty: at least accounts must be set")
		}
		var te *yaml.TypeError
		if errors.As(err, &te) {
			// One line per problem, e.g. "line 4: field auth_tokn not found in type config.Account".
			return nil, fmt.Errorf("decoding YAML: %s", strings.Join(te.Errors, "; "))
		}
		return nil, fmt.Errorf("decoding YAML: %w", err)
	}
	// A second document would be silently ignored otherwise.
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, errors.New("decoding YAML: the file must hold exactly one document")
	}
	for i := range cfg.Accounts {
		a := &cfg.Accounts[i]
		a.AuthTokenFile = resolve(dir, a.AuthTokenFile)
		a.APISecretFile = resolve(dir, a.APISecretFile)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
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
	cfg := Default()
	cfg.Accounts = []Account{a}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("from environment: %w", err)
	}
	return cfg, nil
}

// Validate checks every field, fills derived values (account names, the
// credentials) and returns the first problem, naming the key and the value.
func (c *Config) Validate() error {
	u, err := url.Parse(c.APIURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("api_url: %q is not an http(s) URL with a host and no user, query or fragment", c.APIURL)
	}
	c.APIURL = strings.TrimRight(c.APIURL, "/")
	if c.CacheTTL < 0 {
		return fmt.Errorf("cache_ttl: %s must not be negative", c.CacheTTL)
	}
	if c.Timeout <= 0 {
		return fmt.Errorf("timeout: %s must be greater than 0", c.Timeout)
	}
	if c.MaxStale < 0 {
		return fmt.Errorf("max_stale: %s must not be negative", c.MaxStale)
	}
	if c.FailureBackoff < 0 {
		return fmt.Errorf("failure_backoff: %s must not be negative", c.FailureBackoff)
	}
	if c.PageSize < 1 || c.PageSize > 1000 {
		return fmt.Errorf("page_size: %d is outside 1..1000", c.PageSize)
	}
	if c.MaxConcurrentListings < 1 {
		return fmt.Errorf("max_concurrent_listings: %d must be at least 1", c.MaxConcurrentListings)
	}
	seenDays := map[int]bool{}
	for i, d := range c.ExpiringWithinDays {
		if d < 1 || d > maxExpiringWithinDays {
			return fmt.Errorf("expiring_within_days[%d]: %d is outside 1..%d", i, d, maxExpiringWithinDays)
		}
		if seenDays[d] {
			return fmt.Errorf("expiring_within_days[%d]: %d is listed twice", i, d)
		}
		seenDays[d] = true
	}
	slices.Sort(c.ExpiringWithinDays)
	if len(c.Accounts) == 0 {
		return errors.New("accounts: at least one account is required")
	}
	names := map[string]int{}
	for i := range c.Accounts {
		a := &c.Accounts[i]
		if err := a.validate(); err != nil {
			return fmt.Errorf("accounts[%d]: %w", i, err)
		}
		if j, dup := names[a.Name]; dup {
			return fmt.Errorf("accounts[%d]: name %q is already used by accounts[%d]", i, a.Name, j)
		}
		names[a.Name] = i
	}
	return nil
}

func (a *Account) validate() error {
	if !accountSIDRe.MatchString(a.AccountSID) {
		return fmt.Errorf("account_sid: %q does not match %s", a.AccountSID, accountSIDRe)
	}
	if a.Name == "" {
		a.Name = a.AccountSID
	}
	hasToken := a.AuthToken != "" || a.AuthTokenFile != ""
	hasKey := a.APIKey != "" || a.APISecret != "" || a.APISecretFile != ""
	switch {
	case a.AuthToken != "" && a.AuthTokenFile != "":
		return errors.New("auth_token and auth_token_file are mutually exclusive")
	case a.APISecret != "" && a.APISecretFile != "":
		return errors.New("api_secret and api_secret_file are mutually exclusive")
	case hasToken && hasKey:
		return errors.New("set either auth_token(_file) or api_key with api_secret(_file), not both")
	case !hasToken && !hasKey:
		return errors.New("no credentials: set auth_token, auth_token_file, or api_key with api_secret or api_secret_file")
	}
	auth := &promconfig.BasicAuth{Username: a.AccountSID, Password: a.AuthToken, PasswordFile: a.AuthTokenFile}
	if hasKey {
		if !apiKeySIDRe.MatchString(a.APIKey) {
			return fmt.Errorf("api_key: %q does not match %s", a.APIKey, apiKeySIDRe)
		}
		if a.APISecret == "" && a.APISecretFile == "" {
			return errors.New("api_key needs api_secret or api_secret_file")
		}
		auth = &promconfig.BasicAuth{Username: a.APIKey, Password: a.APISecret, PasswordFile: a.APISecretFile}
	}
	if auth.PasswordFile != "" {
		key := "auth_token_file"
		if hasKey {
			key = "api_secret_file"
		}
		// Read once now so that a typo fails at start; the HTTP client
		// re-reads it on every request so that rotation needs no reload.
		b, err := os.ReadFile(auth.PasswordFile) //nolint:gosec // the operator names the file
		if err != nil {
			return fmt.Errorf("%s: %q cannot be read: %w", key, auth.PasswordFile, unwrapPathError(err))
		}
		if strings.TrimSpace(string(b)) == "" {
			return fmt.Errorf("%s: %q is empty", key, auth.PasswordFile)
		}
	}
	if a.Status != "" && !slices.Contains(trusthub.Statuses, a.Status) {
		return fmt.Errorf("status: %q is not one of %s", a.Status, strings.Join(trusthub.Statuses, ", "))
	}
	if a.PolicySID != "" && !policySIDRe.MatchString(a.PolicySID) {
		return fmt.Errorf("policy_sid: %q does not match %s", a.PolicySID, policySIDRe)
	}
	a.credentials = auth
	return nil
}

// unwrapPathError drops the *PathError wrapper, whose text repeats the path.
func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// BasicAuth returns the HTTP basic-auth settings for the account: the
// account SID or API key as user, the token or secret (or its file) as
// password. It is set by Validate.
func (a *Account) BasicAuth() *promconfig.BasicAuth {
	return a.credentials
}
