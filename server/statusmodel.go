package server

import (
	"cmp"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/collector"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/snapshot"
)

// statusPage is what the template renders; every field is plain data.
type statusPage struct {
	// Code is the HTTP status: 404 for an account that does not exist,
	// 400 for a kind that does not.
	Code          int
	Name, Version string
	Now           string
	Links         []pageLink
	WindowDays    int
	// Notice says what in the query was not understood.
	Notice string
	// Filtered: the needs-action list is narrowed by kind or status, and
	// is all the front page shows.
	Filtered bool
	Form     filterForm
	// Account is set on an account's page, which shows it instead of
	// the front page's totals and accounts.
	Account *accountDetail

	Summary summary
	Kinds   []kindTotals
	// Columns are the titles of the kinds watched, in the order of the
	// accounts table's cells.
	Columns []string
	// Accounts are this page of the accounts with something to act on,
	// Listed how many there are in all, From and To the rows shown (from
	// 1), Prev and Next the neighbouring pages' links.
	Accounts         []accountRow
	Listed, From, To int
	Prev, Next       string
	Action           actionList
	// Kept is how many records of each kind in each account the
	// needs-action list is drawn from, rejected and expiring each.
	Kept int
}

type pageLink struct{ Address, Text string }

// summary counts the accounts by health.
type summary struct {
	Accounts, Down, Pending, Action, Review, Healthy int
}

// kindTotals is one kind's counts across every account.
type kindTotals struct {
	Title string
	// Listings is how many accounts watch the kind, Up how many of
	// those listings are up.
	Listings, Up int
	Total        int
	Statuses     []statusTotal
	Expires      bool
	// Expired and Expiring count the objects (not rejected) whose
	// valid_until has passed or comes within the window, in
	// ExpiredAccounts and ExpiringAccounts accounts; Link lists them.
	Expired, Expiring, ExpiredAccounts, ExpiringAccounts int
	ExpiryLink                                           string
}

type statusTotal struct {
	Status            string
	Objects, Accounts int
	// Bad is a rejected status, Good the approved one.
	Bad, Good bool
	// Link is the needs-action list of the kind in that status; "" for a
	// status whose objects the list does not hold (drafts, reviews).
	Link string
}

// accountRow is one account in the front page's table.
type accountRow struct {
	Name, Label, Link  string
	Parent, ParentLink string
	Health, HealthText string
	Detail             string
	Cells              []problemCell
}

// problemCell is one kind's problems in one account, compact.
type problemCell struct {
	Link string
	// State is "" for a listing that is up, "down" or "pending", or
	// "unwatched" when the account does not watch the kind.
	State string
	// NoData: no counts to show (pending, or down beyond max_stale);
	// Empty: the account has no object of the kind.
	NoData, Empty bool
	Parts         []string
}

// accountDetail is the head of an account's page.
type accountDetail struct {
	Name, Label, Status string
	Parent, ParentLink  string
	Health, HealthText  string
	Detail              string
	Listings            []listingView
	Unlisted            []string
}

// listingView is one listing on an account's page.
type listingView struct {
	Kind string
	// State is "up", "down" or "pending" (no listing completed yet).
	State                    string
	LastSuccess, SuccessAge  string
	Duration                 string
	LastError, ErrorAge      string
	ErrorAt                  string
	ErrorOld                 bool // the error came before the last success
	HasData                  bool // counts are shown
	Statuses                 []snapshot.StatusCount
	Total, Expired, Expiring int
	Expires                  bool
	Stale                    bool // down, but still serving the last good counts
}

// filterForm is the needs-action list's GET form.
type filterForm struct {
	Account, Kind, Status string
	Kinds, Statuses       []option
	// Active: a filter narrows the list; Clear is the list without it.
	Active bool
	Clear  string
}

type option struct {
	Value, Text string
	Selected    bool
}

// actionList is the needs-action table and what it counts.
type actionList struct {
	Rows []actionRow
	// Total objects need action in the scope of the account and kind
	// filters: Rejected, Expired and Expiring. With a status filter
	// (ByStatus), Total counts that status, and is a lower bound unless
	// Exact.
	Total, Rejected, Expired, Expiring int
	ByStatus, Exact                    bool
	// InUse is how many of the records the list is drawn from (see
	// snapshot.Kept) something uses; More how many objects the table
	// leaves out.
	InUse, More int
}

