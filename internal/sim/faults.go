package sim

import (
	"bytes"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Fault makes matching calls misbehave, standing in for a network or an Altinn that
// has a bad day. A call matches when Method (any when "") and the path prefix Path (any
// when "") match; the first matching fault, in the order injected, applies. Admin
// routes under /_sim/ are never affected.
type Fault struct {
	// Method is the HTTP method to match; "" matches any.
	Method string `json:"method"`
	// Path is a path prefix to match, e.g.
	// "/authentication/api/v1/systemuser/request/vendor" or "/token".
	Path string `json:"path"`
	// Status is the status to answer with; 0 passes the call through after Latency.
	Status int `json:"status"`
	// Body is the body to answer with; its Content-Type is application/problem+json
	// when it starts with "{", text/plain otherwise.
	Body string `json:"body"`
	// Header holds extra response headers, e.g. Retry-After.
	Header map[string]string `json:"header"`
	// Latency delays the call; the delay ends early when the client gives up.
	Latency time.Duration `json:"latency"`
	// Times is how many matching calls the fault affects; 0 means until removed.
	Times int `json:"times"`
	// AfterStore handles the call for real (a create is stored) and then answers
	// with Status or Malformed instead of the real answer: the ambiguous outcome.
	// With Hang it stores and then never answers.
	AfterStore bool `json:"afterStore"`
	// Hang never answers; the call ends only when the client gives up.
	Hang bool `json:"hang"`
	// Malformed answers 200 with a body that is not valid JSON.
	Malformed bool `json:"malformed"`
}

// faultEntry is an injected fault and how many more calls it affects.
type faultEntry struct {
	id        string
	fault     Fault
	remaining int // 0 = unlimited
}

// malformedBody is cut off in the middle of a JSON object.
const malformedBody = `{"id":"3f2b6c1e-0d4a-4b8e-9c7a-5e1f2a3b4c5d","status":"New","confirmUrl":`

// Inject adds a fault and returns a function that removes it again.
func (s *Server) Inject(f Fault) (remove func()) {
	id := s.addFault(f)
	return func() { s.removeFault(id) }
}

// ClearFaults removes every injected fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// addFault stores f and returns its id.
func (s *Server) addFault(f Fault) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faultSeq++
	e := &faultEntry{id: strconv.Itoa(s.faultSeq), fault: f, remaining: f.Times}
	s.faults = append(s.faults, e)
	return e.id
}

// removeFault removes the fault with the id and reports whether it was there.
func (s *Server) removeFault(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.faults)
	s.faults = slices.DeleteFunc(s.faults, func(e *faultEntry) bool { return e.id == id })
	return len(s.faults) != n
}

// takeFault returns the first fault matching r and counts the call against it.
func (s *Server) takeFault(r *http.Request) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, e := range s.faults {
		f := e.fault
		if f.Method != "" && !strings.EqualFold(f.Method, r.Method) {
			continue
		}
		if !strings.HasPrefix(r.URL.Path, f.Path) {
			continue
		}
		if e.remaining > 0 {
			e.remaining--
			if e.remaining == 0 {
				s.faults = slices.Delete(s.faults, i, i+1)
			}
		}
		return f, true
	}
	return Fault{}, false
}

// serveWithFaults applies the first matching fault to the call, or serves it.
func (s *Server) serveWithFaults(w http.ResponseWriter, r *http.Request, next http.Handler) {
	f, ok := s.takeFault(r)
	if !ok {
		next.ServeHTTP(w, r)
		return
	}
	ctx := r.Context()
	if f.Latency > 0 || f.Hang {
		// The server notices a client that gave up only once the request body
		// has been read, so read it before waiting.
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	if f.Latency > 0 {
		t := time.NewTimer(f.Latency)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
	if f.Hang {
		if f.AfterStore {
			// Stored, and then no answer ever comes: the caller cannot
			// know, and may die waiting (the crash test kills it here).
			next.ServeHTTP(&discardWriter{header: http.Header{}}, r)
		}
		<-ctx.Done()
		return
	}
	if f.Status == 0 && !f.Malformed {
		next.ServeHTTP(w, r)
		return
	}
	if f.AfterStore {
		next.ServeHTTP(&discardWriter{header: http.Header{}}, r)
	}
	for k, v := range f.Header {
		w.Header().Set(k, v)
	}
	if f.Malformed {
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
		}
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(malformedBody))
		return
	}
	if f.Body != "" && w.Header().Get("Content-Type") == "" {
		if strings.HasPrefix(f.Body, "{") {
			w.Header().Set("Content-Type", "application/problem+json; charset=utf-8")
		} else {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		}
	}
	w.WriteHeader(f.Status)
	_, _ = w.Write([]byte(f.Body))
}

// discardWriter is a ResponseWriter that throws the answer away, for AfterStore.
type discardWriter struct {
	header http.Header
}

// Header returns the headers the handler sets; they are thrown away.
func (d *discardWriter) Header() http.Header { return d.header }

// Write throws b away.
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }

// WriteHeader throws the status away.
func (d *discardWriter) WriteHeader(int) {}
