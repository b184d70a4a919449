package collector

import (
	"slices"
	"strings"
	"sync"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/internal/failure"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/snapshot"
)

// Totals are the process's own counters of what went wrong, by cause:
// failed listings by reason, skipped values by field, each for every
// resource. A breakdown per account would be mostly zeros that Prometheus
// stores for every account (at 1,000 subaccounts, 90,000 series of 0); per
// replica it is 91 series, each present from the start so that increase()
// sees the first one. Each account keeps its own count of failed listings
// (twilio_trusthub_listing_errors_total), and the logs name the account of
// every failure and skipped value. They count across reloads and account
// changes, as the process does: a counter never goes down.
type Totals struct {
	listingErrors, anomalies *prometheus.Desc

	mu sync.Mutex
	// failed and skipped are indexed like kinds.All, then by the index of
	// the reason in failure.Reasons or by kinds.Field. float64, as
	// Prometheus keeps counter values.
	failed  [][]float64
	skipped [][kinds.NumFields]float64
}

var _ prometheus.Collector = (*Totals)(nil)

// NewTotals returns the counters, all at 0.
func NewTotals() *Totals {
	return &Totals{
		listingErrors: prometheus.NewDesc(namespace+"_exporter_listing_errors_total",
			"Failed listings by this exporter process, by resource and reason: "+strings.Join(failure.Reasons, ", ")+
				"; twilio_trusthub_listing_errors_total counts them per account.", []string{"resource", "reason"}, nil),
		anomalies: prometheus.NewDesc(namespace+"_exporter_decode_anomalies_total",
			"Values in the listings of this exporter process that were skipped because their field cannot have that shape "+
				"(an error code that is no number, a date that does not parse), by resource and field; the rest of the object still counts, "+
				"and an object that stays malformed counts again in every listing. The log line of each listing names the account.",
			[]string{"resource", "field"}, nil),
		failed:  make([][]float64, len(kinds.All)),
		skipped: make([][kinds.NumFields]float64, len(kinds.All)),
	}
}

// ListingFailed counts one failed listing of kind k.
func (t *Totals) ListingFailed(k *kinds.Kind, reason string) {
	i, r := slices.Index(kinds.All, k), slices.Index(failure.Reasons, reason)
	if i < 0 {
		return
	}
	if r < 0 {
		r = slices.Index(failure.Reasons, failure.Other)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.failed[i] == nil {
		t.failed[i] = make([]float64, len(failure.Reasons))
	}
	t.failed[i][r]++
}

// Describe sends the two descriptions.
func (t *Totals) Describe(ch chan<- *prometheus.Desc) {
	ch <- t.listingErrors
	ch <- t.anomalies
}

// Collect sends every resource's counts, zeros included.
func (t *Totals) Collect(ch chan<- prometheus.Metric) {
	t.mu.Lock()
	failed := make([][]float64, len(t.failed))
	for i, f := range t.failed {
		failed[i] = slices.Clone(f)
	}
	skipped := slices.Clone(t.skipped)
	t.mu.Unlock()
	for i, k := range kinds.All {
		for r, reason := range failure.Reasons {
			v := 0.0
			if failed[i] != nil {
				v = failed[i][r]
			}
			ch <- prometheus.MustNewConstMetric(t.listingErrors, prometheus.CounterValue, v, k.Name, reason)
		}
		for _, f := range k.Fields() {
			ch <- prometheus.MustNewConstMetric(t.anomalies, prometheus.CounterValue, skipped[i][f], k.Name, k.Key(f))
		}
	}
}

// AnomalyCounter counts, for the listings of one kind in one account, the
// values the decoder skipped into the process's Totals, and logs them. An
// object that stays malformed counts again in every listing that sees it,
// failed listings included: it is a counter of anomalies seen, whose rate
// says how many listings keep meeting them.
type AnomalyCounter struct {
	account string
	kind    *kinds.Kind
	index   int
	totals  *Totals
	logger  log.Logger
}

// Anomalies returns the counter of the anomalies of kind k in an account.
func (t *Totals) Anomalies(account string, k *kinds.Kind, logger log.Logger) *AnomalyCounter {
	if logger == nil {
		logger = log.NewNopLogger()
	}
	return &AnomalyCounter{account: account, kind: k, index: slices.Index(kinds.All, k), totals: t, logger: logger}
}

// Seen counts one listing's anomalies and logs them, once per listing, with
// the account and the first few sids and fields but never a value: a
// value could be personal data, or a whole body.
func (c *AnomalyCounter) Seen(a snapshot.Anomalies) {
	if a.Total == 0 {
		return
	}
	if c.index >= 0 {
		c.totals.mu.Lock()
		for f, n := range a.ByField {
			c.totals.skipped[c.index][f] += float64(n)
		}
		c.totals.mu.Unlock()
	}
	examples := make([]string, len(a.Examples))
	for i, ex := range a.Examples {
		examples[i] = shortSID(ex.SID) + ":" + c.kind.Key(ex.Field)
	}
	level.Warn(c.logger).Log("msg", "skipped malformed values in the listing; the rest of each object was counted",
		"account", c.account, "resource", c.kind.Name, "anomalies", a.Total, "first", strings.Join(examples, " "))
}

// shortSID makes a sid fit a log line: "-" for none, and at most a real
// sid's 34 characters of one that came out oversized.
func shortSID(sid string) string {
	const sidLen = 34
	if sid == "" {
		return "-"
	}
	if r := []rune(sid); len(r) > sidLen {
		return string(r[:sidLen]) + "…"
	}
	return sid
}
