package backoff

import (
	"math"
	"testing"
	"time"
)

func TestExponential(t *testing.T) {
	const maxDuration = time.Duration(math.MaxInt64)
	for _, tc := range []struct {
		name           string
		first, ceiling time.Duration
		n              int
		want           time.Duration
	}{
		{"first failure waits first", 10 * time.Second, 5 * time.Minute, 1, 10 * time.Second},
		{"second doubles", 10 * time.Second, 5 * time.Minute, 2, 20 * time.Second},
		{"fifth is 2^4 times first", 10 * time.Second, 5 * time.Minute, 5, 160 * time.Second},
		{"sixth reaches the ceiling", 10 * time.Second, 5 * time.Minute, 6, 5 * time.Minute},
		{"exactly the ceiling", time.Second, 8 * time.Second, 4, 8 * time.Second},
		{"a ceiling 1ns short of the doubling", time.Second, 8*time.Second - 1, 4, 8*time.Second - 1},
		{"first above the ceiling", time.Minute, time.Second, 1, time.Second},
		{"n below 1 counts as 1", time.Second, time.Minute, 0, time.Second},
		{"negative n counts as 1", time.Second, time.Minute, -5, time.Second},
		{"no first wait", 0, time.Minute, 3, 0},
		{"negative first wait", -time.Second, time.Minute, 3, 0},
		{"no ceiling", time.Second, 0, 3, 0},
		{"negative ceiling", time.Second, -time.Minute, 3, 0},
		// The shift of first alone would overflow from here on: the old
		// guards (n > 30, attempt < 30) let an hour shifted 29 times wrap.
		{"an hour, 23rd failure", time.Hour, 2 * time.Hour, 23, 2 * time.Hour},
		{"an hour, 30th failure", time.Hour, 2 * time.Hour, 30, 2 * time.Hour},
		{"63 doublings", time.Nanosecond, maxDuration, 64, maxDuration},
		{"62 doublings fit", time.Nanosecond, maxDuration, 63, 1 << 62},
		{"thousands of failures", 500 * time.Millisecond, 30 * time.Second, 5000, 30 * time.Second},
		{"largest n", time.Nanosecond, maxDuration, math.MaxInt, maxDuration},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Exponential(tc.first, tc.ceiling, tc.n); got != tc.want {
				t.Errorf("Exponential(%s, %s, %d) = %s, want %s", tc.first, tc.ceiling, tc.n, got, tc.want)
			}
		})
	}
}

// Each failure waits at least as long as the one before, up to the ceiling.
func TestExponentialNeverShrinks(t *testing.T) {
	for _, first := range []time.Duration{time.Nanosecond, time.Millisecond, 10 * time.Second, time.Hour, 1 << 40} {
		ceiling := 100 * first
		prev := time.Duration(0)
		for n := 1; n <= 200; n++ {
			got := Exponential(first, ceiling, n)
			if got < prev || got > ceiling {
				t.Fatalf("first %s: failure %d waits %s after %s (ceiling %s)", first, n, got, prev, ceiling)
			}
			prev = got
		}
		if prev != ceiling {
			t.Errorf("first %s: after 200 failures the wait is %s, not the ceiling %s", first, prev, ceiling)
		}
	}
}
