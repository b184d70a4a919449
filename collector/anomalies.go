package collector

import (
	"strings"
	"sync"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/snapshot"
)

// AnomalyCounter counts, across the listings of one kind in one account,
// the values the decoder skipped, by field. An object that stays malformed
// counts again in every listing that sees it, failed listings included: it
// is a counter of anomalies seen, whose rate says how many listings keep
// meeting them.
type AnomalyCounter struct {
	account string
	kind    *kinds.Kind
	logger  log.Logger

	mu sync.Mutex
	// byField holds counter values, so float64 as Prometheus keeps them.
	byField [kinds.NumFields]float64
}

// NewAnomalyCounter counts the anomalies of kind k in an account.
func NewAnomalyCounter(account string, k *kinds.Kind, logger log.Logger) *AnomalyCounter {
	return &AnomalyCounter{account: account, kind: k, logger: logger}
}

// Seen counts one listing's anomalies and logs them, once per listing, with
// the first few sids and fields but never a value: a value could be
// personal data, or a whole body.
func (c *AnomalyCounter) Seen(a snapshot.Anomalies) {
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
		examples[i] = shortSID(ex.SID) + ":" + c.kind.Key(ex.Field)
	}
	level.Warn(c.logger).Log("msg", "skipped malformed values in the listing; the rest of each object was counted",
		"account", c.account, "resource", c.kind.Name, "anomalies", a.Total, "first", strings.Join(examples, " "))
}

// counts returns the counts so far, indexed by kinds.Field.
func (c *AnomalyCounter) counts() [kinds.NumFields]float64 {
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
