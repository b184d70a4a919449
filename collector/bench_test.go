package collector

import (
	"context"
	"io"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	promconfig "github.com/prometheus/common/config"
	"github.com/prometheus/common/expfmt"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/config"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/simulator"
)

// A cached scrape of 10,000 profiles with per-profile series: gathering the
// snapshot's metrics and encoding them as Prometheus text, the work of
// every scrape between listings.
func BenchmarkCachedScrape10k(b *testing.B) {
	sim := simulator.New()
	sim.AddAccount(sidMain, "tok", simulator.Generate(sidMain, 10000, now, 1))
	srv := httptest.NewServer(sim)
	defer srv.Close()
	cfg := config.Default()
	cfg.APIURL = srv.URL
	cfg.CacheTTL = config.Duration(time.Hour)
	cfg.Accounts = []config.Account{{Name: "main", AccountSID: sidMain, AuthToken: promconfig.Secret("tok")}}
	if err := cfg.Validate(); err != nil {
		b.Fatal(err)
	}
	e, err := New(cfg, Options{Now: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	reg := prometheus.NewRegistry()
	reg.MustRegister(e.ForScrape(context.Background()))
	series := 0
	mfs, err := reg.Gather() // lists once; the cache serves the rest
	if err != nil {
		b.Fatal(err)
	}
	for _, mf := range mfs {
		series += len(mf.Metric)
	}
	b.ReportAllocs()
	for b.Loop() {
		mfs, err := reg.Gather()
		if err != nil {
			b.Fatal(err)
		}
		enc := expfmt.NewEncoder(io.Discard, expfmt.NewFormat(expfmt.TypeTextPlain))
		for _, mf := range mfs {
			if err := enc.Encode(mf); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(series), "series")
}
