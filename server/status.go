package server

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/go-kit/log/level"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/collector"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/snapshot"
)

// The status page at / is what a person opens first: each listing's
// health, and the objects (of every kind) that need action. It is rendered on the server
// with html/template, which escapes every value (a friendly name is
// whatever the account's users typed), and needs no JavaScript; the
// Content-Security-Policy forbids scripts as a second line of defence.

//go:embed status.html.tmpl
var statusTemplate string

// statusWait bounds how long a page view waits for a listing. A view reads
// the caches as a scrape does and so shares its listings: it starts one
// only when a scrape would (the data is older than cache_ttl, or a failed
// listing's backoff has passed) and never runs a second one beside it. A
// slow API therefore holds a view up for this long at most, after which
// the page shows what the cache holds.
const statusWait = 2 * time.Second

// StatusRows is how many rows the table of what needs action shows at most.
const StatusRows = snapshot.AttentionLimit

// stamp is how the page writes a time: to the second, in UTC, as the
// API's own dates are.
const stamp = "2006-01-02 15:04:05 UTC"

// maxErrorText bounds the last error shown per listing, so that one long
// answer from the API cannot bloat the page.
const maxErrorText = 1000

type statusHandler struct {
	rel   *Reloader
	o     Options
	tmpl  *template.Template
	wait  time.Duration
	limit int
}

func newStatusHandler(rel *Reloader, o Options) (*statusHandler, error) {
	tmpl, err := template.New("status").Parse(statusTemplate)
	if err != nil {
		return nil, err
	}
	return &statusHandler{rel: rel, o: o, tmpl: tmpl, wait: statusWait, limit: StatusRows}, nil
}

func (h *statusHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "use GET", http.StatusMethodNotAllowed)
		return
	}
	cur := h.rel.running()
	ctx, cancel := context.WithTimeout(r.Context(), min(h.wait, cur.timeout))
	defer cancel()
	scrape := cur.exp.Scrape(ctx)

	// Rendered into a buffer first, so that a failure is a clean 500.
	var buf bytes.Buffer
	if err := h.tmpl.Execute(&buf, h.page(scrape, cur.exp.ExpiryWindow())); err != nil {
		level.Error(h.o.Logger).Log("msg", "rendering the status page", "err", err)
		http.Error(w, "cannot render the status page", http.StatusInternalServerError)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Content-Length", strconv.Itoa(buf.Len()))
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Cache-Control", "no-store")
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(buf.Bytes())
}

// statusPage is what the template renders; every field is plain data.
type statusPage struct {
	Name, Version string
	Now           string
	Links         []pageLink
	WindowDays    int
	Statuses      []string
	// DataColumns is how many columns of the listings table hold counts,
	// Columns how many follow the account's name.
	DataColumns, Columns int
	Accounts             []accountView
	Rows                 []actionRow
	// Needing is how many objects need action in all, of which Rejected,
	// Expired and Expiring; More is how many the table leaves out.
	Needing, Rejected, Expired, Expiring, More int
	// Unlisted names the listings (account and resource) whose objects the
	// table cannot show.
	Unlisted []string
}

type pageLink struct{ Address, Text string }

type accountView struct {
	Account, Resource string
	// State is "up", "down" or "pending" (no listing completed yet).
	State                    string
	LastSuccess, SuccessAge  string
	Duration                 string
	LastError, ErrorAge      string
	ErrorOld                 bool // the error came before the last success
	HasData                  bool // counts are shown
	Counts                   []string
	Total, Expired, Expiring int
	Stale                    bool // down, but still serving the last good counts
}

type actionRow struct {
	Account, Resource, FriendlyName, SID, Status string
	Codes                                        []int64
	ValidUntil, Expiry                           string
	Expired                                      bool
	Updated                                      string
}

