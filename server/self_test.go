package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/simulator"
)

// The exporter's own metrics are served alone at their path: the
// process's and the reload's, no account's, and asking Twilio nothing,
// so that a replica of the multi-target shape can be scraped once for
// them while its accounts are probed.
func TestExporterTelemetryPath(t *testing.T) {
	sim := simulator.New()
	sim.AddAccount(mainSID, "tok", simulator.Generate(mainSID, 5, time.Now(), 1))
	ts := testSetup{api: sim, options: Options{ExporterTelemetryPath: "/exporter-metrics", MaxRequests: 1}}.start(t)
	ts.reg.MustRegister(collectors.NewGoCollector())
	h, reg, rel := ts.handler, ts.reg, ts.rel
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/exporter-metrics", nil))
	body, _ := io.ReadAll(w.Body)
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, body)
	}
	for _, want := range []string{"go_goroutines ", "twilio_trusthub_exporter_config_last_reload_successful 1\n"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("no %q in:\n%s", want, body)
		}
	}
	if strings.Contains(string(body), "twilio_trusthub_up") || strings.Contains(string(body), `account="`) {
		t.Errorf("an account's series is served:\n%s", body)
	}
	if n := sim.Requests(); n != 0 {
		t.Errorf("%d requests to Twilio for the exporter's own metrics, want 0", n)
	}

	if _, err := New(reg, rel, Options{Name: "x", TelemetryPath: "/metrics", ExporterTelemetryPath: "/metrics", Logger: log.NewNopLogger()}); err == nil ||
		!strings.Contains(err.Error(), `--web.exporter-telemetry-path "/metrics" is --web.telemetry-path's`) {
		t.Errorf("the same path twice: %v", err)
	}
}
