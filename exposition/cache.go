package exposition

import (
	"io"
	"slices"
	"sync"
	"weak"
)

// Cache keeps a rendered block of families in each text format, for as
// long as what it was rendered from stays the same: a key the caller
// replaces whenever the block's inputs change in another way, and values
// of T that never change once built (the collector's snapshots). Between
// two listings every scrape would write the same per-object bytes; with a
// Cache it renders and compresses them once per format, and splices them
// into each gzipped answer after (see deflate.go). Protobuf, whose
// messages expfmt encodes, is rendered every time.
type Cache[T any] struct {
	slots [2]slot[T] // by mode: text, openMetrics
}

type slot[T any] struct {
	// mu is held while rendering, so that scrapes arriving together on
	// new values render them once, not once each.
	mu  sync.Mutex
	key any
	// deps are weak, so that the block does not keep a replaced value
	// alive. A block of values since replaced is never served again, and
	// is let go by the next full scrape, which renders its successor: a
	// cleanup per value to drop it sooner cost one registration per value
	// per render, 50,000 at 10,000 subaccounts, piling up on values that
	// outlive many renders.
	deps []weak.Pointer[T]
	d    *deflated
}

// Write gives e what write writes: in a text format, the block kept for
// key and deps, rendered by write on a miss; otherwise write itself. The
// block must depend on nothing else. A nil dep is allowed.
func (c *Cache[T]) Write(e *Encoder, key any, deps []*T, write func(*Encoder)) {
	if !e.Direct() {
		write(e)
		return
	}
	e.endFamily()
	d, err := c.slots[e.mode].block(e.mode, key, deps, write)
	if err != nil {
		e.err = err
		return
	}
	e.writeDeflated(d)
}

// block returns the block kept for key and deps, rendering it on a miss.
// It is shared by every scrape that gets it: not to be changed.
func (s *slot[T]) block(m mode, key any, deps []*T, write func(*Encoder)) (*deflated, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.d != nil && s.key == key && slices.EqualFunc(s.deps, deps, func(w weak.Pointer[T], d *T) bool { return w == weak.Make(d) }) {
		return s.d, nil
	}
	// The old block goes before the new one is built.
	s.key, s.deps, s.d = nil, nil, nil
	// Rendered a buffer at a time into the compressor: the block's text
	// is never held whole.
	d, err := deflateBlock(func(w io.Writer) error {
		r := pooledEncoder(m, w)
		write(r)
		return r.Close()
	})
	if err != nil {
		return nil, err
	}
	weaks := make([]weak.Pointer[T], len(deps))
	for i, d := range deps {
		weaks[i] = weak.Make(d)
	}
	s.key, s.deps, s.d = key, weaks, d
	return s.d, nil
}
