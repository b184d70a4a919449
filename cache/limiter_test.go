package cache

import (
	"context"
	"fmt"
	"runtime"
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

// acquire queues a listing with Go and waits for its turn: it returns once
// the listing holds its slot, with the function that ends it, or ctx's
// error when ctx ends first.
func acquire(ctx context.Context, l *Limiter, account string, expect time.Duration) (release func(), err error) {
	granted := make(chan bool, 1)
	hold := make(chan struct{})
	l.Go(ctx, account, expect, func(ok bool) {
		granted <- ok
		if ok {
			<-hold
		}
	})
	if !<-granted {
		return nil, ctx.Err()
	}
	return sync.OnceFunc(func() { close(hold) }), nil
}

// idle waits for every slot of l to be freed: a slot is freed once its
// listing's function has returned, in that listing's goroutine.
func (l *Limiter) idle(t *testing.T) {
	t.Helper()
	for range 1000 {
		l.mu.Lock()
		n, q := l.running, len(l.ring)
		l.mu.Unlock()
		if n == 0 && q == 0 {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Errorf("slots still taken: %d running, ring %v", l.running, l.ring)
}

// hold takes l's one slot for a listing of account "holder", until the
// function returned is called.
func hold(t *testing.T, l *Limiter) (release func()) {
	t.Helper()
	release, err := acquire(context.Background(), l, "holder", 0)
	if err != nil {
		t.Fatal(err)
	}
	return release
}

// queued waits for n listings to be queued in l.
func (l *Limiter) queued(n int) {
	for l.waiting() != n {
		time.Sleep(time.Millisecond)
	}
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
			release := hold(t, l)
			type grant struct {
				name    string
				release func()
			}
			granted := make(chan grant, len(tc.queued))
			for i, r := range tc.queued {
				go func() {
					rel, err := acquire(context.Background(), l, r.account, r.expect)
					if err != nil {
						t.Error(err)
						return
					}
					granted <- grant{fmt.Sprintf("%s%d", r.account, i), rel}
				}()
				// Queued one at a time, so that arrival order is known.
				l.queued(i + 1)
			}
			var got []string
			for range tc.queued {
				release() // the holder's slot, then each granted one's
				g := <-granted
				got, release = append(got, g.name), g.release
			}
			if g := strings.Join(got, " "); g != tc.want {
				t.Errorf("granted %s, want %s", g, tc.want)
			}
			release()
			l.idle(t)
		})
	}
}

// A listing that stops waiting (its entry closed by a reload) leaves the
// queue and takes no slot; the others are still served in turn.
func TestLimiterCancel(t *testing.T) {
	l := NewLimiter(1)
	release := hold(t, l)
	ctx, cancel := context.WithCancel(context.Background())
	gaveUp := make(chan error)
	go func() {
		rel, err := acquire(ctx, l, "a", 0)
		if err == nil {
			rel()
		}
		gaveUp <- err
	}()
	l.queued(1)
	granted := make(chan func())
	go func() {
		rel, err := acquire(context.Background(), l, "b", 0)
		if err != nil {
			t.Error(err)
		}
		granted <- rel
	}()
	l.queued(2)
	cancel()
	if err := <-gaveUp; err == nil {
		t.Fatal("a cancelled wait acquired a slot")
	}
	if n := l.waiting(); n != 1 {
		t.Fatalf("%d waiting after a cancel, want 1", n)
	}
	release()
	(<-granted)()
	l.idle(t)
}

// A listing waiting for its turn holds no goroutine: 2,000 queued behind
// a held slot add none; each runs in one of its own once granted.
func TestLimiterQueueTakesNoGoroutine(t *testing.T) {
	l := NewLimiter(1)
	release := hold(t, l)
	before := runtime.NumGoroutine()
	var ran atomic.Int64
	var wg sync.WaitGroup
	for i := range 2000 {
		wg.Add(1)
		l.Go(context.Background(), fmt.Sprint("acct", i%100), 0, func(ok bool) {
			if ok {
				ran.Add(1)
			}
			wg.Done()
		})
	}
	if n := runtime.NumGoroutine() - before; n > 10 {
		t.Errorf("%d goroutines for 2,000 queued listings, want none", n)
	}
	release()
	wg.Wait()
	if n := ran.Load(); n != 2000 {
		t.Errorf("%d of 2,000 listings ran", n)
	}
	l.idle(t)
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
			release, err := acquire(ctx, l, fmt.Sprint("acct", i%11), time.Duration(i%3))
			if err != nil {
				return
			}
			n := running.Add(1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			time.Sleep(100 * time.Microsecond)
			running.Add(-1)
			done.Add(1)
			release()
		})
	}
	wg.Wait()
	if p := peak.Load(); p > 3 || p < 1 {
		t.Errorf("peak %d listings at once, want 1 to 3", p)
	}
	if d := done.Load(); d < 160 {
		t.Errorf("%d of the 160 listings that wait without a deadline ran", d)
	}
	l.idle(t)
}
