package server

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/collector"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/config"
)

// Reloader holds the running exporter and replaces it with one built from a
// freshly loaded configuration, or keeps it when the new one is refused.
type Reloader struct {
	load   func() (*config.Config, error)
	build  func(*config.Config) (*collector.Exporter, error)
	logger log.Logger

	mu      sync.Mutex // one reload at a time
	current atomic.Pointer[running]

	lastOK, lastSuccess prometheus.Gauge
}

type running struct {
	exp     *collector.Exporter
	timeout time.Duration
}

// NewReloader loads and builds the first exporter; an error there is a
// refused start. The reload metrics are registered with reg.
func NewReloader(load func() (*config.Config, error), build func(*config.Config) (*collector.Exporter, error), reg prometheus.Registerer, logger log.Logger) (*Reloader, error) {
	r := &Reloader{
		load: load, build: build, logger: logger,
		lastOK: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "twilio_trusthub_exporter_config_last_reload_successful",
			Help: "1 if the last configuration reload succeeded, else 0.",
		}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "twilio_trusthub_exporter_config_last_reload_success_timestamp_seconds",
			Help: "When the configuration was last loaded successfully, as Unix time.",
		}),
	}
	if err := r.swap(); err != nil {
		return nil, err
	}
	if err := reg.Register(r.lastOK); err != nil {
		return nil, err
	}
	if err := reg.Register(r.lastSuccess); err != nil {
		return nil, err
	}
	return r, nil
}

// Reload loads the configuration again. On success the new exporter serves
// from the next scrape on and the old one is closed; on failure the old one
// keeps running and the error says why.
func (r *Reloader) Reload() error {
	if err := r.swap(); err != nil {
		r.lastOK.Set(0)
		level.Error(r.logger).Log("msg", "configuration reload refused; the previous configuration stays in force", "err", err)
		return err
	}
	level.Info(r.logger).Log("msg", "configuration reloaded")
	return nil
}

func (r *Reloader) swap() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	cfg, err := r.load()
	if err != nil {
		return err
	}
	// At start and at every reload, so that a file edited since still
	// says what to change.
	for _, w := range cfg.Warnings {
		level.Warn(r.logger).Log("msg", "configuration warning", "warning", w)
	}
	exp, err := r.build(cfg)
	if err != nil {
		return err
	}
	old := r.current.Swap(&running{exp: exp, timeout: cfg.Timeout})
	if old != nil {
		old.exp.Close()
	}
	r.lastOK.Set(1)
	r.lastSuccess.SetToCurrentTime()
	return nil
}

func (r *Reloader) running() *running { return r.current.Load() }

// Close stops the running exporter's listings.
func (r *Reloader) Close() {
	if cur := r.current.Load(); cur != nil {
		cur.exp.Close()
	}
}
