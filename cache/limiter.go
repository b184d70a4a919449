package cache

import (
	"context"
	"sync"
	"time"
)

// Limiter bounds the listings running at once, across accounts
// (max_concurrent_listings), and decides which waiting listing goes next.
//
// A plain semaphore grants in arrival order, and a scrape starts every
// listing of an account before the next account's: with ten accounts of
// five kinds and a bound of ten, the tenth account's first listing waited
// behind forty-five others, and its long Customer-Profiles listing then
// ran alone at the end (ten accounts of 10,000 profiles took 2.01× one).
// So the limiter grants in rounds across accounts: each account with a
// listing waiting gets one before any gets a second. Within an account,
// the listing that took longest last time goes first (arrival order the
// first time), so the long chains of pages start early and the short
// listings fill the slots they leave: longest first is the classic rule
// for finishing a set of jobs on a few workers soonest.
type Limiter struct {
	mu      sync.Mutex
	running int
	max     int
	// queues holds each account's waiting listings, longest expected
	// first; ring is the accounts with a listing waiting, in the order
	// they are served, and next the position of the one served next.
	queues map[string][]*waiter
	ring   []string
	next   int
}

type waiter struct {
	expect time.Duration
	// run is started in a goroutine of its own when granted; stop
	// unregisters its cancellation.
	run  func()
	stop func() bool
	done bool // granted (under mu)
}

// NewLimiter returns a limiter of n listings at once (at least 1).
func NewLimiter(n int) *Limiter {
	return &Limiter{max: max(n, 1), queues: map[string][]*waiter{}}
}

// Max is the bound.
func (l *Limiter) Max() int { return l.max }

// Go runs fn(true) in a goroutine of its own once a slot is granted to
// one of account's listings expected to take about expect (its last
// duration; 0 when unknown), and frees the slot when fn returns; if ctx
// ends first, it runs fn(false), holding no slot. A listing waiting for
// its turn holds no goroutine: a cold scrape of 10,000 subaccounts queues
// 50,000 listings, and a goroutine blocked on a semaphore for each (with
// the scrape's own, waiting for it) was most of the exporter's peak
// memory, 1.1 GiB.
func (l *Limiter) Go(ctx context.Context, account string, expect time.Duration, fn func(granted bool)) {
	run := func() {
		defer l.release()
		fn(true)
	}
	l.mu.Lock()
	if l.running < l.max && len(l.ring) == 0 {
		l.running++
		l.mu.Unlock()
		go run()
		return
	}
	w := &waiter{expect: expect, run: run}
	l.enqueue(account, w)
	// Registered under mu, so that a grant, which calls stop, cannot come
	// before it.
	w.stop = context.AfterFunc(ctx, func() {
		l.mu.Lock()
		if w.done {
			l.mu.Unlock()
			return
		}
		l.remove(account, w)
		l.mu.Unlock()
		fn(false)
	})
	l.mu.Unlock()
}

// release hands the slot of a listing that ended to the next waiting
// listing, or frees it.
func (l *Limiter) release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.ring) == 0 {
		l.running--
		return
	}
	if l.next >= len(l.ring) {
		l.next = 0
	}
	account := l.ring[l.next]
	q := l.queues[account]
	w := q[0]
	if q = q[1:]; len(q) == 0 {
		// The account leaves the ring; the next one moves into its place.
		delete(l.queues, account)
		l.ring = append(l.ring[:l.next], l.ring[l.next+1:]...)
	} else {
		l.queues[account] = q
		l.next++
	}
	w.done = true
	// The slot passes to w's listing; its cancellation no longer applies.
	w.stop()
	go w.run()
}

// enqueue adds w to account's queue, longest expected first, equal ones
// in arrival order. l.mu is held.
func (l *Limiter) enqueue(account string, w *waiter) {
	q, ok := l.queues[account]
	if !ok || len(q) == 0 {
		l.ring = append(l.ring, account)
	}
	i := len(q)
	for i > 0 && q[i-1].expect < w.expect {
		i--
	}
	q = append(q, nil)
	copy(q[i+1:], q[i:])
	q[i] = w
	l.queues[account] = q
}

// remove takes w, which gave up waiting, out of account's queue.
func (l *Limiter) remove(account string, w *waiter) {
	q := l.queues[account]
	for i, x := range q {
		if x == w {
			q = append(q[:i], q[i+1:]...)
			break
		}
	}
	if len(q) > 0 {
		l.queues[account] = q
		return
	}
	delete(l.queues, account)
	for i, a := range l.ring {
		if a == account {
			l.ring = append(l.ring[:i], l.ring[i+1:]...)
			if i < l.next {
				l.next--
			}
			break
		}
	}
}
