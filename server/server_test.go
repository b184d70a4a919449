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

// blockedAPI never answers until released, like a TrustHub that hangs.
func blockedAPI(t *testing.T) *httptest.Server {
	t.Helper()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	return srv
}

func testConfig(apiURL string) (*config.Config, error) {
	spec := config.Default()
	spec.APIURL = apiURL
	spec.MessagingAPIURL = apiURL
	spec.Accounts = []config.Account{{Name: "main", AccountSID: "AC0123456789abcdef0123456789abcdef", AuthToken: promconfig.Secret("t")}}
	return config.New(spec)
}

func build(cfg *config.Config) (Runtime, error) {
	return exporter.New(cfg, exporter.Options{})
}

func newReloader(t testing.TB, load func() (*config.Config, error), build func(*config.Config) (Runtime, error)) *Reloader {
	t.Helper()
	rel, err := NewReloader(load, build, prometheus.NewRegistry(), log.NewNopLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rel.Close)
	return rel
}

// handlerFor is the whole handler over the configuration load returns,
// with o's settings and a quiet logger.
func handlerFor(t testing.TB, load func() (*config.Config, error), build func(*config.Config) (Runtime, error), o Options) http.Handler {
	t.Helper()
	o.Name, o.TelemetryPath, o.Logger = "twilio_trusthub_exporter", "/metrics", log.NewNopLogger()
	h, err := New(prometheus.NewRegistry(), newReloader(t, load, build), o)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func newHandler(t *testing.T, apiURL string, maxRequests int) http.Handler {
	t.Helper()
	return handlerFor(t, func() (*config.Config, error) { return testConfig(apiURL) }, build,
		Options{MaxRequests: maxRequests, TimeoutOffset: 100 * time.Millisecond})
}

// A scrape answers by its deadline even when TrustHub hangs: the API
// never answers here, so the scrape can only end through the header.
func TestScrapeAnswersByDeadline(t *testing.T) {
	h := newHandler(t, blockedAPI(t).URL, 0)
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
	url := blockedAPI(t).URL
	rel := newReloader(t, func() (*config.Config, error) { return testConfig(url) }, build)
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
	h := newHandler(t, "http://127.0.0.1:1", 0)
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
