package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
)

func TestLoadGood(t *testing.T) {
	cfg, err := Load("testdata/good.yml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.APIURL != "http://127.0.0.1:8080" || cfg.MessagingAPIURL != "http://127.0.0.1:8081" {
		t.Errorf("api_url = %q, messaging_api_url = %q, want the trailing slash trimmed", cfg.APIURL, cfg.MessagingAPIURL)
	}
	if cfg.CacheTTL != time.Minute || cfg.Timeout != 30*time.Second || cfg.MaxStale != time.Hour || cfg.FailureBackoff != Default().FailureBackoff {
		t.Errorf("durations = %s %s %s %s", cfg.CacheTTL, cfg.Timeout, cfg.MaxStale, cfg.FailureBackoff)
	}
	if cfg.PageSize != 500 || cfg.PerObjectMetrics || cfg.PerObjectStatus != StatusSparse {
		t.Errorf("page_size = %d, per_object_metrics = %v, per_object_status = %q", cfg.PageSize, cfg.PerObjectMetrics, cfg.PerObjectStatus)
	}
	if got := cfg.ExpiringWithinDays; !slices.Equal(got, []int{7, 30, 90}) {
		t.Errorf("expiring_within_days = %v, want sorted [7 30 90]", got)
	}
	if cfg.MaxConcurrentListings != Default().MaxConcurrentListings {
		t.Errorf("max_concurrent_listings = %d, want the default", cfg.MaxConcurrentListings)
	}
	main, second := cfg.Accounts[0], cfg.Accounts[1]
	if a := main.BasicAuth(); main.Name != "main" || a.Username != main.AccountSID || string(a.Password) != "hunter2-token" || main.UsesAPIKey() {
		t.Errorf("first account: name %q, user %q, API key %v", main.Name, a.Username, main.UsesAPIKey())
	}
	if second.Name != second.AccountSID || second.AccountSID != "ACfedcba9876543210fedcba9876543210" {
		t.Errorf("second account's name = %q, want its account_sid", second.Name)
	}
	a := second.BasicAuth()
	if a.Username != "SK0123456789abcdef0123456789abcdef" || a.PasswordFile != filepath.Join("testdata", "secret.txt") || !second.UsesAPIKey() {
		t.Errorf("second account auth = user %q, file %q; want the API key and the file relative to the config", a.Username, a.PasswordFile)
	}
	// The default resources, and a per-account list that replaces them.
	if got, want := resourceNames(cfg.Resources), "customer_profiles trust_products brand_registrations a2p_campaigns tollfree_verifications"; got != want {
		t.Errorf("resources = %q, want %q", got, want)
	}
	if got, want := resourceNames(main.Resources), "customer_profiles trust_products brand_registrations a2p_campaigns tollfree_verifications"; got != want {
		t.Errorf("first account's resources = %q, want the top-level ones %q", got, want)
	}
	if got, want := resourceNames(second.Resources), "trust_products"; got != want {
		t.Errorf("second account's resources = %q, want its own %q", got, want)
	}
	if f := second.Filter(); f[kinds.FilterStatus] != "twilio-rejected" || f[kinds.FilterPolicySID] != "RN0123456789abcdef0123456789abcdef" || f[kinds.FilterFriendlyName] != "" {
		t.Errorf("filter = %+v", f)
	}
}

func resourceNames(ks []*kinds.Kind) string {
	names := make([]string, len(ks))
	for i, k := range ks {
		names[i] = k.Name
	}
	return strings.Join(names, " ")
}

// A checked Config is read by many goroutines: an append to one of its
// lists copies the list rather than writing past its end into memory the
// Config shares.
func TestSlicesAreClipped(t *testing.T) {
	cfg, err := Load("testdata/good.yml")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.ExpiringWithinDays) != cap(cfg.ExpiringWithinDays) || len(cfg.Resources) != cap(cfg.Resources) || len(cfg.Accounts) != cap(cfg.Accounts) ||
		len(cfg.Accounts[1].Resources) != cap(cfg.Accounts[1].Resources) {
		t.Error("a list of the checked Config has room past its end")
	}
}

