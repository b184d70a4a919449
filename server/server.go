// Package server is the exporter's HTTP surface: the landing page, health
// and readiness, and the metrics endpoint, which binds each scrape to
// Prometheus' scrape timeout.
package server

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/collector"
)

// ScrapeTimeoutHeader is where Prometheus says how long it will wait.
const ScrapeTimeoutHeader = "X-Prometheus-Scrape-Timeout-Seconds"

// Options configure the handler.
type Options struct {
	Name          string
	Version       string
	TelemetryPath string
	// MaxRequests bounds concurrent scrapes; more get 503. 0 means no bound.
	MaxRequests int
	// TimeoutOffset is kept back from Prometheus' scrape timeout, so the
	// answer reaches Prometheus before it gives up.
	TimeoutOffset time.Duration
	// MaxWait is how long a scrape waits for a listing when Prometheus sends
	// no timeout, and at most otherwise: the listing's own timeout.
	MaxWait time.Duration
	Logger  log.Logger
}

// New returns the exporter's HTTP handler. base holds the process-wide
// collectors; exp supplies the TrustHub metrics for each scrape.
func New(base *prometheus.Registry, exp *collector.Exporter, o Options) (http.Handler, error) {
	mux := http.NewServeMux()
	mux.Handle(o.TelemetryPath, promhttp.InstrumentMetricHandler(base, &metricsHandler{base: base, exp: exp, o: o, inFlight: newSemaphore(o.MaxRequests)}))
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("Healthy\n"))
	})
	mux.HandleFunc("/-/ready", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("Ready\n"))
	})
	if o.TelemetryPath != "/" {
		landing, err := web.NewLandingPage(web.LandingConfig{
			Name:        o.Name,
			Description: "Prometheus exporter for Twilio TrustHub Customer-Profiles",
			Version:     o.Version,
			Links: []web.LandingLinks{
				{Address: o.TelemetryPath, Text: "Metrics"},
				{Address: "/-/healthy", Text: "Health"},
				{Address: "/-/ready", Text: "Readiness"},
			},
		})
		if err != nil {
			return nil, err
		}
		mux.Handle("/", landing)
	}
	return mux, nil
}

type metricsHandler struct {
	base     *prometheus.Registry
	exp      *collector.Exporter
	o        Options
	inFlight chan struct{}
}

func newSemaphore(n int) chan struct{} {
	if n <= 0 {
		return nil
	}
	return make(chan struct{}, n)
}

func (h *metricsHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.inFlight != nil {
		select {
		case h.inFlight <- struct{}{}:
			defer func() { <-h.inFlight }()
		default:
			http.Error(w, "too many scrapes in flight; the limit is "+strconv.Itoa(cap(h.inFlight)), http.StatusServiceUnavailable)
			return
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.wait(r))
	defer cancel()
	// A registry per scrape binds the scrape's deadline to the collector;
	// the process-wide collectors stay in the shared one.
	reg := prometheus.NewRegistry()
	reg.MustRegister(h.exp.ForScrape(ctx))
	promhttp.HandlerFor(prometheus.Gatherers{h.base, reg}, promhttp.HandlerOpts{
		ErrorLog:      errorLogger{h.o.Logger},
		ErrorHandling: promhttp.ContinueOnError,
	}).ServeHTTP(w, r)
}

// wait is how long this scrape may wait for listings.
func (h *metricsHandler) wait(r *http.Request) time.Duration {
	v := r.Header.Get(ScrapeTimeoutHeader)
	if v == "" {
		return h.o.MaxWait
	}
	secs, err := strconv.ParseFloat(v, 64)
	if err != nil || secs <= 0 {
		level.Warn(h.o.Logger).Log("msg", "ignoring an unreadable scrape timeout header", "header", ScrapeTimeoutHeader, "value", v)
		return h.o.MaxWait
	}
	d := time.Duration(secs * float64(time.Second))
	if d > h.o.TimeoutOffset {
		d -= h.o.TimeoutOffset
	}
	return min(d, h.o.MaxWait)
}

type errorLogger struct{ l log.Logger }

func (e errorLogger) Println(v ...any) {
	level.Error(e.l).Log("msg", "serving metrics", "err", fmt.Sprint(v...))
}
