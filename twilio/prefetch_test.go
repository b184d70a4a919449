package twilio_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/internal/failure"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/twilio"
)

const secondPage = "/v1/CustomerProfiles?PageSize=1000&Page=1"

// guard bounds how long a handler waits for what the client should do: the
// test fails rather than hang when the client does not do it. It is no
// measurement; a passing run never waits for it.
const guard = 10 * time.Second

// twoPages serves a first page that writes its meta, then waits for the
// second page's request before writing the rest (rest), and a second page
// that is served by second.
type twoPages struct {
	rest   func(w http.ResponseWriter, r *http.Request)
	second func(w http.ResponseWriter, r *http.Request)

	asked     chan struct{} // closed when the second page is asked for
	askedOnce sync.Once
	late      atomic.Bool // the first page gave up waiting for the second's request
}

func (s *twoPages) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("Page") == "1" {
		s.askedOnce.Do(func() { close(s.asked) })
		s.second(w, r)
		return
	}
	fmt.Fprintf(w, `{"meta": {"next_page_url": %q}, `, secondPage)
	w.(http.Flusher).Flush()
	select {
	case <-s.asked:
	case <-r.Context().Done():
		return
	case <-time.After(guard):
		s.late.Store(true)
	}
	s.rest(w, r)
}

func newTwoPages(t *testing.T, s *twoPages) *twilio.Client {
	t.Helper()
	s.asked = make(chan struct{})
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return newClient(t, srv.URL, tokenAuth(), 1000)
}

// With meta before the list, as Twilio sends it, the second page is asked
// for while the first is still being read; with meta last it cannot be, and
// the listing is the same.
func TestListAsksForNextPageEarly(t *testing.T) {
	last := `{"meta": {"next_page_url": null}, "results": [{"sid": "BU3"}]}`
	t.Run("meta first", func(t *testing.T) {
		s := &twoPages{
			rest: func(w http.ResponseWriter, _ *http.Request) {
				_, _ = fmt.Fprint(w, `"results": [{"sid": "BU1"}, {"sid": "BU2"}]}`)
			},
			second: func(w http.ResponseWriter, _ *http.Request) { _, _ = fmt.Fprint(w, last) },
		}
		c := newTwoPages(t, s)
		sids, pages := collectSIDs(t, c, kinds.Filters{})
		if want := []string{"BU1", "BU2", "BU3"}; !slices.Equal(sids, want) || pages != 2 {
			t.Errorf("listed %v in %d pages, want %v in 2", sids, pages, want)
		}
		if s.late.Load() {
			t.Error("the second page was not asked for before the first was read")
		}
		if got := c.Requests(kinds.CustomerProfiles); got[http.StatusOK] != 2 || len(got) != 1 {
			t.Errorf("requests = %v, want 2 answered 200", got)
		}
	})
	t.Run("meta last", func(t *testing.T) {
		var requests atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			requests.Add(1)
			if r.URL.Query().Get("Page") == "1" {
				_, _ = fmt.Fprint(w, `{"results": [{"sid": "BU3"}], "meta": {"next_page_url": null}}`)
				return
			}
			fmt.Fprintf(w, `{"results": [{"sid": "BU1"}, {"sid": "BU2"}], "meta": {"next_page_url": %q}}`, secondPage)
		}))
		defer srv.Close()
		c := newClient(t, srv.URL, tokenAuth(), 1000)
		sids, pages := collectSIDs(t, c, kinds.Filters{})
		if want := []string{"BU1", "BU2", "BU3"}; !slices.Equal(sids, want) || pages != 2 || requests.Load() != 2 {
			t.Errorf("listed %v in %d pages, %d requests, want %v in 2 pages and 2 requests", sids, pages, requests.Load(), want)
		}
	})
}

// A listing that ends while the next page's request is in flight (the page
// broken, the callback failing, the context ended) ends that request too:
// List returns only once it has, and the server sees it cancelled.
func TestListEndsTheEarlyRequest(t *testing.T) {
	for _, tc := range []struct {
		name string
		rest string // the first page after its meta
		// stall keeps the first page open after rest, until the client
		// goes away.
		stall bool
		fn    func(cancel context.CancelFunc) error
		want  func(error) bool
	}{
		{"page broken after meta", `"results": [{"sid": ]}`, false,
			func(context.CancelFunc) error { return nil },
			func(err error) bool { return twilio.Reason(err) == failure.Decode }},
		{"callback fails", `"results": [{"sid": "BU1"}]}`, false, func(context.CancelFunc) error { return errStop },
			func(err error) bool { return errors.Is(err, errStop) }},
		{"context ends", `"results": [{"sid": "BU1"}, `, true, func(cancel context.CancelFunc) error { cancel(); return nil },
			func(err error) bool { return errors.Is(err, context.Canceled) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cancelled := make(chan struct{})
			s := &twoPages{
				rest: func(w http.ResponseWriter, r *http.Request) {
					_, _ = fmt.Fprint(w, tc.rest)
					if tc.stall {
						w.(http.Flusher).Flush()
						<-r.Context().Done()
					}
				},
				second: func(_ http.ResponseWriter, r *http.Request) {
					<-r.Context().Done() // never answered: only cancelled
					close(cancelled)
				},
			}
			c := newTwoPages(t, s)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			_, err := c.List(ctx, kinds.CustomerProfiles, kinds.Filters{}, func(*kinds.Object) error { return tc.fn(cancel) })
			if err == nil || !tc.want(err) {
				t.Fatalf("error = %v", err)
			}
			select {
			case <-cancelled:
			case <-time.After(guard):
				t.Fatal("the second page's request was left running")
			}
			if s.late.Load() {
				t.Error("the second page was not asked for before the first was read")
			}
		})
	}
}

var errStop = errors.New("stop")

// An early request refused with a 500 is retried like any other.
func TestListRetriesTheEarlyRequest(t *testing.T) {
	var refused atomic.Bool
	s := &twoPages{
		rest: func(w http.ResponseWriter, _ *http.Request) { _, _ = fmt.Fprint(w, `"results": [{"sid": "BU1"}]}`) },
		second: func(w http.ResponseWriter, _ *http.Request) {
			if refused.CompareAndSwap(false, true) {
				http.Error(w, "{}", http.StatusInternalServerError)
				return
			}
			_, _ = fmt.Fprint(w, `{"meta": {"next_page_url": null}, "results": [{"sid": "BU2"}]}`)
		},
	}
	c := newTwoPages(t, s)
	sids, pages := collectSIDs(t, c, kinds.Filters{})
	if want := []string{"BU1", "BU2"}; !slices.Equal(sids, want) || pages != 2 {
		t.Errorf("listed %v in %d pages, want %v in 2", sids, pages, want)
	}
	if got, want := c.Requests(kinds.CustomerProfiles), map[int]uint64{200: 2, 500: 1}; !mapsEqual(got, want) {
		t.Errorf("requests = %v, want %v", got, want)
	}
	// The same counts, in code order, for the scrape.
	var got []string
	for code, n := range c.RequestCounts(kinds.CustomerProfiles) {
		got = append(got, fmt.Sprintf("%d:%d", code, n))
	}
	if strings.Join(got, " ") != "200:2 500:1" {
		t.Errorf("request counts %v, want 200:2 500:1", got)
	}
}

func mapsEqual(a, b map[int]uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