// actionRow is one object needing action.
type actionRow struct {
	Account, AccountLabel, AccountLink string
	Kind                               string
	Name, SID, Console                 string
	Status                             string
	Rejected                           bool
	Codes                              []codeLink
	ValidUntil, Expiry                 string
	Expired                            bool
	Updated, UpdatedAt                 string
	// InUse: something is known to use the object, as Impact says.
	InUse  bool
	Impact impactView
}

type codeLink struct {
	Code int64
	Link string
}

// impactView is what uses an object, as its row says it: what is
// assigned to it or registered by it, the objects built on it (Built
// counts them, Groups lists their sids by kind, with the Console page
// that lists them), and what is assigned to or registered by those.
type impactView struct {
	Own    []string
	Built  string
	Groups []impactGroup
	Via    []string
}

type impactGroup struct {
	Title, Console string
	SIDs           []string
	More           int
}

// impactSIDs is how many sids of one kind of dependents a row shows.
const impactSIDs = 5

// health orders accounts by how urgently they need a person; the
// largest first.
type health uint8

const (
	healthOK      health = iota // every listing up, every object approved, none expiring
	healthReview                // objects not approved: drafts, reviews
	healthAction                // rejected, expired or expiring objects
	healthPending               // a listing has not completed yet
	healthDown                  // a listing failed
)

var healthClasses = [...]string{"ok", "review", "act", "pending", "down"}
var healthWords = [...]string{"healthy", "not approved", "problems", "pending", "down"}

// account is one account's listings as the model reads them.
type account struct {
	name     string
	info     collector.AccountInfo
	listings []collector.ListingStatus
	// referencing are the snapshots of kinds with References, each with
	// a kind it names: where the objects built on one of that kind are
	// found.
	referencing []referencing
	// needs are the counts of each listing's snapshot, in the order of
	// listings (zero without one).
	needs  []snapshot.Needing
	cells  []cellCounts
	health health
	// needing counts the rejected, expired and expiring objects, other
	// those neither approved nor rejected, inUse the kept rows that
	// something uses; down and pending the listings so.
	needing, other, inUse, down, pending int
}

// referencing is a snapshot whose kind names objects of kind to.
type referencing struct {
	to   *kinds.Kind
	snap *snapshot.Snapshot
}

// cellCounts are one kind's counts in one account.
type cellCounts struct {
	watched, hasData                          bool
	state                                     string
	total, rejected, expired, expiring, other int
}

// candidate is a kept record needing action, with what the ranking needs.
type candidate struct {
	a    *account
	snap *snapshot.Snapshot
	rec  *snapshot.Record
	// weight is how much uses it (see impact); broken: rejected or
	// expired, rather than expiring.
	weight int
	broken bool
	// at orders by urgency as snapshot.CompareUrgency does, without
	// looking values up at every comparison: a rejected object's
	// date_updated negated, so that the newest comes first (+Inf
	// without one: last), another's valid_until, the earliest first.
	at float64
}

// newCandidate is rec as the ranking sees it at now.
func newCandidate(a *account, snap *snapshot.Snapshot, rec *snapshot.Record, now float64) candidate {
	c := candidate{a: a, snap: snap, rec: rec, weight: a.impact(snap, rec, nil), broken: rec.Rejected}
	if rec.Rejected {
		c.at = math.Inf(1)
		if updated, ok := rec.Value(kinds.FieldDateUpdated); ok {
			c.at = -updated
		}
		return c
	}
	c.at = math.Inf(-1)
	if validUntil, ok := rec.Value(kinds.FieldValidUntil); ok {
		c.at, c.broken = validUntil, validUntil <= now
	}
	return c
}