func (h *statusHandler) page(s *collector.Scrape, window time.Duration) statusPage {
	now := s.Now()
	p := statusPage{
		Name:       h.o.Name,
		Version:    h.o.Version,
		Now:        now.UTC().Format(stamp),
		WindowDays: int(window / (24 * time.Hour)),
		Links: []pageLink{
			{h.o.TelemetryPath, "Metrics"},
			{"/-/healthy", "Health"},
			{"/-/ready", "Readiness"},
		},
	}
	if h.o.EnablePprof {
		p.Links = append(p.Links, pageLink{"/debug/pprof/", "Profiling"})
	}
	listings := s.Status()
	for _, a := range listings {
		if a.State.Snapshot == nil {
			continue
		}
		for _, c := range a.State.Snapshot.StatusCounts() {
			if !slices.Contains(p.Statuses, c.Status) {
				p.Statuses = append(p.Statuses, c.Status)
			}
		}
	}

	p.DataColumns = len(p.Statuses) + 3
	p.Columns = p.DataColumns + 4

	type listingRow struct {
		account, resource string
		snapshot.Record
	}
	var rows []listingRow
	for _, a := range listings {
		v := listingOf(a, p.Statuses, now, window)
		p.Accounts = append(p.Accounts, v)
		snap := a.State.Snapshot
		if snap == nil {
			p.Unlisted = append(p.Unlisted, a.Account+" ("+a.Kind.Title+")")
			continue
		}
		need := snap.NeedingAction(now, window, h.limit)
		for _, r := range need.Rows {
			rows = append(rows, listingRow{a.Account, a.Kind.Title, r})
		}
		p.Rejected += need.Rejected
		p.Expired += need.Expired
		p.Expiring += need.Expiring
	}
	// Each listing's rows are its most urgent, so the first of them all
	// are the first overall.
	slices.SortStableFunc(rows, func(a, b listingRow) int { return snapshot.CompareUrgency(&a.Record, &b.Record) })
	for _, r := range rows[:min(len(rows), h.limit)] {
		p.Rows = append(p.Rows, actionView(r.account, r.resource, &r.Record, now))
	}
	p.Needing = p.Rejected + p.Expired + p.Expiring
	p.More = p.Needing - len(p.Rows)
	return p
}

// listingOf is one listing's line in the listings table.
func listingOf(a collector.ListingStatus, statuses []string, now time.Time, window time.Duration) accountView {
	st := a.State
	v := accountView{Account: a.Account, Resource: a.Kind.Title, State: "pending"}
	switch {
	case st.Up:
		v.State = "up"
	case st.Completed:
		v.State = "down"
	}
	if !st.LastSuccess.IsZero() {
		v.LastSuccess = st.LastSuccess.UTC().Format(stamp)
		v.SuccessAge = age(now.Sub(st.LastSuccess))
	}
	if st.Completed {
		v.Duration = st.Duration.Round(time.Millisecond).String()
		if st.Duration < time.Millisecond {
			v.Duration = "<1ms"
		}
	}
	if st.LastError != "" {
		v.LastError = truncate(st.LastError, maxErrorText)
		v.ErrorAge = age(now.Sub(st.LastErrorTime))
		v.ErrorOld = st.LastErrorTime.Before(st.LastSuccess)
	}
	if snap := st.Snapshot; snap != nil {
		v.HasData, v.Total, v.Stale = true, snap.Total, !st.Up
		for _, status := range statuses {
			v.Counts = append(v.Counts, strconv.Itoa(snap.Statuses[status]))
		}
		v.Expired = snap.Expired(now)
		v.Expiring = snap.ExpiringWithin(now, window)
	}
	return v
}

func actionView(account, resource string, r *snapshot.Record, now time.Time) actionRow {
	v := actionRow{Account: account, Resource: resource, FriendlyName: r.Name(), SID: r.SID, Status: r.Status, Codes: r.ErrorCodes}
	if validUntil, ok := r.Value(kinds.FieldValidUntil); ok {
		until := fromUnix(validUntil)
		v.ValidUntil = until.UTC().Format(stamp)
		if left := until.Sub(now); left > 0 {
			v.Expiry = "in " + age(left)
		} else {
			v.Expiry, v.Expired = age(-left)+" ago", true
		}
	}
	if updated, ok := r.Value(kinds.FieldDateUpdated); ok {
		v.Updated = age(now.Sub(fromUnix(updated))) + " ago"
	}
	return v
}

func fromUnix(secs float64) time.Time {
	whole, frac := math.Modf(secs)
	return time.Unix(int64(whole), int64(frac*1e9))
}

// age says a duration as a person would read it at a glance: its two
// largest units.
func age(d time.Duration) string {
	d = max(d, 0).Round(time.Second)
	days, hours := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour)
	mins, secs := int(d%time.Hour/time.Minute), int(d%time.Minute/time.Second)
	switch {
	case days > 0:
		return fmt.Sprintf("%dd %dh", days, hours)
	case hours > 0:
		return fmt.Sprintf("%dh %dm", hours, mins)
	case mins > 0:
		return fmt.Sprintf("%dm %ds", mins, secs)
	}
	return fmt.Sprintf("%ds", secs)
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
