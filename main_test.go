package main

// These tests build the exporter binary and use it as a person would: start
// it, scrape it over HTTP on loopback, stop it.

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"golang.org/x/crypto/bcrypt"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/internal/proctest"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/simulator"
)

func TestMain(m *testing.M) {
	code := m.Run()
	proctest.Cleanup()
	os.Exit(code)
}

func binary(t *testing.T) string { return proctest.Binary(t) }

type exporterProcess struct {
	*proctest.Process
	addr string
}

// start runs the binary and waits until it answers /-/healthy.
func start(t *testing.T, env []string, args ...string) *exporterProcess {
	t.Helper()
	addr := proctest.FreeAddr(t)
	p := proctest.Start(t, "exporter", "http://"+addr+"/-/healthy", proctest.Env(env...), binary(t),
		append([]string{"--web.listen-address=" + addr}, args...)...)
	return &exporterProcess{Process: p, addr: addr}
}

func (e *exporterProcess) scrape(t *testing.T) (string, map[string]*dto.MetricFamily) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+e.addr+"/metrics", nil)
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", "10")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: HTTP %d\n%s", resp.StatusCode, body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("the exposition does not parse: %v", err)
	}
	return string(body), mfs
}

// value returns the sample of name whose labels include want, or fails.
func value(t *testing.T, mfs map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	t.Helper()
	mf, ok := mfs[name]
	if !ok {
		t.Fatalf("no metric %s", name)
	}
next:
	for _, m := range mf.Metric {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if have[k] != v {
				continue next
			}
		}
		if m.Gauge != nil {
			return m.Gauge.GetValue()
		}
		return m.Counter.GetValue()
	}
	t.Fatalf("no %s with labels %v", name, want)
	return 0
}

const (
	testSID   = "AC0123456789abcdef0123456789abcdef"
	testToken = "planted-token-7f3c9e1d5b"
)