// compareCandidates orders the needs-action list: what is in use first;
// of that, what is broken now before what will break, then the most
// used; then by urgency (rejected first, as snapshot.CompareUrgency
// orders), sid and account. It runs for every pair a sort compares:
// each step returns as soon as it decides.
func compareCandidates(x, y *candidate) int {
	if c := cmp.Compare(b2i(y.weight > 0), b2i(x.weight > 0)); c != 0 {
		return c
	}
	if c := cmp.Compare(b2i(y.broken), b2i(x.broken)); c != 0 {
		return c
	}
	if c := cmp.Compare(y.weight, x.weight); c != 0 {
		return c
	}
	if c := cmp.Compare(b2i(y.rec.Rejected), b2i(x.rec.Rejected)); c != 0 {
		return c
	}
	if c := cmp.Compare(x.at, y.at); c != 0 {
		return c
	}
	if c := strings.Compare(x.rec.SID, y.rec.SID); c != 0 {
		return c
	}
	return strings.Compare(x.a.name, y.a.name)
}

func (h *statusHandler) page(s *collector.Scrape, window time.Duration, q query) statusPage {
	now := s.Now()
	p := statusPage{
		Code:       http.StatusOK,
		Name:       h.o.Name,
		Version:    h.o.Version,
		Now:        now.UTC().Format(stamp),
		WindowDays: int(window / (24 * time.Hour)),
		Kept:       snapshot.AttentionLimit,
		Links: []pageLink{
			{h.o.TelemetryPath, "Metrics"},
			{"/-/healthy", "Health"},
			{"/-/ready", "Readiness"},
		},
	}
	if h.o.EnablePprof {
		p.Links = append(p.Links, pageLink{"/debug/pprof/", "Profiling"})
	}
	accounts, columns := groupAccounts(s.Status())
	for _, k := range columns {
		p.Columns = append(p.Columns, k.Title)
	}

	var focus *account
	if q.Account != "" {
		if focus = findAccount(accounts, q.Account); focus == nil {
			p.Code, p.Notice = http.StatusNotFound, "No account is named “"+q.Account+"”: the front page follows."
			q.Account = ""
		} else {
			q.Account = focus.name
		}
	}
	var kind *kinds.Kind
	if q.Kind != "" {
		if k, ok := kinds.ByName(q.Kind); ok {
			kind = k
		} else {
			p.Code, p.Notice = http.StatusBadRequest, "There is no kind “"+q.Kind+"”; the list is not filtered by kind."
			q.Kind = ""
		}
	}

	totals := make([]kindTotals, len(columns))
	for i, k := range columns {
		totals[i] = kindTotals{Title: k.Title, Expires: k.Expires(), ExpiryLink: query{Kind: k.Name, Status: k.Approved}.link()}
		// The documented statuses first, in their order, where count
		// finds them by index.
		for _, st := range k.Statuses {
			totals[i].add(k, st, 0)
		}
	}
	// The front page weighs every kept record, to count each account's
	// in use; an account's page those of the account; a filtered list
	// only those it lists.
	front := focus == nil && kind == nil && q.Status == ""
	inScope := func(a *account) bool { return focus == nil || a == focus }
	weighs := func(k *kinds.Kind, status string) bool {
		return front || focus != nil || (kind == nil || k == kind) && (q.Status == "" || status == q.Status)
	}
	// Counted first, so that the candidates (tens of thousands when
	// every account has problems) are allocated once.
	n := 0
	for _, a := range accounts {
		for _, l := range a.listings {
			if snap := l.State.Snapshot; snap != nil && inScope(a) {
				rejected, expiring := snap.Kept(now, window)
				n += len(rejected) + len(expiring)
			}
		}
	}
	candidates := make([]candidate, 0, n)
	nowSecs := float64(now.UnixNano()) / 1e9
	for _, a := range accounts {
		if !inScope(a) {
			continue
		}
		a.count(columns, totals, now, window)
		for _, l := range a.listings {
			snap := l.State.Snapshot
			if snap == nil {
				continue
			}
			rejected, expiring := snap.Kept(now, window)
			for _, part := range [][]snapshot.Record{rejected, expiring} {
				for i := range part {
					rec := &part[i]
					if !weighs(snap.Kind, rec.Status) {
						continue
					}
					c := newCandidate(a, snap, rec, nowSecs)
					if c.weight > 0 {
						a.inUse++
					}
					if (kind == nil || snap.Kind == kind) && (q.Status == "" || rec.Status == q.Status) {
						candidates = append(candidates, c)
					}
				}
			}
		}
		a.health = a.judge()
	}

	p.Form = form(q, columns, accounts)
	p.Action = h.actions(candidates, accounts, focus, kind, q.Status, now, window)
	if focus != nil {
		p.Account = detail(focus, now, window)
		return p
	}
	// A filtered list is the page: the totals and the accounts would
	// only push it down.
	p.Filtered = kind != nil || q.Status != ""
	if !p.Filtered {
		p.Kinds = totals
		h.front(&p, accounts, columns, q)
	}
	return p
}

