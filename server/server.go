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
	Logger        log.Logger
}

// New returns the exporter's HTTP handler. base holds the process-wide
// collectors; rel supplies the running exporter for each scrape.
func New(base *prometheus.Registry, rel *Reloader, o Options) (http.Handler, error) {
	mux := http.NewServeMux()
	mux.Handle(o.TelemetryPath, promhttp.InstrumentMetricHandler(base, &metricsHandler{base: base, rel: rel, o: o, inFlight: newSemaphore(o.MaxRequests)}))
	mux.HandleFunc("/-/reload", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "use POST to reload the configuration", http.StatusMethodNotAllowed)
			return
		}
		if err := rel.Reload(); err != nil {
			http.Error(w, "configuration refused, the previous one stays in force: "+err.Error(), http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte("configuration reloaded\n"))
	})
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
	rel      *Reloader
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
	cur := h.rel.running()
	ctx, cancel := context.WithTimeout(r.Context(), h.wait(r, cur.timeout))
	defer cancel()
	// A registry per scrape binds the scrape's deadline to the collector;
	// the process-wide collectors stay in the shared one.
	reg := prometheus.NewRegistry()
	reg.MustRegister(cur.exp.ForScrape(ctx))
	promhttp.HandlerFor(prometheus.Gatherers{h.base, reg}, promhttp.HandlerOpts{
		ErrorLog:      errorLogger{h.o.Logger},
		ErrorHandling: promhttp.ContinueOnError,
	}).ServeHTTP(w, r)
}

// wait is how long this scrape may wait for listings: Prometheus' timeout
// less the offset, never more than a listing may take (maxWait).
func (h *metricsHandler) wait(r *http.Request, maxWait time.Duration) time.Duration {
	v := r.Header.Get(ScrapeTimeoutHeader)
	if v == "" {
		return maxWait
	}
	secs, err := strconv.ParseFloat(v, 64)
	if err != nil || secs <= 0 {
		level.Warn(h.o.Logger).Log("msg", "ignoring an unreadable scrape timeout header", "header", ScrapeTimeoutHeader, "value", v)
		return maxWait
	}
	d := time.Duration(secs * float64(time.Second))
	if d > h.o.TimeoutOffset {
		d -= h.o.TimeoutOffset
	}
	return min(d, maxWait)
}

type errorLogger struct{ l log.Logger }

func (e errorLogger) Println(v ...any) {
	level.Error(e.l).Log("msg", "serving metrics", "err", fmt.Sprint(v...))
}