// New is the whole check for a Config built in code, as the demo and the
// tests build theirs; it does not change the Config it is given.
func TestNew(t *testing.T) {
	spec := Default()
	spec.APIURL = "http://127.0.0.1:1/"
	spec.ExpiringWithinDays = []int{30, 7}
	spec.Accounts = []Account{{AccountSID: "AC0123456789abcdef0123456789abcdef", AuthToken: "t"}}
	cfg, err := New(spec)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.APIURL != "http://127.0.0.1:1" || !slices.Equal(cfg.ExpiringWithinDays, []int{7, 30}) || cfg.Accounts[0].Name != "AC0123456789abcdef0123456789abcdef" {
		t.Errorf("derived values: %q %v %q", cfg.APIURL, cfg.ExpiringWithinDays, cfg.Accounts[0].Name)
	}
	if spec.APIURL != "http://127.0.0.1:1/" || !slices.Equal(spec.ExpiringWithinDays, []int{30, 7}) || spec.Accounts[0].Name != "" {
		t.Errorf("New changed its input: %q %v %q", spec.APIURL, spec.ExpiringWithinDays, spec.Accounts[0].Name)
	}
	// A value built in code is checked as one read from a file; the empty
	// one is no default there.
	for _, v := range []StatusSeries{"", "Sparse", "none"} {
		bad := spec
		bad.PerObjectStatus = v
		if _, err := New(bad); err == nil || err.Error() != fmt.Sprintf("per_object_status: %q is not one of full, sparse", string(v)) {
			t.Errorf("per_object_status %q: %v", v, err)
		}
	}
	// A zero Config is not a default one: New applies no defaults.
	if _, err := New(Config{}); err == nil || !strings.HasPrefix(err.Error(), "api_url:") {
		t.Errorf("New(Config{}) = %v, want the api_url refused", err)
	}
}