// groupAccounts gathers the listings by account, in their order, and
// returns the kinds watched anywhere, in kinds.All's order.
func groupAccounts(listings []collector.ListingStatus) ([]*account, []*kinds.Kind) {
	// An account's listings are consecutive: each account has a window
	// of the one slice, and all are allocated together.
	n := 0
	for i, l := range listings {
		if i == 0 || listings[i-1].Account != l.Account {
			n++
		}
	}
	all := make([]account, 0, n)
	accounts := make([]*account, 0, n)
	watched := map[*kinds.Kind]bool{}
	for i, l := range listings {
		if i == 0 || listings[i-1].Account != l.Account {
			all = append(all, account{name: l.Account, info: l.Info, listings: listings[i:i]})
			accounts = append(accounts, &all[len(all)-1])
		}
		a := accounts[len(accounts)-1]
		a.listings = a.listings[:len(a.listings)+1]
		watched[l.Kind] = true
		if snap := l.State.Snapshot; snap != nil {
			for _, r := range l.Kind.References {
				if ref := (referencing{r.To, snap}); !slices.Contains(a.referencing, ref) {
					a.referencing = append(a.referencing, ref)
				}
			}
		}
	}
	var columns []*kinds.Kind
	for _, k := range kinds.All {
		if watched[k] {
			columns = append(columns, k)
		}
	}
	return accounts, columns
}

// findAccount is the account of that label, or else the one account of
// that friendly name.
func findAccount(accounts []*account, name string) *account {
	var byFriendly *account
	for _, a := range accounts {
		if a.name == name {
			return a
		}
		if a.info.FriendlyName == name {
			if byFriendly != nil {
				return nil
			}
			byFriendly = a
		}
	}
	return byFriendly
}

// count fills the account's cells and health counts, and adds its
// listings to the kinds' totals.
func (a *account) count(columns []*kinds.Kind, totals []kindTotals, now time.Time, window time.Duration) {
	a.cells = make([]cellCounts, len(columns))
	a.needs = make([]snapshot.Needing, len(a.listings))
	for li, l := range a.listings {
		i := slices.Index(columns, l.Kind)
		c := &a.cells[i]
		c.watched, c.state = true, listingState(l)
		t := &totals[i]
		t.Listings++
		switch c.state {
		case "up":
			t.Up++
		case "down":
			a.down++
		default:
			a.pending++
		}
		snap := l.State.Snapshot
		if snap == nil {
			continue
		}
		n := snap.NeedingAction(now, window, 0)
		a.needs[li] = n
		c.hasData, c.total = true, snap.Total
		c.rejected, c.expired, c.expiring = n.Rejected, n.Expired, n.Expiring
		c.other = max(0, snap.Total-snap.Statuses[l.Kind.Approved]-n.Rejected)
		a.needing += n.Total()
		a.other += c.other
		t.Total += snap.Total
		t.Expired += n.Expired
		t.Expiring += n.Expiring
		t.ExpiredAccounts += b2i(n.Expired > 0)
		t.ExpiringAccounts += b2i(n.Expiring > 0)
		for j, st := range l.Kind.Statuses {
			n := snap.Statuses[st]
			t.Statuses[j].Objects += n
			t.Statuses[j].Accounts += b2i(n > 0)
		}
		// Every documented status is in Statuses: only a larger map
		// holds others, which are rare, and sorted for people.
		if len(snap.Statuses) > len(l.Kind.Statuses) {
			for _, sc := range snap.StatusCounts()[len(l.Kind.Statuses):] {
				t.add(l.Kind, sc.Status, sc.N)
			}
		}
	}
}

