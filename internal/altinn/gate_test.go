package altinn

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestGateBoundsCallsAtOnce: calls made with a context carrying a gate of
// three are never more than three at once at the server, however many
// callers there are; calls without the gate are not held by it.
func TestGateBoundsCallsAtOnce(t *testing.T) {
	t.Parallel()
	var now, most atomic.Int64
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := now.Add(1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		if r.URL.Query().Get("wait") != "" {
			<-release
		}
		// Counted out before the answer goes: once the client has it, it may
		// send the next call at once.
		now.Add(-1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id":"5f9b6b3e-1f0e-4b8a-9d3c-2a1b0c9d8e7f","systemId":"s","partyOrgNo":"310000001","status":"New","confirmUrl":"https://x"}`))
	}))
	defer srv.Close()
	c := New(srv.URL, &fakeTokens{}, srv.Client())
	ctx := WithGate(context.Background(), NewGate(3))
	var wg sync.WaitGroup
	for range 12 {
		wg.Go(func() {
			_, _ = c.GetRequest(ctx, "5f9b6b3e-1f0e-4b8a-9d3c-2a1b0c9d8e7f")
		})
	}
	wg.Wait()
	if got := most.Load(); got > 3 || got < 1 {
		t.Errorf("%d calls at once through a gate of 3", got)
	}

	// A gate full of held calls does not hold a call made without it.
	most.Store(0)
	held := WithGate(context.Background(), NewGate(1))
	done := make(chan struct{})
	go func() {
		defer close(done)
		e := endpoint{method: http.MethodGet, tmpl: "x", url: srv.URL + "/x?wait=1", scope: ScopeRequestRead}
		_, _ = c.do(held, e)
	}()
	for now.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	if _, err := c.GetRequest(context.Background(), "5f9b6b3e-1f0e-4b8a-9d3c-2a1b0c9d8e7f"); err != nil {
		t.Errorf("a call without the gate: %v", err)
	}
	// A call with the full gate gives up when its context ends.
	cctx, cancel := context.WithTimeout(held, 20*time.Millisecond)
	defer cancel()
	if _, err := c.GetRequest(cctx, "5f9b6b3e-1f0e-4b8a-9d3c-2a1b0c9d8e7f"); err == nil {
		t.Error("a call waiting at a full gate did not end with its context")
	}
	close(release)
	<-done
}