func TestDefaults(t *testing.T) {
	cfg, err := Parse(strings.NewReader("accounts:\n  - account_sid: AC0123456789abcdef0123456789abcdef\n    auth_token: t\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	if cfg.APIURL != want.APIURL || cfg.MessagingAPIURL != want.MessagingAPIURL || cfg.AccountsAPIURL != want.AccountsAPIURL ||
		cfg.CacheTTL != 5*time.Minute || cfg.Timeout != 2*time.Minute || cfg.MaxStale != 30*time.Minute || cfg.FailureBackoff != 10*time.Second ||
		cfg.UsageMaxAge != time.Hour || cfg.PageSize != 1000 || !cfg.PerObjectMetrics || cfg.MaxConcurrentListings != 10 ||
		!slices.Equal(cfg.ExpiringWithinDays, []int{7, 30}) || cfg.PerObjectStatus != StatusFull || !slices.Equal(cfg.Resources, kinds.All) {
		t.Errorf("defaults not applied: %+v", cfg)
	}
	// null leaves a scalar at its default and empties a list, as YAML does.
	cfg, err = Parse(strings.NewReader("page_size:\nexpiring_within_days:\naccounts:\n  - account_sid: AC0123456789abcdef0123456789abcdef\n    auth_token: t\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.PageSize != Default().PageSize || len(cfg.ExpiringWithinDays) != 0 {
		t.Errorf("after nulls: page_size %d, expiring_within_days %v", cfg.PageSize, cfg.ExpiringWithinDays)
	}
	// Anchors and aliases work as in any YAML.
	cfg, err = Parse(strings.NewReader("accounts:\n  - name: a\n    account_sid: &sid AC0123456789abcdef0123456789abcdef\n    auth_token: &tok t\n  - name: b\n    account_sid: *sid\n    auth_token: *tok\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range cfg.Accounts {
		if a.AccountSID != "AC0123456789abcdef0123456789abcdef" || a.BasicAuth().Password != "t" {
			t.Errorf("account %s: aliases not followed", a.Name)
		}
	}
}

// The former names of per_object_metrics and per_object_status are read
// as the new ones, each with a warning that names the key replacing it;
// the current names give none.
func TestDeprecatedKeys(t *testing.T) {
	cfg, err := Load("testdata/deprecated.yml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.PerObjectMetrics || cfg.PerObjectStatus != StatusSparse || cfg.PageSize != 100 {
		t.Errorf("per_object_metrics %v, per_object_status %q, page_size %d: the old keys were not read", cfg.PerObjectMetrics, cfg.PerObjectStatus, cfg.PageSize)
	}
	want := []string{
		"testdata/deprecated.yml: line 3: per_profile_metrics is deprecated: rename it per_object_metrics",
		"testdata/deprecated.yml: line 4: per_profile_status is deprecated: rename it per_object_status",
	}
	if !slices.Equal(cfg.Warnings, want) {
		t.Errorf("warnings:\n got %q\nwant %q", cfg.Warnings, want)
	}
	cfg, err = Load("testdata/good.yml")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Warnings) != 0 {
		t.Errorf("good.yml: warnings %q, want none", cfg.Warnings)
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

// The table holds every testdata/invalid-*.yml file (TestInvalidFilesAllListed
// checks) with the exact message Load gives, and one file that is not there.
var invalid = map[string]string{
	"does-not-exist.yml":                        `cannot be read: no such file or directory`,
	"invalid-accounts-api-url.yml":              `accounts_api_url: "https://api.twilio.com?x=1" is not an http(s) URL with a host and no user, query or fragment`,
	"invalid-subaccounts-glob.yml":              `accounts[0]: subaccounts: friendly_name: "cust-[a" is not a valid glob (path.Match syntax: *, ?, [a-z])`,
	"invalid-subaccounts-not-mapping.yml":       `line 4: accounts[0]: subaccounts: cannot decode "true" as a mapping of keys`,
	"invalid-subaccounts-refresh.yml":           `accounts[0]: subaccounts: refresh: 0s must be greater than 0`,
	"invalid-subaccounts-status.yml":            `accounts[0]: subaccounts: status[1]: "open" is not one of active, suspended, closed`,
	"invalid-subaccounts-status-empty.yml":      `accounts[0]: subaccounts: status: the list is empty; name at least one of active, suspended, closed`,
	"invalid-subaccounts-status-not-list.yml":   `line 6: accounts[0]: subaccounts: status: cannot decode "active" as a list of strings`,
	"invalid-subaccounts-status-twice.yml":      `accounts[0]: subaccounts: status[1]: "closed" is listed twice`,
	"invalid-subaccounts-unknown-key.yml":       `line 6: accounts[0]: subaccounts: unknown key "refesh"`,
	"invalid-account-sid.yml":                   `accounts[0]: account_sid: "AC123" does not match ^AC[0-9a-fA-F]{32}$`,
	"invalid-accounts-not-list.yml":             `line 1: accounts: cannot decode "AC0123456789abcdef0123456789abcdef" as a list of accounts`,
	"invalid-api-key-no-secret.yml":             `accounts[0]: api_key needs api_secret or api_secret_file`,
	"invalid-api-key.yml":                       `accounts[0]: api_key: "XX0123456789abcdef0123456789abcdef" does not match ^SK[0-9a-fA-F]{32}$`,
	"invalid-api-url.yml":                       `api_url: "ftp://example.com" is not an http(s) URL with a host and no user, query or fragment`,
	"invalid-duplicate-default-name.yml":        `accounts[1]: name "AC0123456789abcdef0123456789abcdef" is already used by accounts[0]`,
	"invalid-duplicate-key.yml":                 `line 5: page_size: set twice, first on line 1`,
	"invalid-duplicate-name.yml":                `accounts[1]: name "a" is already used by accounts[0]`,
	"invalid-duration-list.yml":                 `line 1: timeout: cannot decode a list as a duration`,
	"invalid-duration.yml":                      `line 1: cache_ttl: unknown unit " minutes" in duration "5 minutes"`,
	"invalid-empty-item.yml":                    `line 4: accounts[1]: the item is empty`,
	"invalid-empty-token-file.yml":              `accounts[0]: auth_token_file: "testdata/empty.txt" is empty`,
	"invalid-empty.yml":                         `the file is empty: at least accounts must be set`,
	"invalid-expiring-duplicate.yml":            `expiring_within_days[1]: 7 is listed twice`,
	"invalid-expiring-zero.yml":                 `expiring_within_days[1]: 0 is outside 1..3650`,
	"invalid-messaging-api-url.yml":             `messaging_api_url: "https://user:pass@messaging.example.com" is not an http(s) URL with a host and no user, query or fragment`,
	"invalid-max-concurrent.yml":                `max_concurrent_listings: 0 must be at least 1`,
	"invalid-max-requests-per-account.yml":      `max_requests_per_account: 0 must be at least 1`,
	"invalid-missing-secret-file.yml":           `accounts[0]: api_secret_file: "/nonexistent/secret" cannot be read: no such file or directory`,
	"invalid-missing-token-file.yml":            `accounts[0]: auth_token_file: "testdata/does-not-exist.txt" cannot be read: no such file or directory`,
	"invalid-no-accounts.yml":                   `accounts: at least one account is required`,
	"invalid-no-credentials.yml":                `accounts[0]: no credentials: set auth_token, auth_token_file, or api_key with api_secret or api_secret_file`,
	"invalid-not-mapping.yml":                   `line 1: cannot decode a list as a mapping of keys`,
	"invalid-page-size-zero.yml":                `page_size: 0 is outside 1..1000`,
	"invalid-page-size.yml":                     `page_size: 1001 is outside 1..1000`,
	"invalid-per-profile-status.yml":            `line 1: per_profile_status: "minimal" is not one of full, sparse`,
	"invalid-per-object-status.yml":             `line 1: per_object_status: "minimal" is not one of full, sparse`,
	"invalid-per-object-metrics-both-names.yml": `line 3: per_profile_metrics: set twice, first as per_object_metrics on line 1 (per_profile_metrics is the deprecated name of per_object_metrics); keep only per_object_metrics`,
	"invalid-per-object-status-both-names.yml":  `line 2: per_object_status: set twice, first as per_profile_status on line 1 (per_profile_status is the deprecated name of per_object_status); keep only per_object_status`,
	"invalid-per-profile-status-list.yml":       `line 4: per_profile_status: cannot decode a list as full or sparse`,
	"invalid-policy-sid.yml":                    `accounts[0]: policy_sid: "RNxyz" does not match ^RN[0-9a-fA-F]{32}$`,
	"invalid-resource-duplicate.yml":            `resources[2]: "trust_products" is listed twice`,
	"invalid-resource-empty.yml":                `accounts[0]: resources: the list is empty; name at least one of customer_profiles, trust_products, brand_registrations, a2p_campaigns, tollfree_verifications`,
	"invalid-resource-not-list.yml":             `line 1: resources: cannot decode "customer_profiles" as a list of resource names`,
	"invalid-resource-unknown.yml":              `line 7: accounts[0]: resources[0]: unknown resource "trust_product"; the valid ones are customer_profiles, trust_products, brand_registrations, a2p_campaigns, tollfree_verifications`,
	"invalid-status.yml":                        `accounts[0]: status: "approved" is not one of draft, pending-review, in-review, twilio-approved, twilio-rejected`,
	"invalid-syntax.yml":                        `line 2: mapping values are not allowed in this context`,
	"invalid-timeout.yml":                       `timeout: 0s must be greater than 0`,
	"invalid-token-and-file.yml":                `accounts[0]: auth_token and auth_token_file are mutually exclusive`,
	"invalid-token-and-key.yml":                 `accounts[0]: set either auth_token(_file) or api_key with api_secret(_file), not both`,
	"invalid-usage-max-age.yml":                 `line 1: usage_max_age: not a valid duration string: "-1h"`,
	"invalid-two-documents.yml":                 `the file must hold exactly one document`,
	"invalid-type-bool.yml":                     `line 1: per_profile_metrics: cannot decode "maybe" as true or false`,
	"invalid-type-int.yml":                      `line 5: page_size: cannot decode "abc" as an integer`,
	"invalid-type-list-item.yml":                `line 1: expiring_within_days[1]: cannot decode "soon" as an integer`,
	"invalid-type-not-list.yml":                 `line 1: expiring_within_days: cannot decode "7" as a list of integers`,
	"invalid-type-token-list.yml":               `line 3: accounts[0]: auth_token: cannot decode a list as a string`,
	"invalid-unknown-key-second-account.yml":    `line 9: accounts[1]: unknown key "auth_tokn"`,
	"invalid-unknown-key.yml":                   `line 4: accounts[0]: unknown key "auth_tokn"`,
	"invalid-unknown-top-key.yml":               `line 4: unknown key "page_sise"`,
}

func TestInvalid(t *testing.T) {
	for file, want := range invalid {
		t.Run(file, func(t *testing.T) {
			path := filepath.Join("testdata", file)
			_, err := Load(path)
			if err == nil {
				t.Fatal("loaded, want an error")
			}
			// Every message starts with the file, then says where in it.
			if got := err.Error(); got != path+": "+want {
				t.Errorf("error:\n got %s\nwant %s: %s", got, path, want)
			}
			// No message names a Go type or the YAML library.
			for _, leak := range []string{"config.", "yaml:", "unmarshal", "!!"} {
				if strings.Contains(err.Error(), leak) {
					t.Errorf("the message names %q: %s", leak, err)
				}
			}
		})
	}
}

// Every invalid-*.yml file must be in the table above, so none is forgotten.
func TestInvalidFilesAllListed(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid-*.yml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no invalid-*.yml files: %v", err)
	}
	for _, f := range files {
		if _, ok := invalid[filepath.Base(f)]; !ok {
			t.Errorf("%s is not in the table of TestInvalid", f)
		}
	}
	for file := range invalid {
		if _, err := os.Stat(filepath.Join("testdata", file)); err != nil && strings.HasPrefix(file, "invalid-") {
			t.Errorf("the table lists %s, which is not there", file)
		}
	}
}

// A missing file keeps its cause for errors.Is.
func TestLoadMissingIsNotExist(t *testing.T) {
	if _, err := Load("testdata/does-not-exist.yml"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error %v is not fs.ErrNotExist", err)
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

// A secret never comes back out of a loaded config or its specification,
// whatever prints it.
func TestSecretsDoNotPrint(t *testing.T) {
	cfg, err := Load("testdata/good.yml")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("testdata/good.yml")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := decode(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"%v", "%+v", "%#v"} {
		for _, v := range []any{cfg, *cfg, cfg.Accounts, cfg.Accounts[0], spec, spec.Accounts, spec.Accounts[0]} {
			if s := fmt.Sprintf(format, v); strings.Contains(s, "hunter2-token") {
				t.Errorf("%s of a %T prints the token", format, v)
			}
		}
	}
}

// The loader must refuse or accept any input without panicking, and what it
// accepts must be valid.
func FuzzParse(f *testing.F) {
	for _, path := range []string{"testdata/good.yml", "testdata/invalid-unknown-key.yml", "testdata/invalid-duration.yml", "testdata/invalid-type-int.yml", "testdata/invalid-duplicate-key.yml", "testdata/deprecated.yml", "testdata/invalid-per-object-status-both-names.yml", "../config.yml.example"} {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// The walk reads YAML no more leniently than the YAML library:
		// what it accepts is one document the library reads too.
		if _, err := decode(data); err == nil {
			var doc any
			if err := yaml.Unmarshal(data, &doc); err != nil && !strings.Contains(err.Error(), "excessive aliasing") {
				t.Fatalf("decoded what the YAML library refuses: %v", err)
			}
		}
		cfg, err := Parse(strings.NewReader(string(data)), "testdata")
		if err != nil {
			return
		}
		if len(cfg.Accounts) == 0 || cfg.PageSize < 1 || cfg.PageSize > 1000 || cfg.Timeout <= 0 || cfg.MaxConcurrentListings < 1 ||
			!slices.IsSorted(cfg.ExpiringWithinDays) || strings.HasSuffix(cfg.APIURL, "/") ||
			(cfg.PerObjectStatus != StatusFull && cfg.PerObjectStatus != StatusSparse) {
			t.Fatalf("accepted an invalid config: %d accounts, page_size %d, timeout %s, windows %v, api_url %q",
				len(cfg.Accounts), cfg.PageSize, cfg.Timeout, cfg.ExpiringWithinDays, cfg.APIURL)
		}
		names := map[string]bool{}
		for _, a := range cfg.Accounts {
			if a.BasicAuth().Username == "" || a.Name == "" || names[a.Name] {
				t.Fatalf("accepted account %q without credentials, without a name or with a name used twice", a.AccountSID)
			}
			names[a.Name] = true
		}
	})
}

func TestSubaccounts(t *testing.T) {
	const head = "accounts:\n  - name: isv\n    account_sid: AC0123456789abcdef0123456789abcdef\n    auth_token: parent-token\n    status: twilio-rejected\n    resources: [customer_profiles]\n"
	for _, tc := range []struct {
		name string
		yaml string
		want *Subaccounts
	}{
		{name: "absent", yaml: head},
		{name: "discover off", yaml: head + "    subaccounts:\n      discover: false\n      status: [closed]\n"},
		{name: "defaults", yaml: head + "    subaccounts:\n      discover: true\n",
			want: &Subaccounts{Discover: true, Status: []string{"active"}, Refresh: 10 * time.Minute}},
		{name: "null status is the default", yaml: head + "    subaccounts:\n      discover: true\n      status:\n",
			want: &Subaccounts{Discover: true, Status: []string{"active"}, Refresh: 10 * time.Minute}},
		{name: "all set", yaml: head + "    subaccounts:\n      discover: true\n      status: [suspended, active]\n      friendly_name: \"cust-*\"\n      refresh: 90s\n",
			want: &Subaccounts{Discover: true, Status: []string{"suspended", "active"}, FriendlyName: "cust-*", Refresh: 90 * time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse(strings.NewReader(tc.yaml), "")
			if err != nil {
				t.Fatal(err)
			}
			if cfg.AccountsAPIURL != Default().AccountsAPIURL {
				t.Errorf("accounts_api_url = %q, want the default", cfg.AccountsAPIURL)
			}
			if got := cfg.Accounts[0].Subaccounts; !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Subaccounts = %+v; want %+v", got, tc.want)
			}
		})
	}
}

// A subaccount is watched as itself, with the parent's settings.
func TestSubaccountEntry(t *testing.T) {
	cfg, err := Parse(strings.NewReader("accounts_api_url: http://127.0.0.1:1/\naccounts:\n  - name: isv\n    account_sid: AC0123456789abcdef0123456789abcdef\n"+
		"    api_key: SK0123456789abcdef0123456789abcdef\n    api_secret: s\n    status: twilio-rejected\n    resources: [customer_profiles]\n"+
		"    subaccounts:\n      discover: true\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.AccountsAPIURL != "http://127.0.0.1:1" {
		t.Errorf("accounts_api_url = %q, want the trailing slash trimmed", cfg.AccountsAPIURL)
	}
	parent := cfg.Accounts[0]
	const sid = "ACfedcba9876543210fedcba9876543210"
	sub := parent.Subaccount(sid, "sub-token")
	a := sub.BasicAuth()
	if sub.Name != sid || sub.AccountSID != sid || a.Username != sid || string(a.Password) != "sub-token" || sub.UsesAPIKey() {
		t.Errorf("subaccount: name %q, sid %q, user %q, API key %v; want itself with its own token", sub.Name, sub.AccountSID, a.Username, sub.UsesAPIKey())
	}
	if sub.Subaccounts != nil {
		t.Error("a subaccount discovers subaccounts of its own")
	}
	if sub.Filter() != parent.Filter() || resourceNames(sub.Resources) != "customer_profiles" {
		t.Errorf("subaccount filter %+v, resources %q; want the parent's", sub.Filter(), resourceNames(sub.Resources))
	}
	if parent.Name != "isv" || parent.BasicAuth().Username != "SK0123456789abcdef0123456789abcdef" {
		t.Error("Subaccount changed the parent")
	}
	if s := fmt.Sprintf("%v %+v %#v", sub, sub, sub); strings.Contains(s, "sub-token") {
		t.Errorf("a subaccount's token shows in %%v: %s", s)
	}
}
