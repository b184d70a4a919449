// Package server is the exporter's HTTP surface: the landing page, health
// and readiness, the metrics endpoint, and the multi-target /probe with the
// /accounts service discovery beside it; each scrape or probe is bound to
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

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/exposition"
)

// ScrapeTimeoutHeader is where Prometheus says how long it will wait.
const ScrapeTimeoutHeader = "X-Prometheus-Scrape-Timeout-Seconds"

// Options configure the handler.
type Options struct {
	Name          string
	Version       string
	TelemetryPath string
	// ExporterTelemetryPath serves the process's own metrics alone (Go,
	// process, build, reload, HTTP handler), no account's: what a replica
	// of the multi-target shape is scraped at, once, while its accounts
	// are probed. Empty, it is not served.
	ExporterTelemetryPath string
	// MaxRequests bounds concurrent scrapes and probes together; more get
	// 503. 0 means no bound.
	MaxRequests int
	// TimeoutOffset is kept back from Prometheus' scrape timeout, so the
	// answer reaches Prometheus before it gives up.
	TimeoutOffset time.Duration
	// EnablePprof serves net/http/pprof under /debug/pprof/.
	EnablePprof bool
	Logger      log.Logger
}

// New returns the exporter's HTTP handler. base holds the process-wide
// collectors; rel supplies the running exporter for each scrape.
func New(base *prometheus.Registry, rel *Reloader, o Options) (http.Handler, error) {
	mux := http.NewServeMux()
	// One bound for /metrics and /probe: both wait on the same caches.
	inFlight := newSemaphore(o.MaxRequests)
	metrics := promhttp.InstrumentMetricHandler(base, &metricsHandler{base: base, rel: rel, o: o, inFlight: inFlight})
	mux.Handle(o.TelemetryPath, metrics)
	if p := o.ExporterTelemetryPath; p != "" {
		if p == o.TelemetryPath {
			return nil, fmt.Errorf("--web.exporter-telemetry-path %q is --web.telemetry-path's: the two must differ", p)
		}
		// Lists nothing, so it is not bound by MaxRequests: a replica
		// busy with probes still says how it is.
		mux.Handle(p, promhttp.HandlerFor(base, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}))
	}
	probe := &probeHandler{o: o, inFlight: inFlight, current: func() (targets, time.Duration) {
		cur := rel.running()
		return cur.exp, cur.timeout
	}}
	mux.Handle("/probe", probe)
	mux.Handle("/accounts", http.HandlerFunc(probe.serveAccounts))
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
		status, err := newStatusHandler(rel, o)
		if err != nil {
			return nil, err
		}
		mux.Handle("/", status)
	}
	if o.EnablePprof {
		handlePprof(mux)
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
	if !acquire(w, h.inFlight) {
		return
	}
	defer release(h.inFlight)
	cur := h.rel.running()
	ctx, cancel := context.WithTimeout(r.Context(), h.wait(r, cur.timeout))
	defer cancel()
	scrape := cur.exp.Scrape(ctx)
	// A registry per scrape holds the scrape's aggregates; the process-wide
	// collectors stay in the shared one.
	// The process-wide families go through client_golang: they are few.
	mfs, err := h.base.Gather()
	if err != nil {
		// Serve what was gathered, as promhttp's ContinueOnError does.
		level.Error(h.o.Logger).Log("msg", "gathering metrics", "err", err)
	}
	serveScrape(w, r, func(e *exposition.Encoder) {
		e.Encode(mfs...)
		scrape.Write(e)
	}, h.o.Logger)
}

// acquire takes a slot of inFlight, or answers 503 and returns false when
// every slot is taken. A nil inFlight has no bound.
func acquire(w http.ResponseWriter, inFlight chan struct{}) bool {
	if inFlight == nil {
		return true
	}
	select {
	case inFlight <- struct{}{}:
		return true
	default:
		http.Error(w, "too many scrapes in flight; the limit is "+strconv.Itoa(cap(inFlight)), http.StatusServiceUnavailable)
		return false
	}
}

func release(inFlight chan struct{}) {
	if inFlight != nil {
		<-inFlight
	}
}

// serveScrape answers r with what write writes, in the negotiated format,
// gzipped when the scraper accepts it.
func serveScrape(w http.ResponseWriter, r *http.Request, write func(*exposition.Encoder), logger log.Logger) {
	if err := exposition.Respond(w, r, write); err != nil {
		level.Debug(logger).Log("msg", "writing metrics", "err", err)
	}
}

// wait is how long this scrape may wait for listings: Prometheus' timeout
// less the offset, never more than a listing may take (maxWait).
func (h *metricsHandler) wait(r *http.Request, maxWait time.Duration) time.Duration {
	return scrapeWait(r, maxWait, h.o)
}

// scrapeWait is how long a scrape or probe may wait for listings:
// Prometheus' timeout less o.TimeoutOffset, never more than maxWait.
func scrapeWait(r *http.Request, maxWait time.Duration, o Options) time.Duration {
	v := r.Header.Get(ScrapeTimeoutHeader)
	if v == "" {
		return maxWait
	}
	secs, err := strconv.ParseFloat(v, 64)
	if err != nil || secs <= 0 {
		level.Warn(o.Logger).Log("msg", "ignoring an unreadable scrape timeout header", "header", ScrapeTimeoutHeader, "value", v)
		return maxWait
	}
	d := time.Duration(secs * float64(time.Second))
	if d > o.TimeoutOffset {
		d -= o.TimeoutOffset
	}
	return min(d, maxWait)
}
