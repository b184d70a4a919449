package twilio

import (
	"context"
	"io"
	"sync"
)

// DefaultMaxRequestsPerAccount is how many requests the exporter has in
// flight to one Twilio account at most, unless configured otherwise
// (max_requests_per_account). Twilio limits the concurrent requests of an
// account and answers 429 past it; the exporter shares that limit with the
// account's production traffic, so it keeps to a few.
const DefaultMaxRequestsPerAccount = 8

// InFlight bounds the requests in flight to each account, across every
// client acting as it: an account's listings of every kind, the parents
// they are listed under, the usage counts, the pages asked for ahead, and
// a parent's subaccount discovery. A request holds its slot from before
// it is sent until its answer's body is closed. It is safe for concurrent
// use; its zero value is not usable: see NewInFlight.
type InFlight struct {
	mu   sync.Mutex
	max  int
	sems map[string]chan struct{}
}

// NewInFlight bounds each account to n requests in flight, at least 1.
func NewInFlight(n int) *InFlight {
	return &InFlight{max: max(n, 1), sems: map[string]chan struct{}{}}
}

// SetMax changes the bound. A request in flight keeps the slot it holds,
// of the bound it was sent under; those sent after wait on the new one.
func (f *InFlight) SetMax(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n = max(n, 1); n != f.max {
		f.max, f.sems = n, map[string]chan struct{}{}
	}
}

// acquire waits for a slot of account's, no longer than ctx allows, and
// returns the function that gives it back.
func (f *InFlight) acquire(ctx context.Context, account string) (func(), error) {
	f.mu.Lock()
	sem, ok := f.sems[account]
	if !ok {
		sem = make(chan struct{}, f.max)
		f.sems[account] = sem
	}
	f.mu.Unlock()
	select {
	case sem <- struct{}{}:
		var once sync.Once
		return func() { once.Do(func() { <-sem }) }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// releasingBody gives the slot back when the body is closed.
type releasingBody struct {
	io.ReadCloser
	release func()
}

func (b releasingBody) Close() error {
	err := b.ReadCloser.Close()
	b.release()
	return err
}
