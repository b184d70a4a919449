package server

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/collector"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/config"
)

// Runtime is the running exporter as the server sees it: what it
// scrapes, and the configuration it applies on a reload.
type Runtime interface {
	// Apply makes cfg the running configuration, keeping what it does
	// not change; on an error the previous one stays whole.
	Apply(cfg *config.Config) error
	// Scrape waits, no longer than ctx allows, for the listings that are
	// due, and returns what one scrape reports.
	Scrape(ctx context.Context) *collector.Scrape
	targets
	// ExpiryWindow is the longest expiring_within_days window.
	ExpiryWindow() time.Duration
	// Close stops the listings.
	Close()
}

// Reloader holds the running exporter and gives it each freshly loaded
// configuration to apply, or keeps the running one when the new one is
// refused. A reload does not start over: what the new configuration
// leaves unchanged keeps its caches, so a SIGHUP with the same file asks
// Twilio nothing.
type Reloader struct {
	load   func() (*config.Config, error)
	logger log.Logger
	rt     Runtime

	mu      sync.Mutex // one reload at a time
	current atomic.Pointer[running]

	lastOK, lastSuccess prometheus.Gauge
}

// running is the exporter and the timeout of the configuration in force.
type running struct {
	exp     Runtime
	timeout time.Duration
}

// NewReloader loads the configuration and starts its runtime; an error
// there is a refused start. The reload metrics are registered with reg.
func NewReloader(load func() (*config.Config, error), start func(*config.Config) (Runtime, error), reg prometheus.Registerer, logger log.Logger) (*Reloader, error) {
	r := &Reloader{
		load: load, logger: logger,
		lastOK: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "twilio_trusthub_exporter_config_last_reload_successful",
			Help: "1 if the last configuration reload succeeded, else 0.",
		}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "twilio_trusthub_exporter_config_last_reload_success_timestamp_seconds",
			Help: "When the configuration was last loaded successfully, as Unix time.",
		}),
	}
	cfg, err := r.loadConfig()
	if err != nil {
		return nil, err
	}
	rt, err := start(cfg)
	if err != nil {
		return nil, err
	}
	r.rt = rt
	r.current.Store(&running{exp: rt, timeout: cfg.Timeout})
	r.lastOK.Set(1)
	r.lastSuccess.SetToCurrentTime()
	for _, c := range []prometheus.Collector{r.lastOK, r.lastSuccess} {
		if err := reg.Register(c); err != nil {
			rt.Close()
			return nil, err
		}
	}
	return r, nil
}

// Reload loads the configuration again and applies it. On failure the
// running configuration stays in force and the error says why.
func (r *Reloader) Reload() error {
	if err := r.apply(); err != nil {
		r.lastOK.Set(0)
		level.Error(r.logger).Log("msg", "configuration reload refused; the previous configuration stays in force", "err", err)
		return err
	}
	level.Info(r.logger).Log("msg", "configuration reloaded")
	return nil
}

func (r *Reloader) apply() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	cfg, err := r.loadConfig()
	if err != nil {
		return err
	}
	if err := r.rt.Apply(cfg); err != nil {
		return err
	}
	r.current.Store(&running{exp: r.rt, timeout: cfg.Timeout})
	r.lastOK.Set(1)
	r.lastSuccess.SetToCurrentTime()
	return nil
}

// loadConfig loads the configuration and logs its warnings: at start and
// at every reload, so that a file edited since still says what to change.
func (r *Reloader) loadConfig() (*config.Config, error) {
	cfg, err := r.load()
	if err != nil {
		return nil, err
	}
	for _, w := range cfg.Warnings {
		level.Warn(r.logger).Log("msg", "configuration warning", "warning", w)
	}
	return cfg, nil
}

func (r *Reloader) running() *running { return r.current.Load() }

// Close stops the running exporter's listings.
func (r *Reloader) Close() { r.rt.Close() }