// The acceptance scrape: an account with 2,345 profiles, listed in 3
// requests of 1,000, and 1,234 Trust Products, listed in 2, every count
// exactly right, the token nowhere.
func TestScrape2345Profiles(t *testing.T) {
	now := time.Now()
	profiles := simulator.Generate(testSID, 2345, now, 42)
	trustProducts := simulator.GenerateTrustProducts(testSID, 1234, now, 43)
	sim := simulator.New()
	sim.AddAccount(testSID, testToken, profiles)
	sim.SetObjects(testSID, kinds.TrustProducts, trustProducts)
	api := httptest.NewServer(sim)
	defer api.Close()

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte(testToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf("api_url: %s\nmessaging_api_url: %[1]s\npage_size: 1000\nexpiring_within_days: [7, 30]\naccounts:\n  - name: main\n    account_sid: %s\n    auth_token_file: token\n", api.URL, testSID)
	if err := os.WriteFile(filepath.Join(dir, "config.yml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	e := start(t, nil, "--config.file="+filepath.Join(dir, "config.yml"), "--log.level=debug")
	body, mfs := e.scrape(t)

	// Each kind is listed once: ceil(2345/1000) and ceil(1234/1000) pages,
	// and one page each of the empty Messaging kinds (brands, services,
	// toll-free verifications; no service, so no campaigns' page). Then
	// one page of channel endpoint assignments for each profile and Trust
	// Product that is not approved or expires within 30 days.
	cpSubjects, tpSubjects := usageSubjects(profiles, now, 30), usageSubjects(trustProducts, now, 30)
	wantAll := int64(8 + cpSubjects + tpSubjects)
	requests := func() (int64, int64) {
		return sim.RequestsTo("/v1/CustomerProfiles"), sim.RequestsTo("/v1/TrustProducts")
	}
	if cp, tp := requests(); cp != 3 || tp != 2 || sim.Requests() != wantAll {
		t.Errorf("the listings took %d + %d requests (%d in all), want 3 + 2 (%d in all)", cp, tp, sim.Requests(), wantAll)
	}
	// What the exporter must report, counted here from the profiles served.
	statuses := map[string]int{"draft": 0, "pending-review": 0, "in-review": 0, "twilio-approved": 0, "twilio-rejected": 0}
	codes := map[int64]int{}
	var expired, within7, within30 int
	for _, p := range profiles {
		statuses[*p.Status]++
		seen := map[int64]bool{}
		for _, c := range p.Errors {
			if !seen[c.Code] {
				codes[c.Code]++
				seen[c.Code] = true
			}
		}
		if p.ValidUntil == nil {
			continue
		}
		switch left := p.ValidUntil.Sub(now); {
		case left <= 0:
			expired++
		case left <= 7*24*time.Hour:
			within7++
			within30++
		case left <= 30*24*time.Hour:
			within30++
		}
	}
	account := map[string]string{"account": "main"}
	with := func(k, v string) map[string]string { return map[string]string{"account": "main", k: v} }
	for status, n := range statuses {
		if n == 0 {
			t.Fatalf("the fixture has no %s profile; the test would prove less", status)
		}
		if got := value(t, mfs, "twilio_trusthub_customer_profiles", with("status", status)); got != float64(n) {
			t.Errorf("profiles{status=%q} = %v, want %d", status, got, n)
		}
	}
	for code, n := range codes {
		if got := value(t, mfs, "twilio_trusthub_customer_profile_errors", with("code", strconv.FormatInt(code, 10))); got != float64(n) {
			t.Errorf("errors{code=%d} = %v, want %d", code, got, n)
		}
	}
	if got := len(mfs["twilio_trusthub_customer_profile_errors"].Metric); got != len(codes) {
		t.Errorf("%d error code series, want %d", got, len(codes))
	}
	for name, want := range map[string]struct {
		labels map[string]string
		n      int
	}{
		"twilio_trusthub_customer_profiles_expired":  {account, expired},
		"twilio_trusthub_customer_profiles_expiring": {with("within_days", "7"), within7},
		"twilio_trusthub_up":                         {account, 1},
		"twilio_trusthub_api_requests_total":         {map[string]string{"account": "main", "resource": "customer_profiles", "code": "200"}, 3 + cpSubjects},
	} {
		if got := value(t, mfs, name, want.labels); got != float64(want.n) {
			t.Errorf("%s%v = %v, want %d", name, want.labels, got, want.n)
		}
	}
	if got := value(t, mfs, "twilio_trusthub_customer_profiles_expiring", with("within_days", "30")); got != float64(within30) {
		t.Errorf("expiring within 30 days = %v, want %d", got, within30)
	}
	// The Trust Products, counted here too.
	tpStatuses := map[string]int{}
	for _, p := range trustProducts {
		tpStatuses[*p.Status]++
	}
	for _, status := range kinds.TrustProducts.Statuses {
		if got := value(t, mfs, "twilio_trusthub_trust_products", with("status", status)); got != float64(tpStatuses[status]) || tpStatuses[status] == 0 {
			t.Errorf("trust_products{status=%q} = %v, want %d (and not 0)", status, got, tpStatuses[status])
		}
	}
	if got := len(mfs["twilio_trusthub_trust_product_info"].Metric); got != len(trustProducts) {
		t.Errorf("%d Trust Product info series, want one per Trust Product (%d)", got, len(trustProducts))
	}
	for _, resource := range []string{"customer_profiles", "trust_products"} {
		if got := value(t, mfs, "twilio_trusthub_resource_up", with("resource", resource)); got != 1 {
			t.Errorf("resource_up{resource=%q} = %v, want 1", resource, got)
		}
	}
	if got := value(t, mfs, "twilio_trusthub_api_requests_total", map[string]string{"account": "main", "resource": "trust_products", "code": "200"}); got != float64(2+tpSubjects) {
		t.Errorf("Trust Product requests = %v, want %d", got, 2+tpSubjects)
	}
	if got := len(mfs["twilio_trusthub_customer_profile_info"].Metric); got != len(profiles) {
		t.Errorf("%d info series, want one per profile (%d)", got, len(profiles))
	}
	for _, name := range []string{"twilio_trusthub_listing_duration_seconds", "twilio_trusthub_last_success_timestamp_seconds", "twilio_trusthub_exporter_build_info", "go_goroutines", "process_resident_memory_bytes"} {
		if _, ok := mfs[name]; !ok {
			t.Errorf("no %s", name)
		}
	}

	// A second scrape is served from the cache.
	e.scrape(t)
	if cp, tp := requests(); cp != 3 || tp != 2 || sim.Requests() != wantAll {
		t.Errorf("after a second scrape the API saw %d + %d requests (%d in all), want still 3 + 2 (%d in all)", cp, tp, sim.Requests(), wantAll)
	}
	for where, text := range map[string]string{"/metrics": body, "debug logs": e.Logs.String()} {
		if strings.Contains(text, testToken) {
			t.Errorf("the auth token appears in %s", where)
		}
	}
	if !strings.Contains(e.Logs.String(), "listing done") {
		t.Errorf("no debug log of the listing:\n%s", e.Logs)
	}
}

// usageSubjects counts the objects whose usage a listing at now counts:
// those not approved, or whose valid_until is within days.
func usageSubjects(objects []simulator.ServedObject, now time.Time, days int) int {
	n := 0
	for _, o := range objects {
		if *o.Status != "twilio-approved" || o.ValidUntil != nil && o.ValidUntil.Sub(now) <= time.Duration(days)*24*time.Hour {
			n++
		}
	}
	return n
}

// The other kinds cost their requests, no more: N Customer-Profiles with
// every other kind empty take ceil(N/1000) requests, plus one per other
// kind (Trust Products, brands, the Messaging Services, toll-free
// verifications), plus one per Messaging Service registered for A2P (its
// campaigns; none for a service not registered), plus one per profile
// whose usage is counted.
func TestRequestsOfEveryKind(t *testing.T) {
	for _, tc := range []struct{ profiles, services, unregistered int }{{2345, 0, 0}, {2345, 4, 2}, {1000, 1, 0}, {0, 3, 1}} {
		t.Run(fmt.Sprintf("%d profiles, %d services, %d not registered", tc.profiles, tc.services, tc.unregistered), func(t *testing.T) {
			sim := simulator.New()
			profiles := simulator.Generate(testSID, tc.profiles, time.Now(), 42)
			sim.AddAccount(testSID, testToken, profiles)
			var m simulator.Messaging
			for i := range tc.services + tc.unregistered {
				m.Services = append(m.Services, simulator.ServedService{SID: simulator.Ptr(fmt.Sprintf("MG%032x", i)), USAppToPersonRegistered: simulator.Ptr(i < tc.services)})
			}
			sim.SetMessaging(testSID, m)
			api := httptest.NewServer(sim)
			defer api.Close()
			dir := t.TempDir()
			cfg := fmt.Sprintf("api_url: %s\nmessaging_api_url: %[1]s\npage_size: 1000\naccounts:\n  - name: main\n    account_sid: %s\n    auth_token: %s\n", api.URL, testSID, testToken)
			if err := os.WriteFile(filepath.Join(dir, "config.yml"), []byte(cfg), 0o600); err != nil {
				t.Fatal(err)
			}
			e := start(t, nil, "--config.file="+filepath.Join(dir, "config.yml"))
			_, mfs := e.scrape(t)
			if got := value(t, mfs, "twilio_trusthub_up", map[string]string{"account": "main"}); got != 1 {
				t.Fatalf("up = %v", got)
			}
			want := int64(max(1, (tc.profiles+999)/1000) + 4 + tc.services + usageSubjects(profiles, time.Now(), 30))
			if got := sim.Requests(); got != want {
				t.Errorf("%d requests, want %d", got, want)
			}
			for i := range tc.services + tc.unregistered {
				want := int64(0) // the first services are registered, the rest not
				if i < tc.services {
					want = 1
				}
				if n := sim.RequestsTo(kinds.A2PCampaigns.Path(fmt.Sprintf("MG%032x", i))); n != want {
					t.Errorf("service %d: %d requests for its campaigns, want %d", i, n, want)
				}
			}
			if got := value(t, mfs, "twilio_trusthub_api_requests_total", map[string]string{"account": "main", "resource": "a2p_campaigns", "code": "200"}); got != float64(1+tc.services) {
				t.Errorf("a2p_campaigns requests = %v, want %d", got, 1+tc.services)
			}
		})
	}
}

// A wrong token makes up 0 and logs the failure, and the token shows
// nowhere.
func TestAuthFailure(t *testing.T) {
	sim := simulator.New()
	sim.AddAccount(testSID, "the-right-one", simulator.Generate(testSID, 10, time.Now(), 1))
	api := httptest.NewServer(sim)
	defer api.Close()
	dir := t.TempDir()
	cfg := fmt.Sprintf("api_url: %s\nmessaging_api_url: %[1]s\naccounts:\n  - name: main\n    account_sid: %s\n    auth_token: %s\n", api.URL, testSID, testToken)
	if err := os.WriteFile(filepath.Join(dir, "config.yml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	e := start(t, nil, "--config.file="+filepath.Join(dir, "config.yml"), "--log.level=debug")
	body, mfs := e.scrape(t)
	if got := value(t, mfs, "twilio_trusthub_up", map[string]string{"account": "main"}); got != 0 {
		t.Errorf("up = %v with a wrong token, want 0", got)
	}
	if got := value(t, mfs, "twilio_trusthub_api_requests_total", map[string]string{"code": "401"}); got != 1 {
		t.Errorf("401 answers = %v, want 1", got)
	}
	if _, ok := mfs["twilio_trusthub_customer_profiles"]; ok {
		t.Error("profile counts exported without a successful listing")
	}
	// The cache logs a failure just after recording it, so the scrape may
	// answer first: wait for the line rather than read the logs at once.
	logged := func() bool {
		logs := e.Logs.String()
		return strings.Contains(logs, "authentication failed for account main: check the auth token") && strings.Contains(logs, "HTTP 401")
	}
	for deadline := time.Now().Add(20 * time.Second); !logged() && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	logs := e.Logs.String()
	if !logged() {
		t.Errorf("the failure is not logged:\n%s", logs)
	}
	for where, text := range map[string]string{"/metrics": body, "logs": logs} {
		if strings.Contains(text, testToken) {
			t.Errorf("the auth token appears in %s", where)
		}
	}
}

func TestEnvironmentConfig(t *testing.T) {
	// Configured from the environment alone the exporter would list the real
	// API, which tests must not reach: nothing here scrapes /metrics, and a
	// dead proxy catches any request that might be made all the same.
	e := start(t, []string{"TWILIO_ACCOUNT_SID=" + testSID, "TWILIO_AUTH_TOKEN=" + testToken, "HTTPS_PROXY=http://127.0.0.1:1"}, "--log.level=debug")
	req, _ := http.NewRequest(http.MethodGet, "http://"+e.addr+"/", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if !strings.Contains(string(page), "/metrics") {
		t.Errorf("landing page does not link the metrics:\n%s", page)
	}
	if strings.Contains(string(page)+e.Logs.String(), testToken) {
		t.Error("the token appears on the landing page or in the logs")
	}
}

func TestDemo(t *testing.T) {
	e := start(t, nil, "--demo")
	// The demo's parent discovers its subaccounts in the background from
	// the start: wait for them.
	want := fmt.Sprintf(`twilio_trusthub_discovered_subaccounts{account=%q} %d`, simulator.DemoISV, simulator.DemoSubaccounts)
	text, mfs := e.scrape(t)
	for i := 0; i < 200 && !strings.Contains(text, want); i++ {
		time.Sleep(50 * time.Millisecond)
		text, mfs = e.scrape(t)
	}
	if !strings.Contains(text, want) {
		t.Errorf("the demo's subaccounts are not discovered: want %s", want)
	}
	for i := range simulator.DemoSubaccounts {
		sid := simulator.DemoSubaccountSID(i)
		if got := value(t, mfs, "twilio_trusthub_account_info", map[string]string{"account": sid, "parent": simulator.DemoISV, "friendly_name": fmt.Sprintf("demo-customer-%d", i+1)}); got != 1 {
			t.Errorf("demo subaccount %s: account_info = %v", sid, got)
		}
	}
	for _, a := range simulator.DemoAccounts {
		if got := value(t, mfs, "twilio_trusthub_up", map[string]string{"account": a.Name}); got != 1 {
			t.Errorf("demo account %s: up = %v", a.Name, got)
		}
		total := 0.0
		for _, m := range mfs["twilio_trusthub_customer_profiles"].Metric {
			for _, l := range m.Label {
				if l.GetName() == "account" && l.GetValue() == a.Name {
					total += m.Gauge.GetValue()
				}
			}
		}
		if total != float64(a.Profiles) {
			t.Errorf("demo account %s: %v profiles counted, want %d", a.Name, total, a.Profiles)
		}
	}
	for _, name := range []string{
		"twilio_trusthub_customer_profiles", "twilio_trusthub_customer_profiles_expiring", "twilio_trusthub_customer_profiles_expired",
		"twilio_trusthub_customer_profile_errors", "twilio_trusthub_customer_profile_info", "twilio_trusthub_customer_profile_status",
		"twilio_trusthub_customer_profile_valid_until_timestamp_seconds", "twilio_trusthub_customer_profile_updated_timestamp_seconds",
		"twilio_trusthub_up", "twilio_trusthub_listing_duration_seconds", "twilio_trusthub_last_success_timestamp_seconds",
		"twilio_trusthub_api_requests_total",
	} {
		if mf, ok := mfs[name]; !ok || len(mf.Metric) == 0 {
			t.Errorf("the demo does not show %s", name)
		}
	}
	// Every kind, every documented status of each.
	for _, k := range kinds.All {
		if got := value(t, mfs, "twilio_trusthub_resource_up", map[string]string{"account": "demo", "resource": k.Name}); got != 1 {
			t.Errorf("demo: resource_up{resource=%q} = %v", k.Name, got)
		}
		for _, status := range k.Statuses {
			if got := value(t, mfs, k.Metric(k.Plural), map[string]string{"account": "demo", "status": status}); got < 1 {
				t.Errorf("demo: no %s in status %s", k.Title, status)
			}
		}
		if mf, ok := mfs[k.Metric(k.Singular+"_info")]; !ok || len(mf.Metric) == 0 {
			t.Errorf("the demo shows no %s", k.Metric(k.Singular+"_info"))
		}
	}
	for _, name := range []string{
		"twilio_messaging_brand_registration_score", "twilio_messaging_tollfree_verification_edit_expiration_timestamp_seconds",
		"twilio_messaging_a2p_campaign_error_info", "twilio_messaging_brand_registration_error_info",
	} {
		if mf, ok := mfs[name]; !ok || len(mf.Metric) == 0 {
			t.Errorf("the demo does not show %s", name)
		}
	}
	for _, want := range []struct {
		name, code string
	}{
		{"twilio_messaging_brand_registration_errors", "30990"},
		{"twilio_messaging_brand_registration_errors", "30701"},
		{"twilio_messaging_a2p_campaign_errors", "30897"},
	} {
		if got := value(t, mfs, want.name, map[string]string{"account": "demo", "code": want.code}); got < 1 {
			t.Errorf("demo: %s{code=%q} = %v", want.name, want.code, got)
		}
	}
	// A few hundred in every status, some expiring soon, some expired.
	for _, status := range []string{"draft", "pending-review", "in-review", "twilio-approved", "twilio-rejected"} {
		if got := value(t, mfs, "twilio_trusthub_customer_profiles", map[string]string{"account": "demo", "status": status}); got < 100 {
			t.Errorf("demo: %v profiles in %s, want a few hundred", got, status)
		}
	}
	if got := value(t, mfs, "twilio_trusthub_customer_profiles_expiring", map[string]string{"account": "demo", "within_days": "7"}); got == 0 {
		t.Error("demo: nothing expiring within 7 days")
	}
}

func TestGracefulShutdown(t *testing.T) {
	e := start(t, nil, "--demo")
	if err := e.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited, err := e.Wait(30 * time.Second)
	if !exited {
		t.Fatal("still running 30s after SIGTERM")
	}
	if err != nil {
		t.Errorf("exit after SIGTERM: %v\n%s", err, e.Logs)
	}
}

func TestBadStartIsRefused(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yml")
	if err := os.WriteFile(bad, []byte("page_size: 5000\naccounts:\n  - account_sid: "+testSID+"\n    auth_token: "+testToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"bad config", nil, []string{"--config.file=" + bad}, "page_size: 5000 is outside 1..1000"},
		{"missing config", nil, []string{"--config.file=" + filepath.Join(dir, "nope.yml")}, "nope.yml: cannot be read: no such file or directory"},
		{"no credentials", nil, nil, "TWILIO_ACCOUNT_SID is not set"},
		{"demo and config", nil, []string{"--demo", "--config.file=" + bad}, "--demo and --config.file exclude each other"},
		{"bad flag", nil, []string{"--log.level=loud"}, "enum value must be one of debug,info,warn,error, got 'loud'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(binary(t), append([]string{"--web.listen-address=" + proctest.FreeAddr(t)}, tc.args...)...)
			cmd.Env = proctest.Env(tc.env...)
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() == 0 {
				t.Fatalf("exit: %v, want a non-zero exit\n%s", err, out)
			}
			if !strings.Contains(string(out), tc.want) {
				t.Errorf("output lacks %q:\n%s", tc.want, out)
			}
			if strings.Contains(string(out), testToken) {
				t.Error("the token appears in the output")
			}
		})
	}
}

func writeConfig(t *testing.T, path, apiURL, name, token string) {
	t.Helper()
	cfg := fmt.Sprintf("api_url: %s\nmessaging_api_url: %[1]s\naccounts:\n  - name: %s\n    account_sid: %s\n    auth_token: %s\n", apiURL, name, testSID, token)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
}

// --config.check prints only its verdict: the valid one on stdout (with
// any warning on stderr), the refusal on stderr, and no log line around
// either.
func TestConfigCheck(t *testing.T) {
	dir := t.TempDir()
	good, bad, typo := filepath.Join(dir, "good.yml"), filepath.Join(dir, "bad.yml"), filepath.Join(dir, "typo.yml")
	writeConfig(t, good, "http://127.0.0.1:1", "main", testToken)
	if err := os.WriteFile(bad, []byte("accounts:\n  - account_sid: "+testSID+"\n    auth_token: "+testToken+"\n    status: approved\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(typo, []byte("accounts:\n  - account_sid: "+testSID+"\n    auth_token: "+testToken+"\n    auth_tokn: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(dir, "old.yml")
	if err := os.WriteFile(old, []byte("per_profile_status: sparse\naccounts:\n  - account_sid: "+testSID+"\n    auth_token: "+testToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.yml")
	for _, tc := range []struct {
		name           string
		args           []string
		code           int
		stdout, stderr string
	}{
		{"valid", []string{"--config.file=" + good}, 0, "configuration valid: 1 account(s)\n", ""},
		{"invalid value", []string{"--config.file=" + bad}, 1, "",
			"configuration refused: " + bad + `: accounts[0]: status: "approved" is not one of draft, pending-review, in-review, twilio-approved, twilio-rejected` + "\n"},
		{"unknown key", []string{"--config.file=" + typo}, 1, "", "configuration refused: " + typo + `: line 4: accounts[0]: unknown key "auth_tokn"` + "\n"},
		{"deprecated key", []string{"--config.file=" + old}, 0, "configuration valid: 1 account(s)\n",
			"configuration warning: " + old + ": line 1: per_profile_status is deprecated: rename it per_object_status\n"},
		{"missing file", []string{"--config.file=" + missing}, 1, "", "configuration refused: " + missing + ": cannot be read: no such file or directory\n"},
		{"demo and file", []string{"--demo", "--config.file=" + good}, 1, "", "configuration refused: --demo and --config.file exclude each other: the demo brings its own accounts\n"},
		{"demo", []string{"--demo"}, 0, "configuration valid: 3 account(s)\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(binary(t), append([]string{"--config.check"}, tc.args...)...)
			cmd.Env = proctest.Env()
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tc.code || stdout.String() != tc.stdout || stderr.String() != tc.stderr {
				t.Errorf("exit %d, stdout %q, stderr %q\nwant exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String(), tc.code, tc.stdout, tc.stderr)
			}
			if strings.Contains(stdout.String()+stderr.String(), testToken) {
				t.Error("--config.check prints the token")
			}
		})
	}
}

// SIGHUP reloads a valid file, keeps what an unchanged one keeps, and
// refuses a bad one keeping the old.
func TestSIGHUPReload(t *testing.T) {
	sim := simulator.New()
	sim.AddAccount(testSID, testToken, simulator.Generate(testSID, 10, time.Now(), 1))
	api := httptest.NewServer(sim)
	defer api.Close()
	path := filepath.Join(t.TempDir(), "config.yml")
	writeConfig(t, path, api.URL, "before", testToken)
	e := start(t, nil, "--config.file="+path)
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 20s\n%s", what, e.Logs)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	serves := func(name string) func() bool {
		return func() bool {
			body, _ := e.scrape(t)
			return strings.Contains(body, `twilio_trusthub_up{account="`+name+`"} 1`)
		}
	}
	waitFor("serving before", serves("before"))

	writeConfig(t, path, api.URL, "after", testToken)
	if err := e.Cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor("serving after the reload", serves("after"))

	// The same file again: what is cached stays, and Twilio is asked
	// nothing.
	requests := sim.Requests()
	if err := e.Cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor("the second reload logged", func() bool { return strings.Count(e.Logs.String(), `msg="configuration reloaded"`) == 2 })
	if !serves("after")() {
		t.Error("not up after a reload of the same file")
	}
	if got := sim.Requests() - requests; got != 0 {
		t.Errorf("a reload of the same file made %d requests to Twilio, want 0", got)
	}

	if err := os.WriteFile(path, []byte("page_size: 0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := e.Cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor("the refused reload logged", func() bool { return strings.Contains(e.Logs.String(), "configuration reload refused") })
	_, mfs := e.scrape(t)
	if !serves("after")() {
		t.Error("a refused reload replaced the running configuration")
	}
	if got := value(t, mfs, "twilio_trusthub_exporter_config_last_reload_successful", nil); got != 0 {
		t.Errorf("last reload successful = %v after a refused reload", got)
	}
	if !strings.Contains(e.Logs.String(), "page_size: 0 is outside 1..1000") {
		t.Errorf("the refusal does not name the field:\n%s", e.Logs)
	}
}

// A planted token appears nowhere a person or a program could read it: logs
// at debug level, /metrics, the landing page, error texts (a failed listing,
// a refused reload, --config.check) and a goroutine dump. That holds for a
// discovered subaccount's token, read from Twilio's list, too.
func TestPlantedTokenNowhere(t *testing.T) {
	const (
		otherSID        = "ACfedcba9876543210fedcba9876543210"
		wrongToken      = "planted-wrong-token-0c4e2b"
		subSID          = "AC5b000000000000000000000000000001"
		discoveredToken = "planted-discovered-token-a81f"
	)
	sim := simulator.New()
	sim.AddAccount(testSID, testToken, simulator.Generate(testSID, 50, time.Now(), 1))
	sim.AddAccount(otherSID, "the-real-token", nil)
	sim.AddSubaccount(testSID, subSID, "cust-1", discoveredToken)
	sim.SetObjects(subSID, kinds.CustomerProfiles, simulator.Generate(subSID, 5, time.Now(), 2))
	api := httptest.NewServer(sim)
	defer api.Close()
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yml")
	cfg := fmt.Sprintf("api_url: %s\nmessaging_api_url: %[1]s\naccounts_api_url: %[1]s\naccounts:\n  - name: good\n    account_sid: %s\n    auth_token: %s\n"+
		"    subaccounts:\n      discover: true\n  - name: refused\n    account_sid: %s\n    auth_token: %s\n",
		api.URL, testSID, testToken, otherSID, wrongToken)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	e := start(t, nil, "--config.file="+path, "--log.level=debug")
	seen := map[string]string{}
	// Discovery runs in the background from the start: wait for the
	// subaccount to be listed, with its own token.
	metrics, mfs := e.scrape(t)
	for i := 0; i < 200 && !strings.Contains(metrics, `twilio_trusthub_up{account="`+subSID+`"} 1`); i++ {
		time.Sleep(50 * time.Millisecond)
		metrics, mfs = e.scrape(t)
	}
	if !strings.Contains(metrics, `twilio_trusthub_up{account="`+subSID+`"} 1`) {
		t.Fatalf("the discovered subaccount is not listed:\n%s", e.Logs)
	}
	seen["/metrics"] = metrics
	if value(t, mfs, "twilio_trusthub_up", map[string]string{"account": "refused"}) != 0 {
		t.Fatal("the account with the wrong token is up")
	}
	get := func(method, path string) string {
		req, _ := http.NewRequest(method, "http://"+e.addr+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	seen["landing page"] = get(http.MethodGet, "/")

	// A bad file that still holds both tokens: the refusal must not echo them.
	bad := strings.Replace(cfg, "name: refused", "name: good", 1)
	if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	seen["refused reload"] = get(http.MethodPost, "/-/reload")
	if !strings.Contains(seen["refused reload"], `name "good" is already used`) {
		t.Errorf("reload answer: %q", seen["refused reload"])
	}
	out, _ := exec.Command(binary(t), "--config.check", "--config.file="+path).CombinedOutput()
	seen["--config.check"] = string(out)

	// A goroutine dump, as a crash would print.
	if err := e.Cmd.Process.Signal(syscall.SIGQUIT); err != nil {
		t.Fatal(err)
	}
	if exited, _ := e.Wait(20 * time.Second); !exited {
		t.Fatal("no exit after SIGQUIT")
	}
	logs := e.Logs.String()
	if !strings.Contains(logs, "goroutine ") || !strings.Contains(logs, "authentication failed for account refused") {
		t.Fatalf("the output lacks the goroutine dump or the auth failure:\n%s", logs)
	}
	seen["debug logs and goroutine dump"] = logs
	for where, text := range seen {
		for _, token := range []string{testToken, wrongToken, discoveredToken} {
			if strings.Contains(text, token) {
				t.Errorf("a token appears in %s", where)
			}
		}
	}
}

// --web.config.file protects /metrics with TLS and basic auth.
func TestWebConfigTLSAndBasicAuth(t *testing.T) {
	dir := t.TempDir()
	certPEM, keyPEM := selfSignedCert(t)
	if err := os.WriteFile(filepath.Join(dir, "cert.pem"), certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "key.pem"), keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte("scrape-password"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	webCfg := fmt.Sprintf("tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\nbasic_auth_users:\n  prometheus: %s\n", hash)
	if err := os.WriteFile(filepath.Join(dir, "web.yml"), []byte(webCfg), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := proctest.FreeAddr(t)
	cmd := exec.Command(binary(t), "--demo", "--web.listen-address="+addr, "--web.config.file="+filepath.Join(dir, "web.yml"))
	cmd.Env = proctest.Env()
	logs := &proctest.Buffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()

	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}, Timeout: 10 * time.Second}
	status := func(scheme, user, pass string) int {
		req, _ := http.NewRequest(http.MethodGet, scheme+"://"+addr+"/metrics", nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := client.Do(req)
		if err != nil {
			return -1
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	deadline := time.Now().Add(30 * time.Second)
	for status("https", "", "") == -1 {
		if time.Now().After(deadline) {
			t.Fatalf("no TLS listener after 30s:\n%s", logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, tc := range []struct {
		scheme, user, pass string
		want               int
	}{
		{"https", "", "", http.StatusUnauthorized},
		{"https", "prometheus", "wrong", http.StatusUnauthorized},
		{"https", "prometheus", "scrape-password", http.StatusOK},
		{"http", "prometheus", "scrape-password", http.StatusBadRequest}, // plain HTTP to a TLS port
	} {
		if got := status(tc.scheme, tc.user, tc.pass); got != tc.want {
			t.Errorf("%s as %q: %d, want %d", tc.scheme, tc.user, got, tc.want)
		}
	}
}

// selfSignedCert makes a certificate for 127.0.0.1, valid for an hour.
func selfSignedCert(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Minute),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
}

// Every log line, whether our go-kit logging or exporter-toolkit's slog
// logging wrote it, starts with the same keys in the same order, in logfmt
// and in JSON.
func TestLogFormat(t *testing.T) {
	firstKeys := []string{"time", "level", "source", "msg"}
	// One line from each writer: main, another package (at debug level),
	// exporter-toolkit.
	want := map[string]string{"starting twilio_trusthub_exporter": "main.go:", "listing done": "cache.go:", "Listening on": "tls_config.go:"}
	logfmtLine := regexp.MustCompile(`^time=(\S+) level=(\S+) source=(\S+) msg=("(?:[^"\\]|\\.)*"|\S+)`)
	for _, format := range []string{"logfmt", "json"} {
		t.Run(format, func(t *testing.T) {
			e := start(t, nil, "--demo", "--log.level=debug", "--log.format="+format)
			e.scrape(t) // lists both accounts: "listing done" at debug level
			if err := e.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			if exited, _ := e.Wait(30 * time.Second); !exited {
				t.Fatal("no exit after SIGTERM")
			}
			seen := map[string]string{}
			lines := strings.Split(strings.TrimSpace(e.Logs.String()), "\n")
			for _, line := range lines {
				var keys, values []string
				if format == "json" {
					keys, values = jsonFirstKeys(t, line, len(firstKeys))
				} else if m := logfmtLine.FindStringSubmatch(line); m != nil {
					keys, values = firstKeys, m[1:]
					if msg, err := strconv.Unquote(values[3]); err == nil {
						values[3] = msg
					}
				}
				if !slices.Equal(keys, firstKeys) {
					t.Errorf("line does not start with %v:\n%s", firstKeys, line)
					continue
				}
				if _, err := time.Parse(time.RFC3339Nano, values[0]); err != nil {
					t.Errorf("time %q: %v", values[0], err)
				}
				if !slices.Contains([]string{"DEBUG", "INFO", "WARN", "ERROR"}, values[1]) {
					t.Errorf("level %q", values[1])
				}
				seen[values[3]] = values[2]
			}
			for msg, file := range want {
				if src, ok := seen[msg]; !ok || !strings.HasPrefix(src, file) {
					t.Errorf("line %q: source %q (present: %v), want %s...\n%s", msg, src, ok, file, e.Logs)
				}
			}
		})
	}
}

// jsonFirstKeys returns the first n keys of a JSON object, in order, and
// their values as text.
func jsonFirstKeys(t *testing.T, line string, n int) (keys, values []string) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(line))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Errorf("not a JSON object: %s", line)
		return nil, nil
	}
	for len(keys) < n && dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Errorf("%v: %s", err, line)
			return nil, nil
		}
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Errorf("%v: %s", err, line)
			return nil, nil
		}
		keys, values = append(keys, fmt.Sprint(k)), append(values, fmt.Sprint(v))
	}
	return keys, values
}

// The go-kit logger names the line that logged as the source, however the
// logger was wrapped.
func TestKitLoggerSource(t *testing.T) {
	var buf bytes.Buffer
	logger, _ := newLoggers(&buf, "debug", "logfmt")
	_, _, line, _ := runtime.Caller(0)
	level.Info(logger).Log("msg", "plain")
	level.Warn(log.With(log.With(logger, "a", 1), "b", 2)).Log("msg", "wrapped", "err", errors.New("boom"))
	log.WithPrefix(logger, "p", "q").Log("msg", "no level")
	got := strings.Split(strings.TrimSpace(buf.String()), "\n")
	want := []string{
		fmt.Sprintf(`level=INFO source=main_test.go:%d msg=plain`, line+1),
		fmt.Sprintf(`level=WARN source=main_test.go:%d msg=wrapped a=1 b=2 err=boom`, line+2),
		fmt.Sprintf(`level=INFO source=main_test.go:%d msg="no level" p=q`, line+3),
	}
	if len(got) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(got), len(want), buf.String())
	}
	for i := range want {
		if _, rest, _ := strings.Cut(got[i], " "); rest != want[i] {
			t.Errorf("line %d:\n got %s\nwant time=... %s", i, got[i], want[i])
		}
	}
	// The level filter holds for go-kit lines too.
	buf.Reset()
	logger, _ = newLoggers(&buf, "warn", "logfmt")
	level.Info(logger).Log("msg", "hidden")
	level.Debug(logger).Log("msg", "hidden")
	if buf.Len() != 0 {
		t.Errorf("below the level: %s", buf.String())
	}
}

// --help-man writes a page whose .TH line holds one line of quoted fields,
// which man renders without a warning.
func TestHelpMan(t *testing.T) {
	out, err := exec.Command(binary(t), "--help-man").Output()
	if err != nil {
		t.Fatalf("--help-man: %v", err)
	}
	page := string(out)
	th, _, _ := strings.Cut(page, "\n")
	if !regexp.MustCompile(`^\.TH twilio_trusthub_exporter 1 "[^"\n]*" "twilio_trusthub_exporter [^"\n]+" "User Commands"$`).MatchString(th) {
		t.Errorf(".TH line: %q", th)
	}
	if !strings.Contains(page, ".SH \"OPTIONS\"") || !strings.Contains(page, "--config.file") {
		t.Errorf("the page lacks the options:\n%s", page)
	}
	t.Run("man renders it", func(t *testing.T) { manRenders(t, out) })
}

func manRenders(t *testing.T, out []byte) {
	man, err := exec.LookPath("man")
	if err != nil {
		// As the e2e tests do with their programs: fail under CI, skip on a
		// developer's machine without man.
		msg := "man not found on PATH; `bash scripts/test.sh` installs it (man-db)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	cmd := exec.Command(man, "--warnings", "-l", "-")
	cmd.Env = append(proctest.Env(), "MANWIDTH=80", "MAN_KEEP_FORMATTING=0")
	cmd.Stdin = bytes.NewReader(out)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil || stderr.Len() != 0 {
		t.Errorf("man -l: %v\n%s", err, stderr.String())
	}
	// The header names the program and the version; the body starts with
	// NAME, not with leftovers of the version text.
	// Without a terminal man may still embolden by overstriking ("N\bNA\bA").
	text := regexp.MustCompile(".\b").ReplaceAllString(stdout.String(), "")
	header, body, _ := strings.Cut(text, "\n")
	if !strings.Contains(header, "twilio_trusthub_exporter(1)") || !strings.Contains(header, "User Commands") {
		t.Errorf("man header: %q", header)
	}
	if first := strings.TrimSpace(body); !strings.HasPrefix(first, "NAME") {
		t.Errorf("the page does not start with NAME:\n%s", text)
	}
	if !regexp.MustCompile(`(?m)^twilio_trusthub_exporter \S+\s+twilio_trusthub_exporter\(1\)$`).MatchString(text) {
		t.Errorf("the footer lacks the version:\n%s", text)
	}
}
