// Package collector turns the cached snapshots of every configured account
// into Prometheus metrics, one consistent set per scrape.
package collector

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/cache"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/config"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/internal/failure"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/snapshot"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/trusthub"
)

const namespace = "twilio_trusthub"

// listedAccount is one configured account as the exporter lists it: its
// cache entry, the client's count of its API requests, and the count of
// the values its listings skipped.
type listedAccount struct {
	entry     *cache.Entry
	requests  func() map[int]uint64
	anomalies *anomalyCounter
}

// Exporter holds the accounts and the metric descriptions. Each scrape goes
// through Scrape, which binds the scrape's deadline.
type Exporter struct {
	accounts     []listedAccount
	perProfile   bool
	expiringDays []int
	now          func() time.Time
	cancel       context.CancelFunc
	d            descs
}

type descs struct {
	profiles, expiring, expired, errors                *prometheus.Desc
	up, duration, lastSuccess, requests, listingErrors *prometheus.Desc
	anomalies                                          *prometheus.Desc
}

// cached ends the HELP of every metric drawn from a listing.
const cached = " From the account's cached listing, refreshed at most every cache_ttl."

func newDescs() descs {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(namespace+"_"+name, help, append([]string{"account"}, labels...), nil)
	}
	return descs{
		profiles:      d("customer_profiles", "Customer-Profiles in each status."+cached, "status"),
		expiring:      d("customer_profiles_expiring", "Customer-Profiles whose valid_until is after now and at most within_days days ahead."+cached, "within_days"),
		expired:       d("customer_profiles_expired", "Customer-Profiles whose valid_until is at or before now."+cached),
		errors:        d("customer_profile_errors", "Customer-Profiles whose errors list contains the code; a profile counts once per code."+cached, "code"),
		up:            d("up", "1 if the account's last completed listing succeeded, else 0 (also before the first one completes)."),
		duration:      d("listing_duration_seconds", "How long the account's last completed listing took."),
		lastSuccess:   d("last_success_timestamp_seconds", "When the account's last successful listing completed, as Unix time."),
		requests:      d("api_requests_total", "HTTP requests to TrustHub that got an answer, by status code.", "code"),
		listingErrors: d("listing_errors_total", "Failed listings of the account, by reason: "+strings.Join(failure.Reasons, ", ")+".", "reason"),
		anomalies: d("decode_anomalies_total", "Values in the account's listings that were skipped because their field cannot have that shape "+
			"(an error code that is no number, a date that does not parse), by field; the rest of the profile still counts, "+
			"and a profile that stays malformed counts again in every listing.", "resource", "field"),
	}
}

// Options configure an Exporter beyond the config file.
type Options struct {
	UserAgent string
	Logger    log.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Retry spaces out retried requests; trusthub.DefaultRetryPolicy when zero.
	Retry trusthub.RetryPolicy
}

// New builds the clients and caches of every account in cfg. Close stops
// the listings it starts.
func New(cfg *config.Config, o Options) (*Exporter, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = log.NewNopLogger()
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &Exporter{
		perProfile:   cfg.PerProfileMetrics(),
		expiringDays: cfg.ExpiringWithinDays(),
		now:          o.Now,
		cancel:       cancel,
		d:            newDescs(),
	}
	copts := cache.Options{
		TTL:            cfg.CacheTTL(),
		MaxStale:       cfg.MaxStale(),
		Timeout:        cfg.Timeout(),
		FailureBackoff: cfg.FailureBackoff(),
		Limiter:        make(chan struct{}, cfg.MaxConcurrentListings()),
		Reason:         trusthub.Reason,
		Now:            o.Now,
		Logger:         o.Logger,
	}
	for _, a := range cfg.Accounts() {
		client, err := trusthub.New(trusthub.Options{
			BaseURL:   cfg.APIURL(),
			Auth:      a.BasicAuth(),
			PageSize:  cfg.PageSize(),
			UserAgent: o.UserAgent,
			Name:      a.Name(),
			Retry:     o.Retry,
		})
		if err != nil {
			cancel()
			return nil, err
		}
		filter := a.Filter()
		// G101 mistakes these names of credential kinds for credentials.
		credential := "auth token" //nolint:gosec
		if a.UsesAPIKey() {
			credential = "API key and secret" //nolint:gosec
		}
		anomalies := newAnomalyCounter(a.Name(), o.Logger)
		list := func(ctx context.Context) (*snapshot.Snapshot, error) {
			b := snapshot.NewBuilder(cfg.PerProfileMetrics())
			_, err := client.List(ctx, filter, b.Add)
			anomalies.seen(b.Anomalies())
			if err != nil {
				if trusthub.IsAuth(err) {
					return nil, fmt.Errorf("authentication failed for account %s: check the %s: %w", a.Name(), credential, err)
				}
				return nil, err
			}
			return b.Done(), nil
		}
		e.accounts = append(e.accounts, listedAccount{
			entry:     cache.NewEntry(ctx, a.Name(), list, copts),
			requests:  client.Requests,
			anomalies: anomalies,
		})
	}
	return e, nil
}

