package twilio_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/internal/failure"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/simulator"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/twilio"
)

// faulty serves 2,345 profiles in pages of 1,000, misbehaving as f says.
func faulty(t *testing.T, f simulator.Fault) (*simulator.Server, *twilio.Client) {
	t.Helper()
	sim := simulator.New()
	sim.AddAccount(accountSID, token, simulator.Generate(accountSID, 2345, now, 5))
	sim.SetFault(f)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return sim, newClient(t, srv.URL, tokenAuth(), 1000)
}

func list(ctx context.Context, c *twilio.Client) (int, error) {
	n := 0
	_, err := c.List(ctx, kinds.CustomerProfiles, kinds.Filters{}, func(*kinds.Object) error { n++; return nil })
	return n, err
}

func TestRetries(t *testing.T) {
	for _, tc := range []struct {
		name     string
		fault    simulator.Fault
		wantErr  string // "" when the listing must succeed
		reason   string
		requests map[int]uint64
	}{
		{"429 then fine", simulator.Fault{Times: 2, Status: 429, Code: 20429}, "", "", map[int]uint64{429: 2, 200: 3}},
		{"503 then fine", simulator.Fault{Times: 3, Status: 503, Code: 20503}, "", "", map[int]uint64{503: 3, 200: 3}},
		{"dropped connection then fine", simulator.Fault{Times: 2, Drop: true}, "", "", map[int]uint64{200: 3}},
		{"503 for good", simulator.Fault{Status: 503}, "page 0: Twilio answered HTTP 503", failure.Server, map[int]uint64{503: 4}},
		{"401 is not retried", simulator.Fault{Status: 401, Code: 20003}, "page 0: Twilio answered HTTP 401: error 20003", failure.Auth, map[int]uint64{401: 1}},
		{"403 is not retried", simulator.Fault{Status: 403, Code: 20403}, "HTTP 403", failure.Auth, map[int]uint64{403: 1}},
		{"400 is not retried", simulator.Fault{Status: 400, Code: 20001}, "HTTP 400", failure.Client, map[int]uint64{400: 1}},
		{"malformed JSON", simulator.Fault{Body: `{"meta": {}, "results": [{"sid": `}, "decoding results[0]", failure.Decode, map[int]uint64{200: 1}},
		{"no meta", simulator.Fault{Body: `{"results": []}`}, "no meta object", failure.Decode, map[int]uint64{200: 1}},
		{"results not a list", simulator.Fault{Body: `{"meta": {}, "results": {}}`}, "decoding results: not a list", failure.Decode, map[int]uint64{200: 1}},
		{"page repeats", simulator.Fault{NextPageURL: "self"}, "repeats an earlier page", failure.Paging, map[int]uint64{200: 2}},
		{"other host", simulator.Fault{NextPageURL: "https://evil.example/v1/CustomerProfiles"}, "not following it with the credentials", failure.Paging, map[int]uint64{200: 1}},
		{"other scheme", simulator.Fault{NextPageURL: "https://127.0.0.1/v1/CustomerProfiles"}, "not following it", failure.Paging, map[int]uint64{200: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, c := faulty(t, tc.fault)
			n, err := list(context.Background(), c)
			if tc.wantErr == "" {
				if err != nil || n != 2345 {
					t.Fatalf("listed %d, err %v; want all 2345", n, err)
				}
			} else {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tc.wantErr)
				}
				if got := twilio.Reason(err); got != tc.reason {
					t.Errorf("reason = %q, want %q", got, tc.reason)
				}
			}
			got := c.Requests(kinds.CustomerProfiles)
			for code, want := range tc.requests {
				if got[code] != want {
					t.Errorf("answers with %d: %d, want %d (all: %v)", code, got[code], want, got)
				}
			}
		})
	}
}

// Retry-After is honoured: the retry waits at least that long.
func TestRetryAfterHonoured(t *testing.T) {
	_, c := faulty(t, simulator.Fault{Times: 1, Status: 429, Code: 20429, RetryAfter: "1"})
	start := time.Now()
	if n, err := list(context.Background(), c); err != nil || n != 2345 {
		t.Fatalf("listed %d, %v", n, err)
	}
	if waited := time.Since(start); waited < time.Second {
		t.Errorf("retried after %s, before the Retry-After of 1s", waited)
	}
}

// A Retry-After beyond the listing's deadline ends the listing at once
// rather than sleeping into the timeout.
func TestRetryAfterBeyondDeadline(t *testing.T) {
	_, c := faulty(t, simulator.Fault{Status: 429, Code: 20429, RetryAfter: "3600"})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := list(ctx, c)
	if err == nil || !strings.Contains(err.Error(), "not retrying: the next try (in 1h0m0s) would be after the listing's timeout") {
		t.Fatalf("error = %v", err)
	}
	if twilio.Reason(err) != failure.RateLimited {
		t.Errorf("reason = %q", twilio.Reason(err))
	}
	if ctx.Err() != nil {
		t.Error("the listing waited until its deadline")
	}
}

func TestEndlessPages(t *testing.T) {
	sim := simulator.New()
	sim.AddAccount(accountSID, token, simulator.Generate(accountSID, 3, now, 5))
	sim.SetFault(simulator.Fault{Endless: true})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	c, err := twilio.New(twilio.Options{BaseURL: srv.URL, Auth: tokenAuth(), PageSize: 1, MaxPages: 20, Retry: fastRetry})
	if err != nil {
		t.Fatal(err)
	}
	pages, err := c.List(context.Background(), kinds.CustomerProfiles, kinds.Filters{}, func(*kinds.Object) error { return nil })
	if err == nil || err.Error() != "paging: gave up after 20 pages; next_page_url never ended" || pages != 20 {
		t.Fatalf("pages %d, error %v", pages, err)
	}
}

func TestOversizedAnswer(t *testing.T) {
	sim := simulator.New()
	sim.AddAccount(accountSID, token, simulator.Generate(accountSID, 3, now, 5))
	sim.SetFault(simulator.Fault{Oversize: 2 << 20})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	c, err := twilio.New(twilio.Options{BaseURL: srv.URL, Auth: tokenAuth(), PageSize: 1000, MaxPageBytes: 1 << 20, Retry: fastRetry})
	if err != nil {
		t.Fatal(err)
	}
	_, err = list(context.Background(), c)
	if err == nil || !strings.Contains(err.Error(), "answer larger than 1048576 bytes") || twilio.Reason(err) != failure.Decode {
		t.Fatalf("error = %v", err)
	}
}
