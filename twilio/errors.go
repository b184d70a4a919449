package twilio

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/internal/backoff"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/internal/failure"
)

// NetworkError is a request that got no answer.
type NetworkError struct{ Err error }

func (e *NetworkError) Error() string { return e.Err.Error() }
func (e *NetworkError) Unwrap() error { return e.Err }

// DecodeError is an answer that is not a list page.
type DecodeError struct{ Err error }

func (e *DecodeError) Error() string { return e.Err.Error() }
func (e *DecodeError) Unwrap() error { return e.Err }

// PagingError is a next_page_url the client will not follow.
type PagingError struct{ Msg string }

func (e *PagingError) Error() string { return "paging: " + e.Msg }

// Reason classifies why a listing failed, as one of failure.Reasons.
func Reason(err error) string {
	var (
		apiErr  *APIError
		netErr  *NetworkError
		decErr  *DecodeError
		pageErr *PagingError
	)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return failure.Timeout
	case errors.As(err, &apiErr):
		switch {
		case apiErr.StatusCode == http.StatusUnauthorized || apiErr.StatusCode == http.StatusForbidden:
			return failure.Auth
		case apiErr.StatusCode == http.StatusTooManyRequests:
			return failure.RateLimited
		case apiErr.StatusCode >= 500:
			return failure.Server
		default:
			return failure.Client
		}
	case errors.As(err, &decErr):
		return failure.Decode
	case errors.As(err, &pageErr):
		return failure.Paging
	case errors.As(err, &netErr):
		return failure.Network
	}
	return failure.Other
}

// IsAuth tells whether err is an authentication or authorisation refusal.
func IsAuth(err error) bool { return Reason(err) == failure.Auth }

// retryable: rate limiting, a server error or a lost request may succeed
// when tried again; a refusal or a bad page will not.
func retryable(err error) bool {
	switch Reason(err) {
	case failure.RateLimited, failure.Server, failure.Network:
		return true
	}
	return false
}

// RetryPolicy spaces out the tries of one request: exponential backoff with
// full jitter, unless the answer names a Retry-After.
type RetryPolicy struct {
	// Attempts is the most tries of one request, the first included.
	Attempts int
	// Base is the first backoff's upper bound; it doubles each try up to Max.
	Base, Max time.Duration
}

// DefaultRetryPolicy tries a request up to 8 times over at most about a
// minute and a half, inside the default two-minute listing timeout.
var DefaultRetryPolicy = RetryPolicy{Attempts: 8, Base: 500 * time.Millisecond, Max: 30 * time.Second}

// backoff is the wait after the attempt-th failed try: uniform in
// [0, min(Max, Base·2^(attempt-1))], so that many clients do not retry in step.
func (p RetryPolicy) backoff(attempt int) time.Duration {
	ceiling := backoff.Exponential(p.Base, p.Max, attempt)
	if ceiling <= 0 {
		return 0
	}
	return rand.N(ceiling + 1) //nolint:gosec // jitter needs no cryptographic randomness
}

// parseRetryAfter reads a Retry-After header: seconds or an HTTP date.
// It returns 0 when absent or unreadable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs < 0 {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