// Close cancels the listings in flight.
func (e *Exporter) Close() { e.cancel() }

// Describe sends every description the exporter may emit.
func (e *Exporter) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		e.d.profiles, e.d.expiring, e.d.expired, e.d.errors,
		e.d.up, e.d.duration, e.d.lastSuccess, e.d.requests, e.d.listingErrors, e.d.anomalies,
	} {
		ch <- d
	}
}

// Scrape waits, no longer than ctx allows, for the listings the accounts
// need, and returns what one scrape reports: the aggregates as a
// prometheus.Collector, the per-profile series through WriteProfiles.
func (e *Exporter) Scrape(ctx context.Context) *Scrape {
	// Accounts are awaited together, so a scrape waits once for the slowest.
	states := make([]cache.State, len(e.accounts))
	var wg sync.WaitGroup
	for i, a := range e.accounts {
		wg.Go(func() { states[i] = a.entry.Get(ctx) })
	}
	wg.Wait()
	return &Scrape{e: e, states: states, now: e.now()}
}

// Scrape is one scrape's consistent view of every account.
type Scrape struct {
	e      *Exporter
	states []cache.State
	now    time.Time
}

var _ prometheus.Collector = (*Scrape)(nil)

// Describe sends the descriptions of the aggregate metrics.
func (s *Scrape) Describe(ch chan<- *prometheus.Desc) { s.e.Describe(ch) }

// Collect sends the aggregate metrics, built from the scrape's states.
func (s *Scrape) Collect(ch chan<- prometheus.Metric) {
	for i, a := range s.e.accounts {
		s.e.collectAccount(ch, a, s.states[i], s.now)
	}
}

func (e *Exporter) collectAccount(ch chan<- prometheus.Metric, a listedAccount, st cache.State, now time.Time) {
	name := a.entry.Name()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, append([]string{name}, labels...)...)
	}
	gauge(e.d.up, boolFloat(st.Up))
	if st.Completed {
		gauge(e.d.duration, st.Duration.Seconds())
	}
	if !st.LastSuccess.IsZero() {
		gauge(e.d.lastSuccess, float64(st.LastSuccess.UnixNano())/1e9)
	}
	for code, n := range a.requests() {
		ch <- prometheus.MustNewConstMetric(e.d.requests, prometheus.CounterValue, float64(n), name, strconv.Itoa(code))
	}
	// Every reason from the start, so that rate() sees the first failure.
	for _, reason := range failure.Reasons {
		ch <- prometheus.MustNewConstMetric(e.d.listingErrors, prometheus.CounterValue, float64(st.Errors[reason]), name, reason)
	}
	// Every field from the start too, for the same reason.
	anomalies := a.anomalies.counts()
	for _, f := range trusthub.Fields {
		ch <- prometheus.MustNewConstMetric(e.d.anomalies, prometheus.CounterValue, anomalies[f], name, resourceLabel, f.String())
	}
	snap := st.Snapshot
	if snap == nil {
		return
	}
	for status, n := range snap.Statuses {
		gauge(e.d.profiles, float64(n), status)
	}
	for _, days := range e.expiringDays {
		gauge(e.d.expiring, float64(snap.ExpiringWithin(now, time.Duration(days)*24*time.Hour)), strconv.Itoa(days))
	}
	gauge(e.d.expired, float64(snap.Expired(now)))
	for code, n := range snap.ErrorCodes {
		gauge(e.d.errors, float64(n), strconv.FormatInt(code, 10))
	}
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
