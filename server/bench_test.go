package server

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	promconfig "github.com/prometheus/common/config"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/config"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/simulator"
)

// discard is a ResponseWriter that counts and drops the body.
type discard struct {
	h http.Header
	n int
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) WriteHeader(int)             {}
func (d *discard) Write(p []byte) (int, error) { d.n += len(p); return len(p), nil }

// serveLoop times h answering req, and reports the answer's size in unit.
func serveLoop(b *testing.B, h http.Handler, req *http.Request, unit string) {
	var size int
	b.ReportAllocs()
	for b.Loop() {
		w := &discard{h: http.Header{}}
		h.ServeHTTP(w, req)
		size = w.n
	}
	b.ReportMetric(float64(size), unit)
}

// A cached scrape of 10,000 profiles with per-profile series, through the
// whole handler: the work of every scrape between two listings, in each
// format as a scraper asks for it.
func BenchmarkCachedScrape10k(b *testing.B) {
	for _, format := range []struct{ name, accept string }{
		{"text", ""},
		{"openmetrics", prometheus3Accept},
		{"protobuf", prometheus3ProtoAccept},
	} {
		for _, gzip := range []bool{false, true} {
			name := format.name + "/identity"
			if gzip {
				name = format.name + "/gzip"
			}
			b.Run(name, func(b *testing.B) {
				benchmarkCachedScrape10k(b, format.accept, gzip)
			})
		}
		// The floor: the same body, already in memory, through the same
		// pooled gzip writer at the same level. A cached scrape cannot
		// cost less than compressing its bytes.
		b.Run(format.name+"/gzip-floor", func(b *testing.B) {
			benchmarkGzipFloor(b, format.accept)
		})
	}
}

func benchmarkGzipFloor(b *testing.B, accept string) {
	h := cachedScrapeHandler(b)
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	gzipFloor(b, rec.Body.Bytes())
}

// gzipFloor times compressing body as the exporter's writers do:
// klauspost's gzip at its fastest level, one writer reused.
func gzipFloor(b *testing.B, body []byte) {
	var size int
	gz, err := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		w := &discard{h: http.Header{}}
		gz.Reset(w)
		if _, err := gz.Write(body); err != nil {
			b.Fatal(err)
		}
		if err := gz.Close(); err != nil {
			b.Fatal(err)
		}
		size = w.n
	}
	b.ReportMetric(float64(size), "bytes/scrape")
}

// cachedScrapeHandler serves 10,000 Customer-Profiles of one account,
// cached for an hour.
func cachedScrapeHandler(b *testing.B) http.Handler {
	sim := simulator.New()
	sim.AddAccount(mainSID, "tok", simulator.Generate(mainSID, 10000, time.Now(), 1))
	return handlerOf(b, testSetup{api: sim, spec: func(spec *config.Config) { spec.CacheTTL = time.Hour }})
}

func benchmarkCachedScrape10k(b *testing.B, accept string, gzip bool) {
	h := cachedScrapeHandler(b)
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if gzip {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	h.ServeHTTP(&discard{h: http.Header{}}, req) // lists; the rest is cached
	serveLoop(b, h, req, "bytes/scrape")
}

// A cached probe of one account of 1,000, each with 20 Customer-Profiles
// and every other kind empty: the work of each /probe scrape between two
// listings, in the format Prometheus 3 asks for.
//
//	go test -run '^$' -bench BenchmarkCachedProbe -benchtime 2000x ./server/
func BenchmarkCachedProbe(b *testing.B) {
	const accounts = 1000
	sim := simulator.New()
	now := time.Now()
	sids := make([]string, accounts)
	for i := range sids {
		sids[i] = fmt.Sprintf("AC%032x", i)
		sim.AddAccount(sids[i], "tok", simulator.Generate(sids[i], 20, now, uint64(i)))
	}
	h := handlerOf(b, testSetup{api: sim, spec: func(spec *config.Config) {
		spec.CacheTTL = time.Hour
		spec.Accounts = nil
		for i, sid := range sids {
			spec.Accounts = append(spec.Accounts, config.Account{Name: fmt.Sprintf("customer-%04d", i), AccountSID: sid, AuthToken: promconfig.Secret("tok")})
		}
	}})
	h.ServeHTTP(&discard{h: http.Header{}}, httptest.NewRequest(http.MethodGet, "/metrics", nil)) // lists every account
	req := httptest.NewRequest(http.MethodGet, "/probe?account=customer-0500", nil)
	req.Header.Set("Accept", prometheus3Accept)
	serveLoop(b, h, req, "bytes/scrape")
}

// A cached full scrape of 1,000 discovered subaccounts (the simulator's
// ISV estate: every tenth with objects of every kind, the others three
// approved profiles), gzipped as Prometheus asks, against its floor: the
// same body from memory through the same gzip writer.
//
//	go test -run '^$' -bench BenchmarkCachedScrape1000 -benchtime 50x -count 5 ./server/
func BenchmarkCachedScrape1000(b *testing.B) {
	h := estateHandler(b, 1000, 10)
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set("Accept", prometheus3Accept)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	body := rec.Body.Bytes()
	req.Header.Set("Accept-Encoding", "gzip")
	b.Run("gzip", func(b *testing.B) {
		serveLoop(b, h, req, "bytes/scrape")
	})
	b.Run("gzip-floor", func(b *testing.B) { gzipFloor(b, body) })
}
