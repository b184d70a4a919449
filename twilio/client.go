// Package twilio is the exporter's one client of Twilio: it lists, page
// by page, the objects of a kind (see package kinds) from the TrustHub and
// Messaging APIs, and an account's subaccounts from the 2010 Accounts API,
// with one paging loop, one retry policy and one count of requests.
package twilio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	promconfig "github.com/prometheus/common/config"
	"golang.org/x/sync/errgroup"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
)

const (
	// DefaultMaxPageBytes bounds what is read of one answer. A full page of
	// 1,000 profiles is about 1 MiB; anything far larger is not a page.
	DefaultMaxPageBytes = 64 << 20
	// maxErrorBytes bounds what is read of an error answer.
	maxErrorBytes = 64 << 10
	// MaxPages stops a listing whose next_page_url never ends: at the
	// largest page size that is 10 million profiles.
	MaxPages = 10000
	// ParentFanOut is how many parents (Messaging Services) a listing of a
	// kind with a Parent lists under at once. It is per listing, within the
	// one slot the listing holds of max_concurrent_listings: small, so that
	// an account with many services does not meet Twilio's limit of
	// concurrent requests per account (429), large enough that a few
	// hundred services do not list one after the other.
	ParentFanOut = 4
)

// Options configure a Client.
type Options struct {
	// BaseURL is the TrustHub API's scheme and host, e.g.
	// https://trusthub.twilio.com: the base of kinds.TrustHub.
	BaseURL string
	// MessagingURL is the Messaging API's, e.g.
	// https://messaging.twilio.com: the base of kinds.Messaging. Empty,
	// messaging kinds cannot be listed.
	MessagingURL string
	// Auth is the basic-auth user and password (or password file, re-read
	// on every request).
	Auth      *promconfig.BasicAuth
	PageSize  int
	UserAgent string
	// Transport carries the requests: one NewTransport shared by the
	// clients of every account, so that a thousand accounts share one
	// bounded pool of connections rather than keep a thousand. Nil, the
	// client gets a pool of its own.
	Transport http.RoundTripper
	// MaxPageBytes bounds one answer; DefaultMaxPageBytes when 0.
	MaxPageBytes int64
	// MaxPages bounds one listing; MaxPages when 0.
	MaxPages int
	// Retry spaces out retried requests; DefaultRetryPolicy when zero.
	Retry RetryPolicy
	// AccountsURL is the 2010 Accounts API's scheme and host, e.g.
	// https://api.twilio.com, for ListAccounts. Empty, accounts cannot
	// be listed.
	AccountsURL string
	// Account is the SID of the account the client acts as, and InFlight
	// the bound on requests in flight to each account that it shares
	// with every other client (the other clients acting as the same
	// account count against the same bound). Nil InFlight, the client
	// has a bound of DefaultMaxRequestsPerAccount of its own.
	Account  string
	InFlight *InFlight
}

// Client lists the objects of one account, of any kind. It is safe for
// concurrent use: the exporter runs one listing per (account, kind) at a
// time, and the kinds of an account at once, over the connection pool it
// shares with every other account's client (Options.Transport).
type Client struct {
	// bases are the base URLs by kinds.Host; nil for one not given.
	bases    [kinds.Hosts]*url.URL
	http     *http.Client
	pageSize int
	maxBytes int64
	maxPages int
	retry    RetryPolicy
	account  string
	inFlight *InFlight

	mu       sync.Mutex
	requests map[requestKey]uint64
}

// requestKey counts requests by kind and answer.
type requestKey struct {
	kind string
	code int
}

// IdleConnTimeout is how long an idle connection to an API stays open.
const IdleConnTimeout = 90 * time.Second

// NewTransport builds the pool of connections that clients share. It keeps
// at most maxRequests idle connections to each API host: as many as may be
// in flight at once, so that a listing after another reuses them, but no
// more; each idle connection costs two goroutines and their buffers (and
// a TLS session against Twilio). It honours the usual proxy environment
// variables and speaks HTTP/2 where the server does.
func NewTransport(maxRequests int) *http.Transport {
	maxRequests = max(maxRequests, 1)
	t := &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   30 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		MaxIdleConnsPerHost: maxRequests,
		// Three hosts: TrustHub, Messaging and the Accounts API.
		MaxIdleConns:          3 * maxRequests,
		IdleConnTimeout:       IdleConnTimeout,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		// Pages are decoded as they arrive; as before, none is asked
		// for compressed.
		DisableCompression: true,
		HTTP2:              &http.HTTP2Config{SendPingTimeout: time.Minute},
	}
	t.Protocols = &http.Protocols{}
	t.Protocols.SetHTTP1(true)
	t.Protocols.SetHTTP2(true)
	return t
}