// add counts n objects of kind k in status st, in one account.
func (t *kindTotals) add(k *kinds.Kind, st string, n int) {
	j := slices.IndexFunc(t.Statuses, func(s statusTotal) bool { return s.Status == st })
	if j < 0 {
		s := statusTotal{Status: st, Bad: k.IsRejected(st), Good: st == k.Approved}
		if s.Bad {
			s.Link = query{Kind: k.Name, Status: st}.link()
		}
		t.Statuses = append(t.Statuses, s)
		j = len(t.Statuses) - 1
	}
	t.Statuses[j].Objects += n
	t.Statuses[j].Accounts += b2i(n > 0)
}

func (a *account) judge() health {
	switch {
	case a.down > 0:
		return healthDown
	case a.pending > 0:
		return healthPending
	case a.needing > 0:
		return healthAction
	case a.other > 0:
		return healthReview
	}
	return healthOK
}

// healthText says in a few words why the account is listed.
func (a *account) healthText() string {
	var parts []string
	if a.down > 0 {
		parts = append(parts, plural(a.down, "listing", "listings")+" down")
	}
	if a.pending > 0 {
		parts = append(parts, plural(a.pending, "listing", "listings")+" pending")
	}
	if a.needing > 0 {
		parts = append(parts, thousands(a.needing)+" to act on")
	}
	if a.other > 0 {
		parts = append(parts, thousands(a.other)+" not approved")
	}
	if a.inUse > 0 {
		parts = append(parts, thousands(a.inUse)+" in use")
	}
	return strings.Join(parts, ", ")
}

// listingState is "up", "down", or "pending" before any listing completed.
func listingState(l collector.ListingStatus) string {
	switch {
	case l.State.Up:
		return "up"
	case l.State.Completed:
		return "down"
	}
	return "pending"
}

// name is how the page names an account: its friendly name, with its
// label beside it when that differs (a discovered subaccount's SID).
func (a *account) names() (name, label string) {
	name = cmp.Or(a.info.FriendlyName, a.name)
	if name != a.name {
		label = a.name
	}
	return name, label
}

func (a *account) parentLink() string {
	if a.info.Parent == "" {
		return ""
	}
	return accountLink(a.info.Parent)
}

// front fills the front page's accounts: those with something to act on,
// the most urgent first, one page of them; the others are counted.
func (h *statusHandler) front(p *statusPage, accounts []*account, columns []*kinds.Kind, q query) {
	var listed []*account
	for _, a := range accounts {
		p.Summary.Accounts++
		switch a.health {
		case healthDown:
			p.Summary.Down++
		case healthPending:
			p.Summary.Pending++
		case healthAction:
			p.Summary.Action++
		case healthReview:
			p.Summary.Review++
		default:
			p.Summary.Healthy++
			continue
		}
		listed = append(listed, a)
	}
	slices.SortStableFunc(listed, func(x, y *account) int {
		return cmp.Or(
			cmp.Compare(y.health, x.health),
			cmp.Compare(y.inUse, x.inUse),
			cmp.Compare(y.needing, x.needing),
			cmp.Compare(y.down+y.pending, x.down+x.pending),
			cmp.Compare(y.other, x.other),
			strings.Compare(cmp.Or(x.info.FriendlyName, x.name), cmp.Or(y.info.FriendlyName, y.name)),
		)
	})
	p.Listed = len(listed)
	pages := max(1, (len(listed)+h.accountRows-1)/h.accountRows)
	page := min(q.Page, pages)
	from := (page - 1) * h.accountRows
	to := min(len(listed), from+h.accountRows)
	p.From, p.To = from+1, to
	if page > 1 {
		p.Prev = query{Page: page - 1}.link()
	}
	if page < pages {
		p.Next = query{Page: page + 1}.link()
	}
	for _, a := range listed[from:to] {
		name, label := a.names()
		row := accountRow{
			Name: name, Label: label, Link: accountLink(a.name), Parent: a.info.Parent, ParentLink: a.parentLink(),
			Health: healthClasses[a.health], HealthText: healthWords[a.health], Detail: a.healthText(),
		}
		for i, c := range a.cells {
			row.Cells = append(row.Cells, c.view(query{Account: a.name, Kind: columns[i].Name}.link()))
		}
		p.Accounts = append(p.Accounts, row)
	}
}

