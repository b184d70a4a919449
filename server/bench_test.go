package server

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

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

// A cached scrape of 10,000 profiles with per-profile series, through the
// whole handler: the work of every scrape between two listings.
func BenchmarkCachedScrape10k(b *testing.B) {
	for _, gzip := range []bool{false, true} {
		name := "identity"
		if gzip {
			name = "gzip"
		}
		b.Run(name, func(b *testing.B) {
			sim := simulator.New()
			sim.AddAccount(loadSID, "tok", simulator.Generate(loadSID, 10000, time.Now(), 1))
			api := httptest.NewServer(sim)
			defer api.Close()
			load := func() (*config.Config, error) {
				cfg := config.Default()
				cfg.APIURL = api.URL
				cfg.CacheTTL = config.Duration(time.Hour)
				cfg.Accounts = []config.Account{{Name: "main", AccountSID: loadSID, AuthToken: promconfig.Secret("tok")}}
				return cfg, cfg.Validate()
			}
			h := handlerFor(b, load, build, Options{})
			req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
			if gzip {
				req.Header.Set("Accept-Encoding", "gzip")
			}
			h.ServeHTTP(&discard{h: http.Header{}}, req) // lists; the rest is cached
			var size int
			b.ReportAllocs()
			for b.Loop() {
				w := &discard{h: http.Header{}}
				h.ServeHTTP(w, req)
				size = w.n
			}
			b.ReportMetric(float64(size), "bytes/scrape")
		})
	}
}
