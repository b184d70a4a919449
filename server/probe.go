package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/go-kit/log/level"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/collector"
)

// The multi-target endpoints, as blackbox_exporter and snmp_exporter serve
// them: /accounts lists every account as Prometheus HTTP service discovery
// (http_sd_configs), and /probe?account=NAME answers with that one
// account's series. Prometheus discovers the accounts, relabels each to
// /probe on the exporter replica whose share it is (hashmod), and so N
// replicas each list only their share of the accounts. Both read the same
// caches as /metrics: a probe never starts a listing that a scrape of
// /metrics would not.

// targets is what the multi-target endpoints need of the running exporter.
type targets interface {
	// Accounts returns the names of every account listed now, sorted.
	Accounts() []string
	// ScrapeAccount is a scrape of one account; ok is false when no
	// account has that name.
	ScrapeAccount(ctx context.Context, name string) (s *collector.Scrape, ok bool)
}

// accountParam names the account to probe.
const accountParam = "account"

type probeHandler struct {
	o Options
	// inFlight is shared with /metrics: both wait on the same caches.
	inFlight chan struct{}
	// current returns the running exporter and how long a listing may take.
	current func() (targets, time.Duration)
}

// ServeHTTP answers /probe?account=NAME with that account's series: every
// kind's aggregates and per-object series, and its health. The Go, process
// and build_info series are not here: they describe the process, not the
// account, and belong to /metrics, scraped once per replica.
func (h *probeHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	names := r.URL.Query()[accountParam]
	if len(names) != 1 || names[0] == "" {
		http.Error(w, "the parameter "+strconv.Quote(accountParam)+" must be given once, naming an account listed at /accounts: /probe?account=NAME", http.StatusBadRequest)
		return
	}
	name := names[0]
	if !acquire(w, h.inFlight) {
		return
	}
	defer release(h.inFlight)
	exp, timeout := h.current()
	ctx, cancel := context.WithTimeout(r.Context(), scrapeWait(r, timeout, h.o))
	defer cancel()
	scrape, ok := exp.ScrapeAccount(ctx, name)
	if !ok {
		// Quoted, so that whatever the parameter holds reads as one
		// value and cannot forge lines of the answer.
		http.Error(w, "parameter "+accountParam+"="+strconv.Quote(name)+": no such account; /accounts lists them", http.StatusBadRequest)
		return
	}
	serveScrape(w, r, scrape.Write, h.o.Logger)
}

// targetGroup is one group of Prometheus' HTTP service discovery.
type targetGroup struct {
	Targets []string          `json:"targets"`
	Labels  map[string]string `json:"labels"`
}

// serveAccounts answers with every account as one target group of
// Prometheus' HTTP service discovery. The targets are account names, not
// addresses: relabelling moves each to __param_account and sets
// __address__ to the exporter, as for blackbox_exporter's targets.
func (h *probeHandler) serveAccounts(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "use GET", http.StatusMethodNotAllowed)
		return
	}
	exp, _ := h.current()
	// An empty list, not a group without targets, when there is no account:
	// both mean no targets to Prometheus, and this one reads plainly.
	groups := []targetGroup{}
	if names := exp.Accounts(); len(names) > 0 {
		groups = append(groups, targetGroup{Targets: names, Labels: map[string]string{}})
	}
	b, err := json.Marshal(groups)
	if err != nil { // strings and maps of strings always marshal
		level.Error(h.o.Logger).Log("msg", "encoding /accounts", "err", err)
		http.Error(w, "cannot encode the accounts", http.StatusInternalServerError)
		return
	}
	// The HTTP service discovery requires this Content-Type.
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(append(b, '\n'))
}
