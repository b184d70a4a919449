package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestLoadGood(t *testing.T) {
	cfg, err := Load("testdata/good.yml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.APIURL != "http://127.0.0.1:8080" {
		t.Errorf("api_url = %q, want the trailing slash trimmed", cfg.APIURL)
	}
	if time.Duration(cfg.CacheTTL) != time.Minute || time.Duration(cfg.Timeout) != 30*time.Second || time.Duration(cfg.MaxStale) != time.Hour {
		t.Errorf("durations = %s %s %s", cfg.CacheTTL, cfg.Timeout, cfg.MaxStale)
	}
	if cfg.PageSize != 500 || cfg.PerProfileMetrics {
		t.Errorf("page_size = %d, per_profile_metrics = %v", cfg.PageSize, cfg.PerProfileMetrics)
	}
	if got := cfg.ExpiringWithinDays; len(got) != 3 || got[0] != 7 || got[1] != 30 || got[2] != 90 {
		t.Errorf("expiring_within_days = %v, want sorted [7 30 90]", got)
	}
	if cfg.MaxConcurrentListings != DefaultMaxConcurrentListings {
		t.Errorf("max_concurrent_listings = %d, want the default", cfg.MaxConcurrentListings)
	}
	main, second := cfg.Accounts[0], cfg.Accounts[1]
	if a := main.BasicAuth(); main.Name != "main" || a.Username != main.AccountSID || string(a.Password) != "hunter2-token" {
		t.Errorf("first account: name %q, user %q", main.Name, a.Username)
	}
	if second.Name != second.AccountSID {
		t.Errorf("second account's name = %q, want its account_sid", second.Name)
	}
	a := second.BasicAuth()
	if a.Username != "SK0123456789abcdef0123456789abcdef" || a.PasswordFile != filepath.Join("testdata", "secret.txt") {
		t.Errorf("second account auth = user %q, file %q; want the API key and the file relative to the config", a.Username, a.PasswordFile)
	}
	if second.Status != "twilio-rejected" || second.PolicySID != "RN0123456789abcdef0123456789abcdef" {
		t.Errorf("filters = %q %q", second.Status, second.PolicySID)
	}
}

