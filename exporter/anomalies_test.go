package exporter

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/config"
)

// Three accounts answer three bodies: one with odd values in two of its
// three profiles, one clean, and one that is no page at all (cut off after
// a profile with an odd value).
const (
	sidOdd     = "AC000000000000000000000000000000aa"
	sidClean   = "AC000000000000000000000000000000bb"
	sidGarbled = "AC000000000000000000000000000000cc"

	oddPage = `{"meta": {"next_page_url": null}, "results": [
		{"sid": "BU1", "status": "twilio-approved", "valid_until": "2026-11-30T12:00:00Z", "errors": []},
		{"sid": "BU2", "status": "twilio-rejected", "valid_until": "soon", "friendly_name": "Jane Roe",
		 "errors": [18601, "18602", {"error_code": 30701}, null, "private-detail"]},
		{"sid": "BU3", "status": 5, "date_updated": "yesterday-secret"}
	]}`
	cleanPage   = `{"meta": {"next_page_url": null}, "results": [{"sid": "BU7", "status": "draft"}]}`
	garbledPage = `{"meta": {"next_page_url": null}, "results": [{"sid": "BU9", "status": "draft", "errors": [true]}, {"sid": "BU`
)

// syncBuffer is a log destination for listings that run concurrently.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func anomalyExporter(t *testing.T, clock *time.Time, logs *syncBuffer, totals prometheus.Registerer) *Exporter {
	t.Helper()
	bodies := map[string]string{sidOdd: oddPage, sidClean: cleanPage, sidGarbled: garbledPage}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, _, _ := r.BasicAuth()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(bodies[user]))
	}))
	t.Cleanup(srv.Close)
	var yml strings.Builder
	// The test server answers every path alike: Customer-Profiles only.
	fmt.Fprintf(&yml, "api_url: %s\nmessaging_api_url: %[1]s\nresources: [customer_profiles]\naccounts:\n", srv.URL)
	for _, a := range []struct{ name, sid string }{{"odd", sidOdd}, {"clean", sidClean}, {"garbled", sidGarbled}} {
		fmt.Fprintf(&yml, "  - {name: %s, account_sid: %s, auth_token: tok}\n", a.name, a.sid)
	}
	cfg, err := config.Parse(strings.NewReader(yml.String()), "")
	if err != nil {
		t.Fatal(err)
	}
	logger := log.NewLogfmtLogger(logs)
	e, err := New(cfg, Options{UserAgent: "test", Logger: logger, Now: func() time.Time { return *clock }, Registerer: totals})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e
}

// checkAnomalies compares the process's count of skipped values of each
// Customer-Profile field with odd's, plus garbled's errors.
func checkAnomalies(t *testing.T, totals prometheus.Gatherer, odd map[string]int, garbled int) {
	t.Helper()
	for _, field := range []string{"date_created", "date_updated", "errors", "friendly_name", "policy_sid", "sid", "status", "valid_until"} {
		want := odd[field]
		if field == "errors" {
			want += garbled
		}
		if got := seriesValue(t, totals, "twilio_trusthub_exporter_decode_anomalies_total", field, "customer_profiles"); got != float64(want) {
			t.Errorf("%s: %v skipped, want %d", field, got, want)
		}
	}
}

// One odd value costs that value, not the account: up stays 1, every
// profile is counted, and the anomaly counter says what was skipped.
func TestOddValuesDoNotBlindTheAccount(t *testing.T) {
	clock := now
	logs := &syncBuffer{}
	totals := prometheus.NewPedanticRegistry()
	e := anomalyExporter(t, &clock, logs, totals)
	reg := prometheus.Gatherer(e.Scrape(context.Background()))

	// testdata/odd-values.prom, and what it must say, said apart from it.
	golden(t, "odd-values.prom", only(reg, "twilio_trusthub_up", "twilio_trusthub_customer_profiles",
		"twilio_trusthub_customer_profile_errors", "twilio_trusthub_customer_profiles_expiring"))
	for _, tc := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"twilio_trusthub_up", []string{"odd"}, 1},
		{"twilio_trusthub_up", []string{"garbled"}, 0},
		// BU3's status is the number 5: counted, as unknown.
		{"twilio_trusthub_customer_profiles", []string{"odd", "unknown"}, 1},
		// BU2's codes that are numbers count; null and "private-detail" do not.
		{"twilio_trusthub_customer_profile_errors", []string{"odd", "18602"}, 1},
		// BU1 expires in 3 days; BU2's valid_until "soon" is skipped.
		{"twilio_trusthub_customer_profiles_expiring", []string{"odd", "7"}, 1},
	} {
		if got := seriesValue(t, reg, tc.name, tc.labels...); got != tc.want {
			t.Errorf("%s%v = %v, want %v", tc.name, tc.labels, got, tc.want)
		}
	}
	// The garbled body is no page: the listing fails as before, yet the
	// odd value it met before the cut is counted.
	if got := seriesValue(t, reg, "twilio_trusthub_listing_errors_total", "garbled", "customer_profiles"); got != 1 {
		t.Errorf("garbled: %v failures, want 1", got)
	}
	if got := seriesValue(t, totals, "twilio_trusthub_exporter_listing_errors_total", "decode", "customer_profiles"); got != 1 {
		t.Errorf("%v decode failures, want 1", got)
	}
	checkAnomalies(t, totals, map[string]int{"errors": 2, "valid_until": 1, "status": 1, "date_updated": 1}, 1)

	// Once per listing, at warn level, naming sids and fields, never a value.
	out := logs.String()
	for _, want := range []string{
		`level=warn msg="skipped malformed values in the listing; the rest of each object was counted" account=odd resource=customer_profiles anomalies=5 first="BU2:valid_until BU2:errors BU2:errors BU3:status BU3:date_updated"`,
		`level=warn msg="skipped malformed values in the listing; the rest of each object was counted" account=garbled resource=customer_profiles anomalies=1 first=BU9:errors`,
	} {
		if strings.Count(out, want) != 1 {
			t.Errorf("the log holds %d lines %s, want 1; the log:\n%s", strings.Count(out, want), want, out)
		}
	}
	for _, secret := range []string{"soon", "private-detail", "yesterday-secret", "Jane Roe", "tok"} {
		if strings.Contains(out, secret) {
			t.Errorf("the log contains the value %q:\n%s", secret, out)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "account=clean") && strings.Contains(line, "level=warn") {
			t.Errorf("a clean listing logged: %s", line)
		}
	}

	// A later listing meets the same odd values and counts them again.
	clock = clock.Add(6 * time.Minute)
	e.Scrape(context.Background())
	checkAnomalies(t, totals, map[string]int{"errors": 4, "valid_until": 2, "status": 2, "date_updated": 2}, 2)
}
