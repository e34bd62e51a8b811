package altinn

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// opRecorder is an http.RoundTripper under a client, as the service's
// metrics transport is: it keeps Operation of every request it carries and
// answers each with the next status of statuses (the last one repeats).
type opRecorder struct {
	mu       sync.Mutex
	statuses []int
	ops      []string
	paths    []string
}

func (r *opRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	status := r.statuses[min(len(r.ops), len(r.statuses)-1)]
	r.ops = append(r.ops, Operation(req))
	r.paths = append(r.paths, req.URL.Path)
	return &http.Response{StatusCode: status, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("")), Request: req}, nil
}

func (r *opRecorder) seen() (ops, paths []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.ops...), append([]string(nil), r.paths...)
}

// TestOperationNamesEveryCall: a transport under the client sees each call
// named as the onboarding's timeline names it, never with the ids or the
// organisation number of its path; a 401's retry is a second call of the
// same name, and a request the client did not make is "other".
func TestOperationNamesEveryCall(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const id, org, sys = "0f8d2c1e-0000-4000-8000-000000000001", "314248295", "991825827_smartcloud"
	tests := []struct {
		want string
		call func(c *Client, m *Metadata) error
	}{
		{"POST request/vendor", func(c *Client, _ *Metadata) error {
			_, _, err := c.CreateRequest(ctx, CreateRequest{SystemID: sys, PartyOrgNo: org})
			return err
		}},
		{"POST request/vendor/agent", func(c *Client, _ *Metadata) error {
			_, _, err := c.CreateAgentRequest(ctx, CreateAgentRequest{SystemID: sys, PartyOrgNo: org})
			return err
		}},
		{"GET request/vendor/{id}", func(c *Client, _ *Metadata) error { _, err := c.GetRequest(ctx, id); return err }},
		{"GET request/vendor/agent/{id}", func(c *Client, _ *Metadata) error { _, err := c.GetAgentRequest(ctx, id); return err }},
		{"GET request/vendor/byexternalref", func(c *Client, _ *Metadata) error {
			_, err := c.GetRequestByExternalRef(ctx, sys, org, "")
			return err
		}},
		{"GET request/vendor/agent/byexternalref", func(c *Client, _ *Metadata) error {
			_, err := c.GetAgentRequestByExternalRef(ctx, sys, org, "ext-1")
			return err
		}},
		{"DELETE request/vendor/{id}", func(c *Client, _ *Metadata) error { return c.DeleteRequest(ctx, id) }},
		{"GET systemuser/vendor/byquery", func(c *Client, _ *Metadata) error {
			_, err := c.SystemUserByQuery(ctx, sys, org, "")
			return err
		}},
		{"GET systemuser/vendor/bysystem/{systemId}", func(c *Client, _ *Metadata) error {
			_, err := c.ListSystemUsers(ctx, sys)
			return err
		}},
		{"POST changerequest/vendor", func(c *Client, _ *Metadata) error {
			_, _, err := c.CreateChangeRequest(ctx, CreateChangeRequest{CorrelationID: id, SystemUserID: id})
			return err
		}},
		{"GET changerequest/vendor/{id}", func(c *Client, _ *Metadata) error { _, err := c.GetChangeRequest(ctx, id); return err }},
		{"DELETE changerequest/vendor/{id}", func(c *Client, _ *Metadata) error { return c.DeleteChangeRequest(ctx, id) }},
		{"GET systemregister/vendor", func(c *Client, _ *Metadata) error { _, err := c.ListSystems(ctx); return err }},
		{"GET accesspackages/package/urn/{urn}", func(_ *Client, m *Metadata) error {
			_, err := m.Package(ctx, "urn:altinn:accesspackage:skatt-naering")
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			rec := &opRecorder{statuses: []int{http.StatusNotFound}}
			hc := &http.Client{Transport: rec}
			c, m := New("https://platform.altinn.example", &fakeTokens{}, hc), NewMetadata("https://platform.altinn.example", hc)
			if err := tt.call(c, m); err == nil {
				t.Fatal("a 404 answered without an error")
			}
			ops, paths := rec.seen()
			if len(ops) != 1 || ops[0] != tt.want {
				t.Fatalf("the transport saw %v, want one %q", ops, tt.want)
			}
			for _, secret := range []string{id, org} {
				if strings.Contains(ops[0], secret) {
					t.Errorf("operation %q carries %s (path %s)", ops[0], secret, paths[0])
				}
			}
		})
	}

	t.Run("a 401 and its retry", func(t *testing.T) {
		t.Parallel()
		rec := &opRecorder{statuses: []int{http.StatusUnauthorized, http.StatusNoContent}}
		c := New("https://platform.altinn.example", &fakeTokens{}, &http.Client{Transport: rec})
		if err := c.DeleteRequest(ctx, id); err != nil {
			t.Fatal(err)
		}
		if ops, _ := rec.seen(); len(ops) != 2 || ops[0] != "DELETE request/vendor/{id}" || ops[1] != ops[0] {
			t.Fatalf("the transport saw %v, want the call and its retry", ops)
		}
	})

	t.Run("not the client's", func(t *testing.T) {
		t.Parallel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://platform.altinn.example/other", nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := Operation(req); got != "other" {
			t.Fatalf("Operation = %q, want other", got)
		}
	})
}

// wrapped is a RoundTripper the standard library's http.Client does not
// know, as the service's metrics transport is.
type wrapped struct{ rt http.RoundTripper }

func (w wrapped) RoundTrip(req *http.Request) (*http.Response, error) { return w.rt.RoundTrip(req) }

// TestTimeoutUnderAWrappedTransport: the http.Client's Timeout still bounds
// a call that hangs when a transport the standard library does not know
// carries it, and the failure says a deadline passed (what staff read on
// the onboarding), for the vendor API and the metadata alike.
func TestTimeoutUnderAWrappedTransport(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	hc := &http.Client{Timeout: 100 * time.Millisecond, Transport: wrapped{http.DefaultTransport}}
	calls := map[string]func() error{
		"vendor API": func() error {
			_, err := New(srv.URL, &fakeTokens{}, hc).GetRequest(context.Background(), "0f8d2c1e-0000-4000-8000-000000000001")
			return err
		},
		"metadata": func() error {
			_, err := NewMetadata(srv.URL, hc).Package(context.Background(), "skatt-naering")
			return err
		},
	}
	for name, call := range calls {
		start := time.Now()
		err := call()
		if took := time.Since(start); took > 5*time.Second {
			t.Fatalf("%s: the call took %v: the timeout did not bound it", name, took)
		}
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "deadline") {
			t.Errorf("%s: err = %v, want a deadline exceeded", name, err)
		}
	}
	if hc.Timeout != 100*time.Millisecond {
		t.Errorf("the caller's http.Client was changed: Timeout %v", hc.Timeout)
	}
}
