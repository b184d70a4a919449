package simulator

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"sync"
)

// inFlightByUser counts each user's requests being answered, now and at
// most.
type inFlightByUser struct {
	mu       sync.Mutex
	now, top map[string]int64
}

// track counts a request of user's until its answer starts, or finish is
// called, and returns w, watched for that.
func (c *inFlightByUser) track(user string, w http.ResponseWriter) *trackedWriter {
	c.mu.Lock()
	if c.now == nil {
		c.now, c.top = map[string]int64{}, map[string]int64{}
	}
	c.now[user]++
	c.top[user] = max(c.top[user], c.now[user])
	c.mu.Unlock()
	t := &trackedWriter{ResponseWriter: w}
	t.done = func() {
		c.mu.Lock()
		c.now[user]--
		c.mu.Unlock()
	}
	return t
}

func (c *inFlightByUser) max(user string) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.top[user]
}

// trackedWriter calls done once, when the answer starts or finish is
// called, whichever comes first.
type trackedWriter struct {
	http.ResponseWriter
	once sync.Once
	done func()
}

func (t *trackedWriter) finish() { t.once.Do(t.done) }

func (t *trackedWriter) WriteHeader(code int) {
	t.once.Do(t.done)
	t.ResponseWriter.WriteHeader(code)
}

func (t *trackedWriter) Write(b []byte) (int, error) {
	t.once.Do(t.done)
	return t.ResponseWriter.Write(b)
}

// Hijack passes a hijack on, for the fault that drops the connection.
func (t *trackedWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	t.once.Do(t.done)
	hj, ok := t.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("the response writer cannot be hijacked")
	}
	return hj.Hijack()
}

// Flush passes a flush on, for the faults that send part of an answer.
func (t *trackedWriter) Flush() {
	t.once.Do(t.done)
	if f, ok := t.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
