package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	promconfig "github.com/prometheus/common/config"
	"github.com/prometheus/exporter-toolkit/web"
	"golang.org/x/crypto/bcrypt"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/config"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/simulator"
)

const (
	probeSIDA = "AC0123456789abcdef0123456789abcdef"
	probeSIDB = "ACfedcba9876543210fedcba9876543210"
)

// probeAccountsHandler serves two accounts, "alpha" and "beta", with a few
// profiles each (few: the OpenMetrics parser takes milliseconds a line),
// through the whole handler.
func probeAccountsHandler(t testing.TB, o Options) http.Handler {
	t.Helper()
	now := time.Now()
	sim := simulator.New()
	sim.AddAccount(probeSIDA, "tok", simulator.Generate(probeSIDA, 4, now, 1))
	sim.AddAccount(probeSIDB, "tok", simulator.Generate(probeSIDB, 3, now, 2))
	return handlerOf(t, testSetup{api: sim, options: o, spec: func(spec *config.Config) {
		spec.CacheTTL = time.Hour
		spec.Accounts = []config.Account{
			{Name: "beta", AccountSID: probeSIDB, AuthToken: promconfig.Secret("tok")},
			{Name: "alpha", AccountSID: probeSIDA, AuthToken: promconfig.Secret("tok")},
		}
	}})
}

func serve(h http.Handler, path string, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// body returns the answer's body, gunzipped when it was gzipped.
func body(t *testing.T, w *httptest.ResponseRecorder) []byte {
	t.Helper()
	b := w.Body.Bytes()
	if w.Header().Get("Content-Encoding") != "gzip" {
		return b
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if b, err = io.ReadAll(zr); err != nil {
		t.Fatal(err)
	}
	return b
}

// onlyAccount keeps the series whose account label is name, and the
// families left with any.
func onlyAccount(mfs []*dto.MetricFamily, name string) []*dto.MetricFamily {
	var out []*dto.MetricFamily
	for _, mf := range mfs {
		var kept []*dto.Metric
		for _, m := range mf.Metric {
			for _, l := range m.Label {
				if l.GetName() == "account" && l.GetValue() == name {
					kept = append(kept, m)
				}
			}
		}
		if len(kept) > 0 {
			mf.Metric = kept
			out = append(out, mf)
		}
	}
	return out
}

// A probe answers with exactly the series /metrics has for the account,
// in every format and with gzip, and nothing of the process or of other
// accounts.
func TestProbe(t *testing.T) {
	h := probeAccountsHandler(t, Options{})
	serve(h, "/metrics") // lists both accounts; every answer below is cached
	for _, tc := range []struct{ name, accept string }{
		{"text", ""},
		{"Prometheus 2", prometheus2Accept},
		{"Prometheus 3", prometheus3Accept},
		{"protobuf", prometheus3ProtoAccept},
	} {
		for _, gz := range []string{"", "gzip"} {
			t.Run(tc.name+" "+gz, func(t *testing.T) {
				metrics := serve(h, "/metrics", "Accept", tc.accept, "Accept-Encoding", gz)
				want := canonical(t, onlyAccount(decode(t, body(t, metrics), metrics.Header()), "alpha"))
				w := serve(h, "/probe?account=alpha", "Accept", tc.accept, "Accept-Encoding", gz)
				if w.Code != http.StatusOK {
					t.Fatalf("status %d: %s", w.Code, w.Body)
				}
				if ct, wantCT := w.Header().Get("Content-Type"), metrics.Header().Get("Content-Type"); ct != wantCT {
					t.Errorf("Content-Type %q, /metrics answers %q", ct, wantCT)
				}
				if got := w.Header().Get("Content-Encoding"); got != gz {
					t.Errorf("Content-Encoding %q, want %q", got, gz)
				}
				mfs := decode(t, body(t, w), w.Header())
				for _, mf := range mfs {
					if n := mf.GetName(); strings.HasPrefix(n, "go_") || strings.HasPrefix(n, "process_") || strings.Contains(n, "build_info") || strings.HasPrefix(n, "promhttp_") {
						t.Errorf("the probe serves the process family %s", n)
					}
				}
				if n := len(onlyAccount(decode(t, body(t, w), w.Header()), "alpha")); n != len(mfs) {
					t.Errorf("%d of %d families carry series of other accounts or none", len(mfs)-n, len(mfs))
				}
				if got := canonical(t, mfs); got != want {
					t.Errorf("the probe's series differ from /metrics' of the account:\n--- probe\n%s\n--- /metrics\n%s", got, want)
				}
				if !strings.Contains(want, `twilio_trusthub_customer_profile_info{account="alpha"`) || !strings.Contains(want, `twilio_trusthub_up{account="alpha"} 1`) {
					t.Errorf("the comparison proves nothing: no profiles or health of alpha in\n%s", want)
				}
			})
		}
	}
}

func TestProbeRefuses(t *testing.T) {
	h := probeAccountsHandler(t, Options{})
	for _, tc := range []struct {
		name, query, want string
	}{
		{"no parameter", "", `the parameter "account" must be given once`},
		{"empty", "?account=", `the parameter "account" must be given once`},
		{"twice", "?account=alpha&account=beta", `the parameter "account" must be given once`},
		{"unknown", "?account=gamma", `parameter account="gamma": no such account`},
		{"the SID, not the name", "?account=" + probeSIDA, `parameter account="` + probeSIDA + `": no such account`},
		{"a forged line", "?account=x%0Atwilio_trusthub_up%7Baccount%3D%22x%22%7D+1%0A%3Cb%3E", `parameter account="x\ntwilio_trusthub_up{account=\"x\"} 1\n<b>": no such account`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := serve(h, "/probe"+tc.query)
			if w.Code != http.StatusBadRequest {
				t.Errorf("status %d, want 400", w.Code)
			}
			if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
				t.Errorf("Content-Type %q", ct)
			}
			if got := w.Body.String(); !strings.Contains(got, tc.want) || strings.Count(got, "\n") != 1 {
				t.Errorf("body %q, want one line with %q", got, tc.want)
			}
		})
	}
}