func (c cellCounts) view(link string) problemCell {
	v := problemCell{Link: link, State: c.state, NoData: !c.hasData, Empty: c.total == 0}
	switch {
	case !c.watched:
		return problemCell{State: "unwatched", NoData: true}
	case c.state == "up":
		v.State = ""
	}
	for _, part := range []struct {
		n    int
		word string
	}{{c.rejected, "rejected"}, {c.expired, "expired"}, {c.expiring, "expiring"}, {c.other, "not approved"}} {
		if part.n > 0 {
			v.Parts = append(v.Parts, thousands(part.n)+" "+part.word)
		}
	}
	return v
}

// detail is the head of an account's page: who it is, and its listings.
func detail(a *account, now time.Time, window time.Duration) *accountDetail {
	name, label := a.names()
	d := &accountDetail{
		Name: name, Label: label, Status: a.info.Status, Parent: a.info.Parent, ParentLink: a.parentLink(),
		Health: healthClasses[a.health], HealthText: healthWords[a.health], Detail: a.healthText(),
	}
	for _, l := range a.listings {
		d.Listings = append(d.Listings, listingOf(l, now, window))
		if l.State.Snapshot == nil {
			d.Unlisted = append(d.Unlisted, l.Kind.Title)
		}
	}
	return d
}

// listingOf is one listing's line on its account's page.
func listingOf(l collector.ListingStatus, now time.Time, window time.Duration) listingView {
	st := l.State
	v := listingView{Kind: l.Kind.Title, State: listingState(l), Expires: l.Kind.Expires()}
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
		v.ErrorAt = st.LastErrorTime.UTC().Format(stamp)
		v.ErrorOld = st.LastErrorTime.Before(st.LastSuccess)
	}
	if snap := st.Snapshot; snap != nil {
		v.HasData, v.Total, v.Stale = true, snap.Total, !st.Up
		for _, c := range snap.StatusCounts() {
			if c.N > 0 {
				v.Statuses = append(v.Statuses, c)
			}
		}
		v.Expired = snap.Expired(now)
		v.Expiring = snap.ExpiringWithin(now, window)
	}
	return v
}

// form is the filter form as q fills it, with the kinds watched and
// their statuses to choose from.
func form(q query, columns []*kinds.Kind, accounts []*account) filterForm {
	f := filterForm{Account: q.Account, Kind: q.Kind, Status: q.Status, Active: q.Kind != "" || q.Status != ""}
	f.Clear = query{Account: q.Account}.link()
	seen := map[string]bool{}
	addStatus := func(st string) {
		if !seen[st] {
			seen[st] = true
			f.Statuses = append(f.Statuses, option{Value: st, Text: st, Selected: st == q.Status})
		}
	}
	for _, k := range columns {
		f.Kinds = append(f.Kinds, option{Value: k.Name, Text: k.Title, Selected: k.Name == q.Kind})
		for _, st := range k.Statuses {
			addStatus(st)
		}
	}
	// Statuses Twilio does not document, as listed: only a map larger
	// than the documented statuses holds one.
	for _, a := range accounts {
		for _, l := range a.listings {
			if snap := l.State.Snapshot; snap != nil && len(snap.Statuses) > len(l.Kind.Statuses) {
				for st, n := range snap.Statuses {
					if n > 0 && !l.Kind.Documented(st) && !seen[st] {
						addStatus(st)
					}
				}
			}
		}
	}
	if q.Status != "" && !seen[q.Status] {
		addStatus(q.Status)
	}
	return f
}

