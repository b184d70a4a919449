package twilio_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	promconfig "github.com/prometheus/common/config"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/simulator"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/twilio"
)

// countingServer serves h and counts the connections clients open to it.
func countingServer(t *testing.T, h http.Handler) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var opened atomic.Int64
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			opened.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &opened
}

// Clients sharing one transport share its connections, each request still
// carrying its own account's credentials; clients with pools of their own
// each open one.
func TestSharedTransport(t *testing.T) {
	const n = 30
	for _, tc := range []struct {
		name       string
		transport  func() http.RoundTripper
		wantOpened int64
	}{
		// Listed one after the other, every listing reuses the one
		// connection the first opened.
		{"shared", func() http.RoundTripper { return twilio.NewTransport(4) }, 1},
		{"own pools", func() http.RoundTripper { return nil }, n},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sim := simulator.New()
			sid := func(i int) string { return fmt.Sprintf("AC%032x", 0x7a00+i) }
			for i := range n {
				sim.AddAccount(sid(i), fmt.Sprintf("tok-%d", i), simulator.Generate(sid(i), i+1, now, uint64(i+1)))
			}
			srv, opened := countingServer(t, sim)
			shared := tc.transport()
			client := func(i int, tok string) *twilio.Client {
				c, err := twilio.New(twilio.Options{BaseURL: srv.URL, Auth: &promconfig.BasicAuth{Username: sid(i), Password: promconfig.Secret(tok)},
					PageSize: 1000, Retry: fastRetry, Transport: shared})
				if err != nil {
					t.Fatal(err)
				}
				return c
			}
			for i := range n {
				// Each account's own profiles, and only those: the
				// credentials are its own on every request.
				if sids, _ := collectSIDs(t, client(i, fmt.Sprintf("tok-%d", i)), kinds.Filters{}); len(sids) != i+1 {
					t.Fatalf("account %d: listed %d profiles, want %d", i, len(sids), i+1)
				}
			}
			if got := opened.Load(); got != tc.wantOpened {
				t.Errorf("%d connections opened for %d listings, want %d", got, n, tc.wantOpened)
			}
			// A wrong token on a connection another account used is still
			// refused: nothing of the credentials stays with a connection.
			if tc.wantOpened == 1 {
				_, err := client(0, "tok-1").List(context.Background(), kinds.CustomerProfiles, kinds.Filters{}, func(*kinds.Object) error { return nil })
				if !twilio.IsAuth(err) {
					t.Errorf("with account 1's token for account 0: %v, want an auth error", err)
				}
			}
		})
	}
}

// A redirect is not followed: the credentials never reach the host it
// points to, and the listing fails with the redirect's status.
func TestRedirectNotFollowed(t *testing.T) {
	var leaked atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { leaked.Add(1) }))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+kinds.CustomerProfiles.ListPath, http.StatusFound)
	}))
	defer srv.Close()
	c := newClient(t, srv.URL, tokenAuth(), 1000)
	_, err := c.List(context.Background(), kinds.CustomerProfiles, kinds.Filters{}, func(*kinds.Object) error { return nil })
	var apiErr *twilio.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusFound {
		t.Fatalf("error = %v, want the 302 as an APIError", err)
	}
	if leaked.Load() != 0 {
		t.Error("the redirect was followed")
	}
}