func TestDefaults(t *testing.T) {
	cfg, err := Parse(strings.NewReader("accounts:\n  - account_sid: AC0123456789abcdef0123456789abcdef\n    auth_token: t\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.APIURL != DefaultAPIURL || time.Duration(cfg.CacheTTL) != DefaultCacheTTL || time.Duration(cfg.Timeout) != DefaultTimeout ||
		time.Duration(cfg.MaxStale) != DefaultMaxStale || cfg.PageSize != 1000 || !cfg.PerProfileMetrics ||
		len(cfg.ExpiringWithinDays) != 2 || cfg.ExpiringWithinDays[0] != 7 || cfg.ExpiringWithinDays[1] != 30 {
		t.Errorf("defaults not applied: api_url %s, cache_ttl %s, timeout %s, max_stale %s, page_size %d, per_profile_metrics %v, expiring_within_days %v",
			cfg.APIURL, cfg.CacheTTL, cfg.Timeout, cfg.MaxStale, cfg.PageSize, cfg.PerProfileMetrics, cfg.ExpiringWithinDays)
	}
}

// The shipped example must load: it documents every key.
func TestExampleLoads(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile("../config.yml.example")
	if err != nil {
		t.Fatal(err)
	}
	// The example points at a token file next to it.
	if err := os.WriteFile(filepath.Join(dir, "auth_token"), []byte("token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err != nil {
		t.Fatalf("config.yml.example does not load: %v", err)
	}
}

func TestInvalid(t *testing.T) {
	for file, want := range map[string]string{
		"invalid-account-sid.yml":            `accounts[0]: account_sid: "AC123" does not match ^AC[0-9a-fA-F]{32}$`,
		"invalid-api-key-no-secret.yml":      `accounts[0]: api_key needs api_secret or api_secret_file`,
		"invalid-api-key.yml":                `accounts[0]: api_key: "XX0123456789abcdef0123456789abcdef" does not match ^SK[0-9a-fA-F]{32}$`,
		"invalid-api-url.yml":                `api_url: "ftp://example.com" is not an http(s) URL with a host and no user, query or fragment`,
		"invalid-duplicate-default-name.yml": `accounts[1]: name "AC0123456789abcdef0123456789abcdef" is already used by accounts[0]`,
		"invalid-duplicate-name.yml":         `accounts[1]: name "a" is already used by accounts[0]`,
		"invalid-duration.yml":               `decoding YAML: line 1: unknown unit " minutes" in duration "5 minutes"`,
		"invalid-empty-token-file.yml":       `accounts[0]: auth_token_file: "testdata/empty.txt" is empty`,
		"invalid-empty.yml":                  `the file is empty: at least accounts must be set`,
		"invalid-expiring-duplicate.yml":     `expiring_within_days[1]: 7 is listed twice`,
		"invalid-expiring-zero.yml":          `expiring_within_days[1]: 0 is outside 1..3650`,
		"invalid-max-concurrent.yml":         `max_concurrent_listings: 0 must be at least 1`,
		"invalid-missing-secret-file.yml":    `accounts[0]: api_secret_file: "/nonexistent/secret" cannot be read: no such file or directory`,
		"invalid-missing-token-file.yml":     `accounts[0]: auth_token_file: "testdata/does-not-exist.txt" cannot be read: no such file or directory`,
		"invalid-no-accounts.yml":            `accounts: at least one account is required`,
		"invalid-no-credentials.yml":         `accounts[0]: no credentials: set auth_token, auth_token_file, or api_key with api_secret or api_secret_file`,
		"invalid-page-size-zero.yml":         `page_size: 0 is outside 1..1000`,
		"invalid-page-size.yml":              `page_size: 1001 is outside 1..1000`,
		"invalid-policy-sid.yml":             `accounts[0]: policy_sid: "RNxyz" does not match ^RN[0-9a-fA-F]{32}$`,
		"invalid-status.yml":                 `accounts[0]: status: "approved" is not one of draft, pending-review, in-review, twilio-approved, twilio-rejected`,
		"invalid-timeout.yml":                `timeout: 0s must be greater than 0`,
		"invalid-token-and-file.yml":         `accounts[0]: auth_token and auth_token_file are mutually exclusive`,
		"invalid-token-and-key.yml":          `accounts[0]: set either auth_token(_file) or api_key with api_secret(_file), not both`,
		"invalid-two-documents.yml":          `decoding YAML: the file must hold exactly one document`,
		"invalid-unknown-key.yml":            `decoding YAML: line 4: field auth_tokn not found in type config.Account`,
	} {
		t.Run(file, func(t *testing.T) {
			path := filepath.Join("testdata", file)
			_, err := Load(path)
			if err == nil {
				t.Fatal("loaded, want an error")
			}
			if got := err.Error(); got != path+": "+want {
				t.Errorf("error:\n got %s\nwant %s: %s", got, path, want)
			}
		})
	}
}

// Every invalid-*.yml file must be in the table above, so none is forgotten.
func TestInvalidFilesAllListed(t *testing.T) {
	files, _ := filepath.Glob("testdata/invalid-*.yml")
	if len(files) != 25 {
		t.Errorf("%d invalid-*.yml files, but the table lists 25: add the new ones to TestInvalid", len(files))
	}
}

func TestFromEnv(t *testing.T) {
	const sid = "AC0123456789abcdef0123456789abcdef"
	for _, tc := range []struct {
		name    string
		env     map[string]string
		user    string
		wantErr string
	}{
		{name: "token", env: map[string]string{"TWILIO_ACCOUNT_SID": sid, "TWILIO_AUTH_TOKEN": "t"}, user: sid},
		{name: "api key", env: map[string]string{"TWILIO_ACCOUNT_SID": sid, "TWILIO_API_KEY": "SK0123456789abcdef0123456789abcdef", "TWILIO_API_SECRET": "s"}, user: "SK0123456789abcdef0123456789abcdef"},
		{name: "nothing", env: map[string]string{}, wantErr: "no --config.file given and TWILIO_ACCOUNT_SID is not set"},
		{name: "no credential", env: map[string]string{"TWILIO_ACCOUNT_SID": sid}, wantErr: "TWILIO_ACCOUNT_SID is set but no credential is"},
		{name: "key without secret", env: map[string]string{"TWILIO_ACCOUNT_SID": sid, "TWILIO_API_KEY": "SK0123456789abcdef0123456789abcdef"}, wantErr: "TWILIO_API_KEY and TWILIO_API_SECRET must be set together"},
		{name: "both kinds", env: map[string]string{"TWILIO_ACCOUNT_SID": sid, "TWILIO_AUTH_TOKEN": "t", "TWILIO_API_KEY": "SK0123456789abcdef0123456789abcdef", "TWILIO_API_SECRET": "s"}, wantErr: "are both set"},
		{name: "bad sid", env: map[string]string{"TWILIO_ACCOUNT_SID": "ACnope", "TWILIO_AUTH_TOKEN": "t"}, wantErr: `from environment: accounts[0]: account_sid: "ACnope" does not match`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := FromEnv(func(k string) string { return tc.env[k] })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Accounts[0].BasicAuth().Username; got != tc.user {
				t.Errorf("user = %q, want %q", got, tc.user)
			}
			if cfg.Accounts[0].Name != sid {
				t.Errorf("name = %q, want the account SID", cfg.Accounts[0].Name)
			}
		})
	}
}

// A secret never comes back out of a loaded config, whatever prints it.
func TestSecretsDoNotPrint(t *testing.T) {
	cfg, err := Load("testdata/good.yml")
	if err != nil {
		t.Fatal(err)
	}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "hunter2-token") {
		t.Error("the auth token was marshalled in clear")
	}
	for _, format := range []string{"%v", "%+v", "%#v"} {
		for _, v := range []any{cfg, *cfg, cfg.Accounts, cfg.Accounts[0]} {
			if s := fmt.Sprintf(format, v); strings.Contains(s, "hunter2-token") {
				t.Errorf("%s of a %T prints the token", format, v)
			}
		}
	}
	if !strings.Contains(string(out), "<secret>") {
		t.Errorf("marshalled config does not mask the secret:\n%s", out)
	}
}

// The loader must refuse or accept any input without panicking, and what it
// accepts must be valid.
func FuzzParse(f *testing.F) {
	for _, path := range []string{"testdata/good.yml", "testdata/invalid-unknown-key.yml", "testdata/invalid-duration.yml", "../config.yml.example"} {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(strings.NewReader(string(data)), "testdata")
		if err != nil {
			return
		}
		if len(cfg.Accounts) == 0 || cfg.PageSize < 1 || cfg.PageSize > 1000 || cfg.Timeout <= 0 {
			t.Fatalf("accepted an invalid config: %d accounts, page_size %d, timeout %s", len(cfg.Accounts), cfg.PageSize, cfg.Timeout)
		}
		for _, a := range cfg.Accounts {
			if a.BasicAuth() == nil || a.Name == "" {
				t.Fatalf("accepted account %q without credentials or name", a.AccountSID)
			}
		}
	})
}
