package server

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/go-kit/log/level"
)

// The status page at / is what a person opens first: what needs action
// across every account, problems first, on one screen however many
// accounts there are; and each account's own page (/?account=NAME) with
// its listings' health. It is rendered on the server with html/template,
// which escapes every value (a friendly name is whatever the account's
// users typed), and needs no JavaScript: filters are query parameters of
// plain links and a GET form. The Content-Security-Policy forbids
// scripts as a second line of defence.
//
// The model (statusmodel.go) is plain data built from one scrape; this
// file serves it.

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
const StatusRows = 100

// AccountRows is how many accounts with something to act on one page of
// the front page lists: with the totals and StatusRows rows, the page
// stays a few screens tall whatever the number of accounts.
const AccountRows = 50

// statusCSP allows inline style and nothing else to run or load; forms
// may only be sent back here (the filters are a GET form).
const statusCSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// stamp is how the page writes a time: to the second, in UTC, as the
// API's own dates are.
const stamp = "2006-01-02 15:04:05 UTC"

// maxErrorText bounds the last error shown per listing, so that one long
// answer from the API cannot bloat the page.
const maxErrorText = 1000

type statusHandler struct {
	rel  *Reloader
	o    Options
	tmpl *template.Template
	wait time.Duration
	// rows and accountRows bound the needs-action table and a page of
	// the accounts table (StatusRows, AccountRows).
	rows, accountRows int
}

func newStatusHandler(rel *Reloader, o Options) (*statusHandler, error) {
	tmpl, err := template.New("status").Funcs(template.FuncMap{"n": thousands}).Parse(statusTemplate)
	if err != nil {
		return nil, err
	}
	return &statusHandler{rel: rel, o: o, tmpl: tmpl, wait: statusWait, rows: StatusRows, accountRows: AccountRows}, nil
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

	p := h.page(scrape, cur.exp.ExpiryWindow(), parseQuery(r.URL.Query()))
	// Rendered into a buffer first, so that a failure is a clean 500.
	var buf bytes.Buffer
	if err := h.tmpl.Execute(&buf, p); err != nil {
		level.Error(h.o.Logger).Log("msg", "rendering the status page", "err", err)
		http.Error(w, "cannot render the status page", http.StatusInternalServerError)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Content-Length", strconv.Itoa(buf.Len()))
	hd.Set("Content-Security-Policy", statusCSP)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Cache-Control", "no-store")
	w.WriteHeader(p.Code)
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(buf.Bytes())
}

// query is what the page was asked for: an account's page or the front
// page, filters of the needs-action list, and a page of the accounts.
type query struct {
	// Account names the account whose page this is; "" for the front
	// page. It is the account label, or a friendly name that only one
	// account has.
	Account string
	// Kind (a kind's name) and Status filter the needs-action list.
	Kind, Status string
	// Page is the page of the accounts table, from 1.
	Page int
}

func parseQuery(v url.Values) query {
	q := query{Account: v.Get("account"), Kind: v.Get("kind"), Status: v.Get("status"), Page: 1}
	if n, err := strconv.Atoi(v.Get("page")); err == nil && n > 1 {
		q.Page = n
	}
	return q
}

// link is the page's address for q: only the parameters set, so that a
// link reads as what it filters.
func (q query) link() string {
	v := url.Values{}
	for _, kv := range [][2]string{{"account", q.Account}, {"kind", q.Kind}, {"status", q.Status}} {
		if kv[1] != "" {
			v.Set(kv[0], kv[1])
		}
	}
	if q.Page > 1 {
		v.Set("page", strconv.Itoa(q.Page))
	}
	if len(v) == 0 {
		return "/"
	}
	return "/?" + v.Encode()
}

// accountLink is the address of an account's page.
func accountLink(name string) string { return query{Account: name}.link() }

// errorDocs is Twilio's page of an error code.
func errorDocs(code int64) string {
	return "https://www.twilio.com/docs/errors/" + strconv.FormatInt(code, 10)
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

// thousands writes n with a comma between thousands, as counts of
// accounts and objects read best.
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	var b []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			b = append(b, ',')
		}
		b = append(b, s[i])
	}
	if neg {
		return "-" + string(b)
	}
	return string(b)
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
