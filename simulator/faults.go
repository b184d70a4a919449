package simulator

import (
	"net/http"
	"strconv"
	"time"
)

// Fault is a misbehaviour the simulator shows on the requests it applies to.
// Several fields may be combined; the zero Fault changes nothing.
type Fault struct {
	// Times is how many requests the fault applies to; 0 means until cleared.
	Times int
	// Path limits the fault to the requests to this path (one kind's
	// list); empty, it applies to every request.
	Path string
	// Delay holds each answer back, as a slow API does.
	Delay time.Duration
	// Status answers with this HTTP status and Twilio's error body (with
	// Code), instead of the page.
	Status, Code int
	// RetryAfter is sent as the Retry-After header with Status.
	RetryAfter string
	// Body is sent as the whole answer, with 200, instead of the page.
	Body string
	// Drop closes the connection without an answer.
	Drop bool
	// NextPageURL replaces the page's next_page_url ("self" points it at
	// the page itself).
	NextPageURL string
	// Endless makes next_page_url never null: past the last profile, pages
	// are empty and keep pointing further.
	Endless bool
	// Oversize pads the answer with this many bytes of white space.
	Oversize int
}

// SetFault makes the simulator misbehave as f says, replacing any fault set
// before.
func (s *Server) SetFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault = &f
}

// ClearFault makes the simulator behave again.
func (s *Server) ClearFault() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault = nil
}

// takeFault returns the fault for a request to path, counting it down.
func (s *Server) takeFault(path string) Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fault == nil || (s.fault.Path != "" && s.fault.Path != path) {
		return Fault{}
	}
	f := *s.fault
	if s.fault.Times > 0 {
		s.fault.Times--
		if s.fault.Times == 0 {
			s.fault = nil
		}
	}
	return f
}

// applyBefore acts out the parts of f that replace the answer; it reports
// whether the request is answered.
func applyBefore(w http.ResponseWriter, r *http.Request, f Fault) bool {
	if f.Delay > 0 {
		select {
		case <-time.After(f.Delay):
		case <-r.Context().Done():
			return true
		}
	}
	switch {
	case f.Drop:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return true
			}
		}
		panic(http.ErrAbortHandler) // without hijacking, abort the answer
	case f.Status != 0:
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		writeError(w, f.Status, f.Code, http.StatusText(f.Status))
		return true
	case f.Body != "":
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(f.Body)))
		_, _ = w.Write([]byte(f.Body))
		return true
	}
	return false
}
