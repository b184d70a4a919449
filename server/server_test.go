package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	promconfig "github.com/prometheus/common/config"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/config"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/exporter"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/simulator"
)

func TestWait(t *testing.T) {
	h := &metricsHandler{o: Options{TimeoutOffset: 500 * time.Millisecond, Logger: log.NewNopLogger()}}
	for _, tc := range []struct {
		header string
		want   time.Duration
	}{
		{"", 2 * time.Minute},
		{"10", 9500 * time.Millisecond},
		{"2.5", 2 * time.Second},
		{"0.3", 300 * time.Millisecond}, // shorter than the offset: all of it
		{"600", 2 * time.Minute},        // never longer than a listing may take
		{"soon", 2 * time.Minute},
		{"-1", 2 * time.Minute},
	} {
		r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		if tc.header != "" {
			r.Header.Set(ScrapeTimeoutHeader, tc.header)
		}
		if got := h.wait(r, 2*time.Minute); got != tc.want {
			t.Errorf("header %q: wait %s, want %s", tc.header, got, tc.want)
		}
	}
}

// mainSID is the one account the server tests configure unless they say
// otherwise: "main", with the token "tok".
const mainSID = "AC0123456789abcdef0123456789abcdef"

// testSetup is the one set-up of the server tests, as main wires it: the
// API the exporter lists, served on loopback; its configuration; the
// reloader that builds the running exporter from it; and the whole HTTP
// handler, both on one registry.
type testSetup struct {
	// api answers the exporter's requests: a *simulator.Server, or a
	// handler that misbehaves (hangs, fails). nil: the configuration points
	// at a port where nothing listens.
	api http.Handler
	// spec adjusts the configuration, which starts as config.Default with
	// both API URLs at api and the one account main.
	spec func(*config.Config)
	// load, if set, is the configuration instead (a reload test's file);
	// it is given api's URL.
	load func(apiURL string) (*config.Config, error)
	// exporter are the options of every exporter the reloader builds.
	exporter exporter.Options
	// logger is the reloader's; nil: none.
	logger log.Logger
	// options are the handler's; Name, TelemetryPath and Logger are set.
	options Options
}

// testServer is a started testSetup; everything stops when the test ends.
type testServer struct {
	reg     *prometheus.Registry
	rel     *Reloader
	handler http.Handler
}

func (s testSetup) start(tb testing.TB) testServer {
	tb.Helper()
	ts := testServer{reg: prometheus.NewRegistry()}
	apiURL := "http://127.0.0.1:1"
	if s.api != nil {
		api := httptest.NewServer(s.api)
		// Closing the connections first ends the requests a hanging API
		// still holds (their contexts end), which Close waits for.
		tb.Cleanup(func() { api.CloseClientConnections(); api.Close() })
		apiURL = api.URL
	}
	load := func() (*config.Config, error) {
		if s.load != nil {
			return s.load(apiURL)
		}
		spec := config.Default()
		spec.APIURL, spec.MessagingAPIURL = apiURL, apiURL
		spec.Accounts = []config.Account{{Name: "main", AccountSID: mainSID, AuthToken: promconfig.Secret("tok")}}
		if s.spec != nil {
			s.spec(&spec)
		}
		return config.New(spec)
	}
	build := func(cfg *config.Config) (Runtime, error) { return exporter.New(cfg, s.exporter) }
	logger := s.logger
	if logger == nil {
		logger = log.NewNopLogger()
	}
	rel, err := NewReloader(load, build, ts.reg, logger)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(rel.Close)
	ts.rel = rel
	o := s.options
	o.Name, o.TelemetryPath, o.Logger = "twilio_trusthub_exporter", "/metrics", log.NewNopLogger()
	if ts.handler, err = New(ts.reg, rel, o); err != nil {
		tb.Fatal(err)
	}
	return ts
}

// handlerOf is the whole handler of s, for the tests that need no more.
func handlerOf(tb testing.TB, s testSetup) http.Handler {
	tb.Helper()
	return s.start(tb).handler
}

// hangingAPI never answers, like a TrustHub that hangs: a request ends
// only when its client gives up or the test ends.
var hangingAPI = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })

// A scrape answers by its deadline even when TrustHub hangs: the API
// never answers here, so the scrape can only end through the header.
func TestScrapeAnswersByDeadline(t *testing.T) {
	h := handlerOf(t, testSetup{api: hangingAPI, options: Options{TimeoutOffset: 100 * time.Millisecond}})
	r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	r.Header.Set(ScrapeTimeoutHeader, "0.3")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	body := w.Body.String()
	if !strings.Contains(body, `twilio_trusthub_up{account="main"} 0`) {
		t.Errorf("want up 0 while the first listing runs:\n%s", body)
	}
	if strings.Contains(body, "twilio_trusthub_customer_profiles{") {
		t.Error("profile counts served before any listing completed")
	}
}

func TestTooManyScrapes(t *testing.T) {
	rel := testSetup{api: hangingAPI}.start(t).rel
	h := &metricsHandler{base: prometheus.NewRegistry(), rel: rel, inFlight: newSemaphore(1), o: Options{Logger: log.NewNopLogger()}}
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan int)
	go func() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil).WithContext(ctx))
		first <- w.Code
	}()
	// The first scrape holds the only slot while the API hangs.
	for len(h.inFlight) == 0 {
		time.Sleep(time.Millisecond)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if w.Code != http.StatusServiceUnavailable {
		t.Errorf("second concurrent scrape: %d, want 503", w.Code)
	}
	cancel()
	if code := <-first; code != http.StatusOK {
		t.Errorf("first scrape: %d, want 200", code)
	}
}

func TestPages(t *testing.T) {
	// Nothing listens where the API should be.
	h := handlerOf(t, testSetup{})
	for path, want := range map[string]string{
		"/":          "twilio_trusthub_exporter",
		"/-/healthy": "Healthy",
		"/-/ready":   "Ready",
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		body, _ := io.ReadAll(w.Body)
		if w.Code != http.StatusOK || !strings.Contains(string(body), want) {
			t.Errorf("%s: %d, body without %q", path, w.Code, want)
		}
	}
}

func TestGzip(t *testing.T) {
	_, h := simHandler(t, simulator.Fault{}, time.Minute)
	for accept, want := range map[string]bool{"gzip": true, "deflate, gzip;q=0.5": true, "gzip;q=0": false, "": false, "br": false} {
		r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		r.Header.Set("Accept-Encoding", accept)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		body := w.Body.Bytes()
		if got := w.Header().Get("Content-Encoding") == "gzip"; got != want {
			t.Errorf("Accept-Encoding %q: gzipped %v, want %v", accept, got, want)
			continue
		}
		if want {
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if body, err = io.ReadAll(zr); err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Contains(body, []byte(`twilio_trusthub_customer_profile_info{account="main"`)) {
			t.Errorf("Accept-Encoding %q: the body lacks the per-profile series", accept)
		}
		if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
			t.Errorf("Content-Type %q", ct)
		}
	}
}