// actions ranks the candidates by impact and counts what needs action in
// the scope of the filters.
func (h *statusHandler) actions(candidates []candidate, accounts []*account, focus *account, kind *kinds.Kind, status string, now time.Time, window time.Duration) actionList {
	l := actionList{ByStatus: status != "", Exact: true}
	for _, a := range accounts {
		if focus != nil && a != focus {
			continue
		}
		for i, li := range a.listings {
			snap := li.State.Snapshot
			if snap == nil || kind != nil && li.Kind != kind {
				continue
			}
			n := a.needs[i]
			switch {
			case status == "":
				l.Rejected += n.Rejected
				l.Expired += n.Expired
				l.Expiring += n.Expiring
			case li.Kind.IsRejected(status):
				l.Total += snap.Statuses[status]
			default:
				// Only the kept expiring rows tell their status: a
				// lower bound when some were not kept.
				_, kept := snap.Kept(now, window)
				l.Exact = l.Exact && len(kept) == n.Expired+n.Expiring
			}
		}
	}
	if status == "" {
		l.Total = l.Rejected + l.Expired + l.Expiring
	}
	for _, c := range candidates {
		l.InUse += b2i(c.weight > 0)
	}
	if status != "" {
		// The rows of a status that is not rejected are all that is
		// known of it.
		counted := 0
		for _, c := range candidates {
			if !c.rec.Kind.IsRejected(status) {
				counted++
			}
		}
		l.Total += counted
	}
	for _, c := range first(candidates, h.rows) {
		l.Rows = append(l.Rows, c.view(now))
	}
	l.More = max(0, l.Total-len(l.Rows))
	return l
}

// first returns the first n candidates in compareCandidates' order,
// reordering cs. With tens of thousands of candidates and a hundred rows,
// most candidates are compared once, with the last row kept, rather than
// all of them sorted.
func first(cs []candidate, n int) []candidate {
	less := func(x, y candidate) int { return compareCandidates(&x, &y) }
	if len(cs) <= n {
		slices.SortFunc(cs, less)
		return cs
	}
	top := cs[:n]
	slices.SortFunc(top, less)
	for i := n; i < len(cs); i++ {
		c := cs[i]
		if compareCandidates(&c, &top[n-1]) >= 0 {
			continue
		}
		at, _ := slices.BinarySearchFunc(top, c, less)
		copy(top[at+1:], top[at:n-1])
		top[at] = c
	}
	return top
}

// view is the candidate's row, with its impact spelt out.
func (c candidate) view(now time.Time) actionRow {
	r, k := c.rec, c.rec.Kind
	name, label := c.a.names()
	v := actionRow{
		Account: name, AccountLabel: label, AccountLink: accountLink(c.a.name),
		Kind: k.Object, Name: r.Name(), SID: r.SID, Console: k.Console, Status: r.Status, Rejected: r.Rejected,
	}
	for _, code := range r.ErrorCodes {
		v.Codes = append(v.Codes, codeLink{code, errorDocs(code)})
	}
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
		at := fromUnix(updated)
		v.Updated, v.UpdatedAt = age(now.Sub(at))+" ago", at.UTC().Format(stamp)
	}
	if c.weight > 0 {
		var im impact
		c.a.impact(c.snap, r, &im)
		v.InUse, v.Impact = true, im.view()
	}
	return v
}

// impact collects what uses an object, for its row: its own usage, the
// objects built on it, and theirs.
type impact struct {
	own, via   []useCount
	dependents []dependents
}

type useCount struct {
	list *kinds.Kind
	by   string
	n    int
}

type dependents struct {
	kind *kinds.Kind
	sids []string
	n    int
}

func (im *impact) use(list *kinds.Kind, u snapshot.Usage, own bool) {
	if im == nil {
		return
	}
	uses := &im.via
	if own {
		uses = &im.own
	}
	for _, c := range u {
		i := slices.IndexFunc(*uses, func(x useCount) bool { return x.list == list && x.by == c.By })
		if i < 0 {
			*uses = append(*uses, useCount{list: list, by: c.By})
			i = len(*uses) - 1
		}
		(*uses)[i].n += c.N
	}
}

