// Package exporter is the composition root: from a checked configuration it
// builds, for every account, one API client, and for every kind watched in
// it, a cache entry whose listing decodes pages into a snapshot; then it
// hands them to the collector. It reads like a parts list: every other
// package does one thing and knows nothing of this wiring.
package exporter

import (
	"context"
	"fmt"
	"time"

	"github.com/go-kit/log"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/cache"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/collector"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/config"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/snapshot"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/trusthub"
)

// Options configure the exporter beyond the config file.
type Options struct {
	UserAgent string
	Logger    log.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Retry spaces out retried requests; trusthub.DefaultRetryPolicy when zero.
	Retry trusthub.RetryPolicy
}

// New builds the clients and caches of every account and kind in cfg, and
// the collector over them. Its Close stops the listings they start.
func New(cfg *config.Config, o Options) (*collector.Exporter, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = log.NewNopLogger()
	}
	ctx, cancel := context.WithCancel(context.Background())
	copts := cache.Options{
		TTL:            cfg.CacheTTL(),
		MaxStale:       cfg.MaxStale(),
		Timeout:        cfg.Timeout(),
		FailureBackoff: cfg.FailureBackoff(),
		// One bound across every account and kind.
		Limiter: make(chan struct{}, cfg.MaxConcurrentListings()),
		Reason:  trusthub.Reason,
		Now:     o.Now,
	}
	var listings []collector.Listing
	for _, a := range cfg.Accounts() {
		client, err := trusthub.New(trusthub.Options{
			BaseURL:      cfg.APIURL(),
			MessagingURL: cfg.MessagingAPIURL(),
			Auth:         a.BasicAuth(),
			PageSize:     cfg.PageSize(),
			UserAgent:    o.UserAgent,
			Name:         a.Name(),
			Retry:        o.Retry,
		})
		if err != nil {
			cancel()
			return nil, err
		}
		for _, k := range a.Resources() {
			anomalies := collector.NewAnomalyCounter(a.Name(), k, o.Logger)
			opts := copts
			// The cache logs the account; the resource comes with the logger.
			opts.Logger = log.With(o.Logger, "resource", k.Name)
			listings = append(listings, collector.Listing{
				Account:   a.Name(),
				Kind:      k,
				Entry:     cache.NewEntry(ctx, a.Name(), lister(client, a, k, cfg.PerProfileMetrics(), anomalies), opts),
				Requests:  func() map[int]uint64 { return client.Requests(k) },
				Anomalies: anomalies,
			})
		}
	}
	return collector.New(listings, collector.Options{
		PerObject:    cfg.PerProfileMetrics(),
		ExpiringDays: cfg.ExpiringWithinDays(),
		Now:          o.Now,
		Close:        cancel,
	}), nil
}

// lister lists kind k in account a and reduces the listing to a snapshot,
// counting what the decoder skipped whether or not the listing completes.
func lister(client *trusthub.Client, a config.Account, k *kinds.Kind, keepRecords bool, anomalies *collector.AnomalyCounter) cache.ListFunc {
	filter := a.Filter()
	return func(ctx context.Context) (*snapshot.Snapshot, error) {
		b := snapshot.NewBuilder(k, keepRecords)
		_, err := client.List(ctx, k, filter, b.Add)
		anomalies.Seen(b.Anomalies())
		if err != nil {
			if trusthub.IsAuth(err) {
				return nil, fmt.Errorf("authentication failed for account %s: check the %s, and that it may read %s: %w", a.Name(), credential(a), k.Title, err)
			}
			return nil, err
		}
		return b.Done(), nil
	}
}

// credential names the kind of credential the account uses, for a message.
func credential(a config.Account) string {
	if a.UsesAPIKey() {
		return "API key and secret"
	}
	return "auth token"
}
