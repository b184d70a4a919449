package collector

import (
	"runtime"
	"slices"
	"sync"
	"weak"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/cache"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/snapshot"
)

// The per-object block of a scrape depends only on the listings served
// (their accounts and kinds, fixed by the view), their snapshots, which
// never change once built, and the exporter's settings, fixed at New: not
// on the clock. So between two listings every scrape would write the same
// bytes. A full scrape renders the block once per set of snapshots and
// format, and every later scrape copies it: at 10,000 Customer-Profiles
// that is a few MB kept, against about as much written and formatted on
// every scrape. Probes, one account each, render theirs as before: one
// slot per account would keep the whole scrape again, account by account.

// blockCache holds the last per-object block rendered in one text format.
type blockCache struct {
	// mu is held while rendering, so that scrapes arriving together on a
	// new snapshot render it once, not once each.
	mu sync.Mutex
	v  *view
	// snaps are the served snapshots, listing by listing. Weak, so that
	// the block does not keep a replaced snapshot alive: when one is
	// collected, its cleanup drops the block (gen says which block).
	snaps []weak.Pointer[snapshot.Snapshot]
	gen   uint64
	b     []byte
}

// block returns s's per-object block, rendered by render on a miss. The
// bytes are shared by every scrape that gets them: they must not be
// changed.
func (c *blockCache) block(s *Scrape, render func(sizeHint int) []byte) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.b != nil && c.v == s.v && slices.EqualFunc(c.snaps, s.states, func(w weak.Pointer[snapshot.Snapshot], st cache.State) bool {
		return w == weak.Make(st.Snapshot)
	}) {
		return c.b
	}
	// The old block goes before the new one is built; its size is the
	// best guess of the new one's, which saves the slack of growing it.
	hint := len(c.b) + len(c.b)/16
	c.v, c.b = nil, nil
	c.gen++
	b := render(hint)
	snaps := make([]weak.Pointer[snapshot.Snapshot], len(s.states))
	for i, st := range s.states {
		snaps[i] = weak.Make(st.Snapshot)
		if st.Snapshot != nil {
			runtime.AddCleanup(st.Snapshot, c.drop, c.gen)
		}
	}
	c.v, c.snaps, c.b = s.v, snaps, b
	return b
}

// drop forgets block gen, if it is still the one kept: one of its
// snapshots is gone, so no scrape can ask for it again.
func (c *blockCache) drop(gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen == gen {
		c.v, c.snaps, c.b = nil, nil, nil
	}
}
