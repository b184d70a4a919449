package server

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/config"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/simulator"
)

// What the configuration warns of (a deprecated key) is logged at start
// and again at each reload.
func TestReloadLogsWarnings(t *testing.T) {
	sim := simulator.New()
	sim.AddAccount(mainSID, "tok", simulator.Generate(mainSID, 1, time.Now(), 1))
	var logs bytes.Buffer
	rel := testSetup{api: sim, logger: log.NewLogfmtLogger(log.NewSyncWriter(&logs)), load: func(apiURL string) (*config.Config, error) {
		yml := fmt.Sprintf("api_url: %s\nmessaging_api_url: %[1]s\nper_profile_metrics: false\naccounts:\n  - account_sid: %s\n    auth_token: tok\n", apiURL, mainSID)
		return config.Parse(strings.NewReader(yml), "")
	}}.start(t).rel
	if err := rel.Reload(); err != nil {
		t.Fatal(err)
	}
	const want = `level=warn msg="configuration warning" warning="line 3: per_profile_metrics is deprecated: rename it per_object_metrics"`
	if n := strings.Count(logs.String(), want); n != 2 {
		t.Errorf("the warning is logged %d times, want 2 (start and reload):\n%s", n, logs.String())
	}
}

// A reload swaps in a valid file, refuses a bad one and keeps the old, and
// answers only POST.
func TestReload(t *testing.T) {
	sim := simulator.New()
	sim.AddAccount(mainSID, "tok", simulator.Generate(mainSID, 5, time.Now(), 1))
	path := filepath.Join(t.TempDir(), "config.yml")
	var apiURL string
	write := func(name string) {
		t.Helper()
		cfg := fmt.Sprintf("api_url: %s\nmessaging_api_url: %[1]s\naccounts:\n  - name: %s\n    account_sid: %s\n    auth_token: tok\n", apiURL, name, mainSID)
		if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// The file names the API, whose address is known once it is served:
	// the first load writes it.
	ts := testSetup{api: sim, load: func(url string) (*config.Config, error) {
		if apiURL == "" {
			apiURL = url
			write("first")
		}
		return config.Load(path)
	}}.start(t)
	reg, h := ts.reg, ts.handler
	do := func(method, path string) (int, string) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(method, path, nil))
		body, _ := io.ReadAll(w.Body)
		return w.Code, string(body)
	}
	accountOf := func() string {
		_, body := do(http.MethodGet, "/metrics")
		for _, name := range []string{"first", "second"} {
			if strings.Contains(body, `twilio_trusthub_up{account="`+name+`"} 1`) {
				return name
			}
		}
		return "none"
	}
	reloadOK := func() float64 {
		mfs, _ := reg.Gather()
		for _, mf := range mfs {
			if mf.GetName() == "twilio_trusthub_exporter_config_last_reload_successful" {
				return mf.Metric[0].Gauge.GetValue()
			}
		}
		return -1
	}

	if got := accountOf(); got != "first" {
		t.Fatalf("serving %q before any reload", got)
	}
	if code, _ := do(http.MethodGet, "/-/reload"); code != http.StatusMethodNotAllowed {
		t.Errorf("GET /-/reload: %d, want 405", code)
	}

	write("second")
	if code, body := do(http.MethodPost, "/-/reload"); code != http.StatusOK {
		t.Fatalf("reload of a valid file: %d %s", code, body)
	}
	if got := accountOf(); got != "second" {
		t.Errorf("serving %q after the reload, want second", got)
	}
	if reloadOK() != 1 {
		t.Error("last reload not reported as successful")
	}

	if err := os.WriteFile(path, []byte("page_size: 0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, body := do(http.MethodPost, "/-/reload")
	if code != http.StatusInternalServerError || !strings.Contains(body, "page_size: 0 is outside 1..1000") {
		t.Errorf("reload of a bad file: %d %q, want 500 naming the field", code, body)
	}
	if got := accountOf(); got != "second" {
		t.Errorf("serving %q after a refused reload, want the previous config (second)", got)
	}
	if reloadOK() != 0 {
		t.Error("the refused reload is not reported")
	}
	if v := testutil.CollectAndCount(reg, "twilio_trusthub_exporter_config_last_reload_success_timestamp_seconds"); v != 1 {
		t.Errorf("%d last-success series, want 1", v)
	}
}
