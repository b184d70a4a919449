package cache

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// waiting is the number of listings queued in l.
func (l *Limiter) waiting() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, q := range l.queues {
		n += len(q)
	}
	return n
}

// The order in which the limiter grants queued listings: one per account
// in turn, the longest expected first within an account, arrival order
// otherwise.
func TestLimiterOrder(t *testing.T) {
	type req struct {
		account string
		expect  time.Duration
	}
	for _, tc := range []struct {
		name   string
		queued []req // in arrival order, while every slot is taken
		want   string
	}{
		{
			// A scrape starts an account's listings together: a FIFO would
			// serve a's five before b's first.
			name:   "rounds across accounts",
			queued: []req{{"a", 0}, {"a", 0}, {"a", 0}, {"b", 0}, {"b", 0}, {"b", 0}, {"c", 0}},
			want:   "a0 b3 c6 a1 b4 a2 b5",
		},
		{
			name:   "longest first within an account",
			queued: []req{{"a", time.Second}, {"a", 10 * time.Second}, {"a", 0}, {"b", 2 * time.Second}, {"b", 5 * time.Second}},
			want:   "a1 b4 a0 b3 a2",
		},
		{
			name:   "one account",
			queued: []req{{"a", 0}, {"a", 3}, {"a", 2}},
			want:   "a1 a2 a0",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := NewLimiter(1)
			if err := l.Acquire(context.Background(), "holder", 0); err != nil {
				t.Fatal(err)
			}
			granted := make(chan string, len(tc.queued))
			for i, r := range tc.queued {
				go func() {
					if err := l.Acquire(context.Background(), r.account, r.expect); err != nil {
						t.Error(err)
						return
					}
					granted <- fmt.Sprintf("%s%d", r.account, i)
				}()
				// Queued one at a time, so that arrival order is known.
				for l.waiting() != i+1 {
					time.Sleep(time.Millisecond)
				}
			}
			var got []string
			for range tc.queued {
				l.Release() // the holder's slot, then each granted one's
				got = append(got, <-granted)
			}
			if g := strings.Join(got, " "); g != tc.want {
				t.Errorf("granted %s, want %s", g, tc.want)
			}
			l.Release()
			if l.running != 0 || l.waiting() != 0 || len(l.ring) != 0 {
				t.Errorf("after every release: %d running, %d waiting, ring %v", l.running, l.waiting(), l.ring)
			}
		})
	}
}

// A listing that stops waiting (its entry closed by a reload) leaves the
// queue and takes no slot; the others are still served in turn.
func TestLimiterCancel(t *testing.T) {
	l := NewLimiter(1)
	if err := l.Acquire(context.Background(), "holder", 0); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	gaveUp := make(chan error)
	go func() { gaveUp <- l.Acquire(ctx, "a", 0) }()
	for l.waiting() != 1 {
		time.Sleep(time.Millisecond)
	}
	granted := make(chan struct{})
	go func() {
		if err := l.Acquire(context.Background(), "b", 0); err != nil {
			t.Error(err)
		}
		close(granted)
	}()
	for l.waiting() != 2 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-gaveUp; err == nil {
		t.Fatal("a cancelled wait acquired a slot")
	}
	if n := l.waiting(); n != 1 {
		t.Fatalf("%d waiting after a cancel, want 1", n)
	}
	l.Release()
	<-granted
	l.Release()
	if l.running != 0 || len(l.ring) != 0 {
		t.Errorf("after every release: %d running, ring %v", l.running, l.ring)
	}
}

// Under many listings of many accounts at once, no more than the bound
// run together, and every one runs.
func TestLimiterBound(t *testing.T) {
	l := NewLimiter(3)
	var running, peak, done atomic.Int64
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Duration(i%7)*time.Millisecond)
			defer cancel()
			if i%5 != 0 {
				ctx = context.Background() // most wait as long as it takes
			}
			if l.Acquire(ctx, fmt.Sprint("acct", i%11), time.Duration(i%3)) != nil {
				return
			}
			n := running.Add(1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			time.Sleep(100 * time.Microsecond)
			running.Add(-1)
			done.Add(1)
			l.Release()
		})
	}
	wg.Wait()
	if p := peak.Load(); p > 3 || p < 1 {
		t.Errorf("peak %d listings at once, want 1 to 3", p)
	}
	if d := done.Load(); d < 160 {
		t.Errorf("%d of the 160 listings that wait without a deadline ran", d)
	}
	if l.running != 0 || l.waiting() != 0 {
		t.Errorf("at the end: %d running, %d waiting", l.running, l.waiting())
	}
}
