// Package backoff spaces out the tries of something that keeps failing:
// the API client's retries of one request and the cache's retries of a
// whole listing wait by the same rule, so the rule lives here once.
package backoff

import "time"

// Exponential is the wait after the n-th consecutive failure (n counts
// from 1): first, doubled n-1 times, but never above ceiling. It is 0 when
// first or ceiling is not positive, and ceiling when first exceeds it.
//
// The doubling never overflows, however many failures there were: a long
// outage counts failures into the thousands, and a shifted Duration that
// wrapped around would turn a long wait into none.
func Exponential(first, ceiling time.Duration, n int) time.Duration {
	if first <= 0 || ceiling <= 0 {
		return 0
	}
	doublings := uint(max(n, 1) - 1)
	// first·2^doublings > ceiling exactly when first > ceiling/2^doublings
	// (rounded down), which no shift of first can overflow to tell.
	if doublings >= 63 || first > ceiling>>doublings {
		return ceiling
	}
	return first << doublings
}