// A probe answers by its deadline when TrustHub hangs, as a scrape does.
func TestProbeAnswersByDeadline(t *testing.T) {
	h := handlerOf(t, testSetup{api: hangingAPI, options: Options{TimeoutOffset: 100 * time.Millisecond}})
	w := serve(h, "/probe?account=main", ScrapeTimeoutHeader, "0.3")
	if w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	if !strings.Contains(w.Body.String(), `twilio_trusthub_up{account="main"} 0`) {
		t.Errorf("want up 0 while the first listing runs:\n%s", w.Body)
	}
}

// arrivingAPI never answers, and tells when a request arrives: a listing
// has then begun, under a scrape or probe that holds its slot.
func arrivingAPI() (http.Handler, <-chan struct{}) {
	arrived := make(chan struct{}, 100)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		hangingAPI(w, r)
	}), arrived
}

// /metrics and /probe share --web.max-requests: one waiting on a listing
// takes the only slot from both.
func TestProbeSharesMaxRequests(t *testing.T) {
	for _, first := range []string{"/metrics", "/probe?account=main"} {
		t.Run(first, func(t *testing.T) {
			api, arrived := arrivingAPI()
			h := handlerOf(t, testSetup{api: api, options: Options{MaxRequests: 1}})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan int)
			go func() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, first, nil).WithContext(ctx))
				done <- w.Code
			}()
			<-arrived
			for _, path := range []string{"/metrics", "/probe?account=main"} {
				if w := serve(h, path); w.Code != http.StatusServiceUnavailable {
					t.Errorf("%s beside %s: %d, want 503", path, first, w.Code)
				}
			}
			// Unbounded: discovery does not wait on a listing.
			if w := serve(h, "/accounts"); w.Code != http.StatusOK {
				t.Errorf("/accounts beside %s: %d", first, w.Code)
			}
			cancel() // the first ends, with what the cache holds
			if code := <-done; code != http.StatusOK {
				t.Errorf("%s: %d", first, code)
			}
		})
	}
}

type sdGroup struct {
	Targets []string          `json:"targets"`
	Labels  map[string]string `json:"labels"`
}

// /accounts is Prometheus HTTP service discovery: a JSON list of target
// groups whose targets are the account names.
func TestAccounts(t *testing.T) {
	h := probeAccountsHandler(t, Options{})
	w := serve(h, "/accounts")
	if w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	dec := json.NewDecoder(w.Body)
	dec.DisallowUnknownFields()
	var groups []sdGroup
	if err := dec.Decode(&groups); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(groups); got != "[{[alpha beta] map[]}]" {
		t.Errorf("groups %s, want one group of alpha and beta", got)
	}
	r := httptest.NewRequest(http.MethodPost, "/accounts", nil)
	pw := httptest.NewRecorder()
	h.ServeHTTP(pw, r)
	if pw.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d, want 405", pw.Code)
	}
}

// With --web.config.file, /probe and /accounts are behind the same basic
// auth as /metrics: exporter-toolkit wraps the whole handler.
func TestProbeBehindBasicAuth(t *testing.T) {
	dir := t.TempDir()
	hash, err := bcrypt.GenerateFromPassword([]byte("probe-password"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	webCfg := filepath.Join(dir, "web.yml")
	if err := os.WriteFile(webCfg, fmt.Appendf(nil, "basic_auth_users:\n  prometheus: %s\n", hash), 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	srv := &http.Server{Handler: probeAccountsHandler(t, Options{}), ReadHeaderTimeout: 10 * time.Second}
	listen, systemd := []string{addr}, false
	go func() {
		_ = web.ListenAndServe(srv, &web.FlagConfig{WebListenAddresses: &listen, WebSystemdSocket: &systemd, WebConfigFile: &webCfg}, slog.New(slog.DiscardHandler))
	}()
	t.Cleanup(func() { _ = srv.Close() })
	status := func(path, user, pass string) int {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+path, nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return -1
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	deadline := time.Now().Add(10 * time.Second)
	for status("/-/healthy", "", "") == -1 {
		if time.Now().After(deadline) {
			t.Fatal("no listener after 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, path := range []string{"/probe?account=alpha", "/accounts"} {
		for _, tc := range []struct {
			user, pass string
			want       int
		}{
			{"", "", http.StatusUnauthorized},
			{"prometheus", "wrong", http.StatusUnauthorized},
			{"prometheus", "probe-password", http.StatusOK},
		} {
			if got := status(path, tc.user, tc.pass); got != tc.want {
				t.Errorf("%s as %q: %d, want %d", path, tc.user, got, tc.want)
			}
		}
	}
}
