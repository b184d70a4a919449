package collector

import (
	"strings"
	"sync"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/snapshot"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/trusthub"
)

// resourceLabel is the resource label value of the decode anomalies of
// Customer-Profiles: the label leaves room for the other kinds of objects
// TrustHub and Messaging list.
const resourceLabel = "customer_profiles"

// anomalyCounter counts, across the listings of one account, the values the
// decoder skipped, by field. A profile that stays malformed counts again in
// every listing that sees it, failed listings included: it is a counter of
// anomalies seen, whose rate says how many listings keep meeting them.
type anomalyCounter struct {
	account string
	logger  log.Logger

	mu sync.Mutex
	// byField holds counter values, so float64 as Prometheus keeps them.
	byField [trusthub.NumFields]float64
}

func newAnomalyCounter(account string, logger log.Logger) *anomalyCounter {
	return &anomalyCounter{account: account, logger: logger}
}

// seen counts one listing's anomalies and logs them, once per listing, with
// the first few sids and fields but never a value: a value could be
// personal data, or a whole body.
func (c *anomalyCounter) seen(a snapshot.Anomalies) {
	if a.Total == 0 {
		return
	}
	c.mu.Lock()
	for f, n := range a.ByField {
		c.byField[f] += float64(n)
	}
	c.mu.Unlock()
	examples := make([]string, len(a.Examples))
	for i, ex := range a.Examples {
		examples[i] = shortSID(ex.SID) + ":" + ex.Field.String()
	}
	level.Warn(c.logger).Log("msg", "skipped malformed values in the listing; the rest of each profile was counted",
		"account", c.account, "resource", resourceLabel, "anomalies", a.Total, "first", strings.Join(examples, " "))
}

// counts returns the counts so far, indexed by trusthub.Field.
func (c *anomalyCounter) counts() [trusthub.NumFields]float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.byField
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