func (im *impact) dependent(k *kinds.Kind, sid string) {
	if im == nil {
		return
	}
	i := slices.IndexFunc(im.dependents, func(d dependents) bool { return d.kind == k })
	if i < 0 {
		im.dependents = append(im.dependents, dependents{kind: k})
		i = len(im.dependents) - 1
	}
	d := &im.dependents[i]
	d.n++
	if len(d.sids) < impactSIDs {
		d.sids = append(d.sids, sid)
	}
}

// view spells the impact out, the objects built on it in the kinds'
// order.
func (im *impact) view() impactView {
	uses := func(us []useCount) []string {
		var out []string
		for _, u := range us {
			switch {
			case u.n == 0:
			case u.by != "":
				out = append(out, plural(u.n, u.by+" "+u.list.Short, u.by+" "+u.list.Short+"s"))
			default:
				out = append(out, plural(u.n, u.list.Object, u.list.Title))
			}
		}
		return out
	}
	v := impactView{Own: uses(im.own), Via: uses(im.via)}
	slices.SortStableFunc(im.dependents, func(x, y dependents) int {
		return cmp.Compare(slices.Index(kinds.All, x.kind), slices.Index(kinds.All, y.kind))
	})
	var built []string
	for _, d := range im.dependents {
		built = append(built, plural(d.n, d.kind.Short, d.kind.Short+"s"))
		v.Groups = append(v.Groups, impactGroup{Title: d.kind.Title, Console: d.kind.Console, SIDs: d.sids, More: d.n - len(d.sids)})
	}
	v.Built = strings.Join(built, ", ")
	return v
}

// impact weighs what uses rec's object, as far as the account's
// snapshots know, and with im set, records it: what its kind's Usage
// lists under it (the numbers assigned to a profile, those of a
// campaign's Messaging Service), the objects built on it (References:
// the brands and verifications naming a profile, the campaigns naming a
// brand), those built on them in turn, and what their Usage lists. The
// weight counts each object and each number once.
func (a *account) impact(snap *snapshot.Snapshot, rec *snapshot.Record, im *impact) int {
	weight := 0
	// counted holds the subjects whose usage is counted, and the
	// dependents found; made only for an object something is built on.
	var counted map[string]bool
	use := func(k *kinds.Kind, s *snapshot.Snapshot, subject string, own bool) {
		u := k.Uses
		if u == nil || subject == "" {
			return
		}
		usage, ok := s.Usage[subject]
		if !ok {
			return
		}
		if counted != nil {
			key := u.List.Name + "/" + subject
			if counted[key] {
				return
			}
			counted[key] = true
		}
		weight += usage.Total()
		im.use(u.List, usage, own)
	}
	use(rec.Kind, snap, subjectOf(rec), true)
	// The objects built on it, breadth first: each is looked up only in
	// the snapshots of the kinds that name its kind.
	type object struct {
		sid  string
		kind *kinds.Kind
	}
	var queue []object
	for next := (object{rec.SID, rec.Kind}); ; {
		for _, ref := range a.referencing {
			if ref.to != next.kind {
				continue
			}
			for _, d := range ref.snap.Naming(next.sid) {
				if counted == nil {
					counted = map[string]bool{rec.SID: true}
					if u := rec.Kind.Uses; u != nil {
						counted[u.List.Name+"/"+subjectOf(rec)] = true
					}
				}
				if counted[d.SID] {
					continue
				}
				counted[d.SID] = true
				weight++
				im.dependent(ref.snap.Kind, d.SID)
				use(ref.snap.Kind, ref.snap, d.Subject, false)
				queue = append(queue, object{d.SID, ref.snap.Kind})
			}
		}
		if len(queue) == 0 {
			return weight
		}
		next, queue = queue[0], queue[1:]
	}
}

// subjectOf is the sid rec's usage is listed under (see kinds.Usage).
func subjectOf(rec *snapshot.Record) string {
	u := rec.Kind.Uses
	switch {
	case u == nil:
		return ""
	case u.Subject == kinds.FieldSID:
		return rec.SID
	}
	return rec.Label(u.Subject)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return thousands(n) + " " + many
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