// defaultMaxRequests bounds the idle connections of a client's own pool:
// every kind of an account listed at once, each under ParentFanOut parents.
var defaultMaxRequests = len(kinds.All) * ParentFanOut

// bases are the base URLs parsed, shared by the clients: every account's
// client has the same few, and 10,000 subaccounts parsed them 30,000
// times (5 MB kept). A client never changes its base URLs.
var bases sync.Map // string → *url.URL

func parseBase(raw string) (*url.URL, error) {
	if u, ok := bases.Load(raw); ok {
		return u.(*url.URL), nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	got, _ := bases.LoadOrStore(raw, u)
	return got.(*url.URL), nil
}

// New builds a Client. The HTTP client never follows redirects, so the
// credentials cannot be sent to another host.
func New(o Options) (*Client, error) {
	var bases [kinds.Hosts]*url.URL
	for host, raw := range map[kinds.Host]string{kinds.TrustHub: o.BaseURL, kinds.Messaging: o.MessagingURL, kinds.Accounts: o.AccountsURL} {
		if raw == "" {
			continue
		}
		u, err := parseBase(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", host.ConfigKey(), err)
		}
		bases[host] = u
	}
	rt := o.Transport
	if rt == nil {
		rt = NewTransport(defaultMaxRequests)
	}
	if o.Auth != nil {
		// The credentials go on each request, not on the connection: the
		// pool is shared by accounts, and a *_file is re-read every time.
		user, err := secret(promconfig.Secret(o.Auth.Username), o.Auth.UsernameFile, o.Auth.UsernameRef)
		if err != nil {
			return nil, fmt.Errorf("username: %w", err)
		}
		password, err := secret(o.Auth.Password, o.Auth.PasswordFile, o.Auth.PasswordRef)
		if err != nil {
			return nil, fmt.Errorf("password: %w", err)
		}
		rt = promconfig.NewBasicAuthRoundTripper(user, password, rt)
	}
	if o.UserAgent != "" {
		rt = promconfig.NewUserAgentRoundTripper(o.UserAgent, rt)
	}
	hc := &http.Client{
		Transport: rt,
		// A redirect is answered as it is, an error: never followed
		// with the credentials.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	if o.MaxPageBytes <= 0 {
		o.MaxPageBytes = DefaultMaxPageBytes
	}
	if o.MaxPages <= 0 {
		o.MaxPages = MaxPages
	}
	if o.Retry.Attempts <= 0 {
		o.Retry = DefaultRetryPolicy
	}
	if o.InFlight == nil {
		o.InFlight = NewInFlight(DefaultMaxRequestsPerAccount)
	}
	return &Client{
		bases: bases, http: hc, pageSize: o.PageSize, maxBytes: o.MaxPageBytes, maxPages: o.MaxPages,
		retry: o.Retry, account: o.Account, inFlight: o.InFlight, requests: map[requestKey]uint64{},
	}, nil
}

// secret reads a credential given inline or as a file, the file on every
// use. References to a secret manager are not supported.
func secret(inline promconfig.Secret, file, ref string) (promconfig.SecretReader, error) {
	switch {
	case ref != "":
		return nil, errors.New("secret references are not supported")
	case file != "":
		return promconfig.NewFileSecret(file), nil
	}
	return promconfig.NewInlineSecret(string(inline)), nil
}

// Requests returns how many requests listing kind k got an answer, by HTTP
// status code.
func (c *Client) Requests(k *kinds.Kind) map[int]uint64 {
	return maps.Collect(c.RequestCounts(k))
}

// RequestCounts yields what Requests returns, in code order, with nothing
// allocated for the few codes a kind's requests have: a scrape of 1,000
// subaccounts reads it for 5,000 listings.
func (c *Client) RequestCounts(k *kinds.Kind) iter.Seq2[int, uint64] {
	return func(yield func(int, uint64) bool) {
		type count struct {
			code int
			n    uint64
		}
		var buf [8]count
		counts := buf[:0]
		c.mu.Lock()
		for key, v := range c.requests {
			if key.kind == k.Name {
				counts = append(counts, count{key.code, v})
			}
		}
		c.mu.Unlock()
		// An insertion sort of a handful, which keeps buf on the stack.
		for i := 1; i < len(counts); i++ {
			for j := i; j > 0 && counts[j].code < counts[j-1].code; j-- {
				counts[j], counts[j-1] = counts[j-1], counts[j]
			}
		}
		for _, cn := range counts {
			if !yield(cn.code, cn.n) {
				return
			}
		}
	}
}

// APIError is an answer other than 200, with Twilio's error body if it had one.
type APIError struct {
	StatusCode int
	// RetryAfter is the answer's Retry-After, 0 when it had none.
	RetryAfter time.Duration `json:"-"`
	Code       int           `json:"code"`
	Message    string        `json:"message"`
	MoreInfo   string        `json:"more_info"`
}

func (e *APIError) Error() string {
	s := "Twilio answered HTTP " + strconv.Itoa(e.StatusCode)
	if e.Code != 0 {
		s += fmt.Sprintf(": error %d", e.Code)
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.MoreInfo != "" {
		s += " (" + e.MoreInfo + ")"
	}
	return s
}

// List fetches every page of the account's objects of kind k, in order,
// calling fn for each object (see DecodePage). It returns the number of
// pages fetched. A request refused with 429 or 5xx, or lost in transport,
// is retried with backoff while ctx allows; nothing else is.
//
// A kind with a Parent is listed in two levels: every page of the parents,
// then every page of the kind under each parent, ParentFanOut parents at
// a time. It is one listing: the first failure of any page fails it, and
// each object still reaches fn one at a time, though not in a fixed order.
func (c *Client) List(ctx context.Context, k *kinds.Kind, f kinds.Filters, fn func(*kinds.Object) error) (int, error) {
	if int(k.Host) >= len(c.bases) || c.bases[k.Host] == nil {
		return 0, fmt.Errorf("no %s for %s", k.Host.ConfigKey(), k.Name)
	}
	base := c.bases[k.Host]
	if k.Parent == nil {
		return c.list(ctx, objects(k, k, fn), c.firstPageURL(base, k, k.ListPath, f))
	}
	var parents []string
	pages, err := c.list(ctx, objects(k, k.Parent, func(o *kinds.Object) error {
		if sid := o.SID(); sid != "" && k.ListsUnder(o) && !slices.Contains(parents, sid) {
			parents = append(parents, sid)
		}
		return nil
	}), c.firstPageURL(base, k.Parent, k.Parent.ListPath, kinds.Filters{}))
	if err != nil {
		return pages, fmt.Errorf("listing %s: %w", k.Parent.Title, err)
	}
	var mu sync.Mutex // fn is not safe for concurrent use, nor pages
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(ParentFanOut)
	for _, sid := range parents {
		g.Go(func() error {
			n, err := c.list(gctx, objects(k, k, func(o *kinds.Object) error {
				mu.Lock()
				defer mu.Unlock()
				return fn(o)
			}), c.firstPageURL(base, k, k.Path(url.PathEscape(sid)), f))
			mu.Lock()
			pages += n
			mu.Unlock()
			if err != nil {
				return fmt.Errorf("%s %s: %w", k.Parent.Object, sid, err)
			}
			return nil
		})
	}
	err = g.Wait()
	return pages, err
}

// ListUnder fetches every page of kind sub listed under the object sid
// (sub's ListPath holds kinds.ParentSID), calling fn for each item, the
// requests counted as listing kind counted. It is how what uses an object
// is listed (see kinds.Usage), within the listing of counted.
func (c *Client) ListUnder(ctx context.Context, counted, sub *kinds.Kind, sid string, fn func(*kinds.Object) error) (int, error) {
	if int(sub.Host) >= len(c.bases) || c.bases[sub.Host] == nil {
		return 0, fmt.Errorf("no %s for %s", sub.Host.ConfigKey(), sub.Name)
	}
	return c.list(ctx, objects(counted, sub, fn), c.firstPageURL(c.bases[sub.Host], sub, sub.Path(url.PathEscape(sid)), kinds.Filters{}))
}

// pager is what the paging loop needs to know of one list's pages: the
// loop is the same for every API, the pages differ.
type pager struct {
	// counted names the requests in the counts (see Requests).
	counted string
	// host is the API listed: a next-page link is followed only to it.
	host kinds.Host
	// link is the page's key of the next-page link, for messages.
	link string
	// decode reads one page from r and returns its next-page link, ""
	// on the last page: an absolute URL (meta.next_page_url) or a path
	// (the 2010 API's next_page_uri), resolved against the host's base.
	// It calls onNext, when not nil, with the link as soon as it is
	// read, if that is before the page is done, so that the loop can ask
	// for the next page early. A page may be decoded twice: a try that
	// fails part-way is retried.
	decode func(r io.Reader, onNext func(string)) (string, error)
	// done, when not nil, is called once a page is decoded: what is
	// handed on only for a whole page goes here, outside the retries.
	done func() error
}

// objects is the pager of a list of kind decoded's objects, each passed
// to fn, the requests counted as listing kind k.
func objects(k, decoded *kinds.Kind, fn func(*kinds.Object) error) pager {
	return pager{counted: k.Name, host: decoded.Host, link: "next_page_url",
		decode: func(r io.Reader, onNext func(string)) (string, error) {
			var onMeta func(Meta)
			if onNext != nil {
				onMeta = func(m Meta) { onNext(m.NextPageURL) }
			}
			meta, err := decodePage(r, decoded, onMeta, fn)
			return meta.NextPageURL, err
		}}
}

// list fetches every page from first on.
func (c *Client) list(ctx context.Context, p pager, first string) (int, error) {
	next := first
	seen := map[string]bool{}
	// pending is the request for the next page, sent as soon as the
	// current page's meta names it, so that its round trip overlaps
	// decoding the current page. At most one is in flight, and its body is
	// read only once the current page is done: a page or two in memory.
	var pending *prefetch
	defer func() {
		if pending != nil {
			pending.discard()
		}
	}()
	for pages := 0; ; pages++ {
		if pages == c.maxPages {
			return pages, &PagingError{fmt.Sprintf("gave up after %d pages; %s never ended", c.maxPages, p.link)}
		}
		seen[next] = true
		var pre *prefetch
		if pending != nil {
			if pending.url == next {
				pre = pending
			} else {
				// A retried page named another next page than its
				// first try did.
				pending.discard()
			}
			pending = nil
		}
		// onMeta sends the request for the next page only where the
		// loop below would: not to another host, not for a page seen
		// before, not past the runaway bound.
		onNext := func(link string) {
			if pending != nil || link == "" || pages+1 == c.maxPages {
				return
			}
			u, err := c.sameOrigin(p, link)
			if err != nil || seen[u] {
				return
			}
			pending = c.startPrefetch(ctx, p.counted, u)
		}
		link, err := c.page(ctx, p, next, pre, onNext)
		if err != nil {
			return pages, fmt.Errorf("page %d: %w", pages, err)
		}
		if p.done != nil {
			if err := p.done(); err != nil {
				return pages + 1, err
			}
		}
		if link == "" {
			return pages + 1, nil
		}
		u, err := c.sameOrigin(p, link)
		if err != nil {
			return pages + 1, err
		}
		if seen[u] {
			return pages + 1, &PagingError{fmt.Sprintf("%s of page %d repeats an earlier page", p.link, pages)}
		}
		next = u
	}
}

func (c *Client) firstPageURL(base *url.URL, k *kinds.Kind, path string, f kinds.Filters) string {
	q := url.Values{}
	q.Set("PageSize", strconv.Itoa(c.pageSize))
	for _, which := range k.Filters {
		if v := f[which]; v != "" {
			q.Set(which.Param(), v)
		}
	}
	u := *base
	u.Path = u.Path + path
	u.RawQuery = q.Encode()
	return u.String()
}

// sameOrigin resolves a next-page link (an absolute URL or a path) and
// refuses one on another scheme or host than the base URL of the host
// listed: the credentials go with every request.
func (c *Client) sameOrigin(p pager, raw string) (string, error) {
	base := c.bases[p.host]
	u, err := base.Parse(raw)
	if err != nil {
		return "", &PagingError{p.link + " is not a URL: " + err.Error()}
	}
	if u.Scheme != base.Scheme || u.Host != base.Host {
		return "", &PagingError{fmt.Sprintf("%s points to %s://%s, not to %s %s://%s; not following it with the credentials", p.link, u.Scheme, u.Host, p.host.ConfigKey(), base.Scheme, base.Host)}
	}
	return u.String(), nil
}

// page fetches one page, retrying what may succeed later, and returns its
// next-page link. Its first try is pre's answer when pre is not nil.
// onNext is passed to p.decode.
func (c *Client) page(ctx context.Context, p pager, u string, pre *prefetch, onNext func(string)) (string, error) {
	var link string
	err := c.retrying(ctx, func() error {
		var resp *http.Response
		var err error
		if pre != nil {
			resp, err = pre.wait() //nolint:bodyclose // decode closes it
			// The request's context ends once its body is read.
			defer pre.cancel()
			pre = nil
		} else {
			resp, err = c.get(ctx, p.counted, u) //nolint:bodyclose // decode closes it
		}
		if err != nil {
			return err
		}
		link, err = c.decode(resp, p, onNext)
		return err
	})
	return link, err
}

// prefetch is a request for a page sent ahead of its turn.
type prefetch struct {
	url    string
	cancel context.CancelFunc
	done   chan struct{}
	resp   *http.Response
	err    error
}

// startPrefetch sends the request for u in the background.
func (c *Client) startPrefetch(ctx context.Context, counted, u string) *prefetch {
	pctx, cancel := context.WithCancel(ctx)
	p := &prefetch{url: u, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		p.resp, p.err = c.get(pctx, counted, u) //nolint:bodyclose // the reader of p closes it
	}()
	return p
}

// wait returns the answer; the caller closes its body and calls cancel.
func (p *prefetch) wait() (*http.Response, error) {
	<-p.done
	return p.resp, p.err
}

// discard abandons a request no longer wanted: the listing failed or ended
// before its turn. It returns once the request's goroutine has.
func (p *prefetch) discard() {
	p.cancel()
	<-p.done
	if p.resp != nil {
		_ = p.resp.Body.Close()
	}
}

// retrying calls try until it succeeds, fails with what will not succeed
// later, or runs out of attempts or of ctx's time.
func (c *Client) retrying(ctx context.Context, try func() error) error {
	for attempt := 1; ; attempt++ {
		err := try()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil || !retryable(err) || attempt == c.retry.Attempts {
			return err
		}
		wait := c.retry.backoff(attempt)
		var apiErr *APIError
		if errors.As(err, &apiErr) && apiErr.RetryAfter > 0 {
			wait = apiErr.RetryAfter
		}
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			return fmt.Errorf("%w; not retrying: the next try (in %s) would be after the listing's timeout", err, wait.Round(time.Millisecond))
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return err
		case <-timer.C:
		}
	}
}

// get sends one request. It returns the response only for a 200; any other
// answer is read into an *APIError and closed.
func (c *Client) get(ctx context.Context, counted string, u string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	release, err := c.inFlight.acquire(ctx, c.account)
	if err != nil {
		return nil, &NetworkError{err}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		release()
		return nil, &NetworkError{err}
	}
	resp.Body = releasingBody{ReadCloser: resp.Body, release: release}
	c.mu.Lock()
	c.requests[requestKey{counted, resp.StatusCode}]++
	c.mu.Unlock()
	if resp.StatusCode == http.StatusOK {
		return resp, nil
	}
	defer closeBody(resp)
	apiErr := &APIError{StatusCode: resp.StatusCode, RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBytes))
	_ = json.Unmarshal(body, apiErr) // a non-JSON error body still leaves the status code
	apiErr.StatusCode = resp.StatusCode
	return nil, apiErr
}

// decode reads one page of p's from resp, no more than maxBytes of it.
func (c *Client) decode(resp *http.Response, p pager, onNext func(string)) (string, error) {
	defer closeBody(resp)
	lr := &io.LimitedReader{R: resp.Body, N: c.maxBytes + 1}
	link, err := p.decode(lr, onNext)
	if lr.N <= 0 {
		return link, &DecodeError{fmt.Errorf("answer larger than %d bytes", c.maxBytes)}
	}
	if err != nil {
		// A body cut off in transport reads as broken JSON too.
		return link, &DecodeError{err}
	}
	return link, nil
}

// closeBody drains a little, so the connection can be reused, and closes.
func closeBody(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBytes))
	_ = resp.Body.Close()
}
