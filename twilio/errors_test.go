package twilio

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/internal/failure"
)

func TestReason(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&APIError{StatusCode: 401}, failure.Auth},
		{&APIError{StatusCode: 403}, failure.Auth},
		{&APIError{StatusCode: 429}, failure.RateLimited},
		{&APIError{StatusCode: 500}, failure.Server},
		{&APIError{StatusCode: 503}, failure.Server},
		{&APIError{StatusCode: 404}, failure.Client},
		{&NetworkError{errors.New("connection refused")}, failure.Network},
		{&DecodeError{errors.New("unexpected EOF")}, failure.Decode},
		{&PagingError{"repeats"}, failure.Paging},
		{fmt.Errorf("page 3: %w", &NetworkError{context.DeadlineExceeded}), failure.Timeout},
		{fmt.Errorf("page 1: %w", &APIError{StatusCode: 429}), failure.RateLimited},
		{errors.New("something else"), failure.Other},
	} {
		if got := Reason(tc.err); got != tc.want {
			t.Errorf("Reason(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"":                              0,
		"0":                             0,
		"7":                             7 * time.Second,
		"-3":                            0,
		"soon":                          0,
		"Fri, 27 Nov 2026 12:00:30 GMT": 30 * time.Second,
		"Fri, 27 Nov 2026 11:00:00 GMT": 0, // in the past
	} {
		if got := parseRetryAfter(v, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %s, want %s", v, got, want)
		}
	}
}

// The backoff stays within its exponential ceiling, and the jitter spreads.
func TestBackoffBounds(t *testing.T) {
	p := RetryPolicy{Attempts: 10, Base: 100 * time.Millisecond, Max: 2 * time.Second}
	for attempt := 1; attempt <= 40; attempt++ {
		ceiling := min(p.Max, p.Base<<min(attempt-1, 20))
		seen := map[time.Duration]bool{}
		for range 50 {
			d := p.backoff(attempt)
			if d < 0 || d > ceiling {
				t.Fatalf("attempt %d: backoff %s outside [0, %s]", attempt, d, ceiling)
			}
			seen[d] = true
		}
		if len(seen) < 2 {
			t.Errorf("attempt %d: 50 backoffs all equal: no jitter", attempt)
		}
	}
}
