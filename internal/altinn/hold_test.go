package altinn

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestRetryAfterHoldsCalls: a 429 or 5xx with Retry-After holds every call
// back until it passes; nothing reaches the server meanwhile.
func TestRetryAfterHoldsCalls(t *testing.T) {
	for _, tt := range []struct {
		name       string
		status     int
		retryAfter string
		hold       time.Duration // 0: no hold
	}{
		{"429 seconds", 429, "30", 30 * time.Second},
		{"503 seconds", 503, "5", 5 * time.Second},
		{"429 without Retry-After", 429, "", 0},
		{"400 with Retry-After is no hold", 400, "30", 0},
		{"429 of a week is capped", 429, "604800", MaxHold},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var hits atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if hits.Add(1) == 1 {
					if tt.retryAfter != "" {
						w.Header().Set("Retry-After", tt.retryAfter)
					}
					w.WriteHeader(tt.status)
					return
				}
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(requestJSON))
			}))
			defer srv.Close()
			var mu sync.Mutex
			now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
			c := New(srv.URL, &fakeTokens{}, srv.Client())
			c.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
			advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }

			if _, err := c.GetRequest(t.Context(), requestID); !errors.Is(err, ErrUnavailable) && tt.status >= 429 {
				t.Fatalf("first call: %v, want ErrUnavailable", err)
			}
			if tt.hold == 0 {
				if !c.NotBefore().IsZero() {
					t.Fatalf("held until %v, want no hold", c.NotBefore())
				}
				if _, err := c.GetRequest(t.Context(), requestID); err != nil || hits.Load() != 2 {
					t.Fatalf("second call: %v after %d hits, want it sent and answered", err, hits.Load())
				}
				return
			}
			if got := c.NotBefore().Sub(now); got != tt.hold {
				t.Fatalf("hold = %v, want %v", got, tt.hold)
			}
			advance(tt.hold - time.Second)
			_, err := c.GetRequest(t.Context(), requestID)
			var held *HeldError
			if !errors.As(err, &held) || !errors.Is(err, ErrHeld) || !errors.Is(err, ErrUnavailable) || held.Op != "GET request/vendor/{id}" {
				t.Fatalf("call during the hold: %v, want a HeldError that is ErrHeld and ErrUnavailable", err)
			}
			if _, _, err := c.CreateRequest(t.Context(), CreateRequest{SystemID: systemID, PartyOrgNo: orgNo}); !errors.Is(err, ErrHeld) {
				t.Fatalf("a create during the hold: %v, want it held too", err)
			}
			if n := hits.Load(); n != 1 {
				t.Fatalf("the server got %d calls, want 1: nothing is sent during the hold", n)
			}
			advance(time.Second)
			if _, err := c.GetRequest(t.Context(), requestID); err != nil {
				t.Fatalf("after the hold: %v", err)
			}
			if hits.Load() != 2 || !c.NotBefore().IsZero() {
				t.Fatalf("after the hold: %d hits, held until %v", hits.Load(), c.NotBefore())
			}
		})
	}
}

// TestRetryAfterHoldsCallsWaitingAtTheGate: calls that were already waiting
// for a turn at a campaign's gate when a 429 with Retry-After came back are
// held as a call made after it is: none reaches the server until the hold
// ends (they had passed the hold's first check before the 429 was known).
func TestRetryAfterHoldsCallsWaitingAtTheGate(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	first := make(chan struct{}) // the first call is at the server
	answer := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch hits.Add(1) {
		case 1:
			close(first)
			<-answer
			w.Header().Set("Retry-After", "60")
			w.WriteHeader(http.StatusTooManyRequests)
		default:
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(requestJSON))
		}
	}))
	defer srv.Close()
	var mu sync.Mutex
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tokens := &fakeTokens{}
	c := New(srv.URL, tokens, srv.Client())
	c.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }

	const callers = 5
	ctx := WithGate(t.Context(), NewGate(1))
	errs := make(chan error, callers)
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			_, err := c.GetRequest(ctx, requestID)
			errs <- err
		})
	}
	// Every caller has asked for its token, so has passed the check made
	// before it, and the first is at the server holding the gate's turn:
	// the other four wait at the gate (or are about to).
	<-first
	for {
		if asked, _ := tokens.calls(); len(asked) == callers {
			break
		}
		time.Sleep(time.Millisecond)
	}
	close(answer)
	wg.Wait()
	close(errs)
	var held int
	for err := range errs {
		if errors.Is(err, ErrHeld) {
			held++
		}
	}
	if n := hits.Load(); n != 1 {
		t.Fatalf("the server got %d calls, want 1: the calls waiting at the gate are sent after the 429", n)
	}
	if held != callers-1 {
		t.Fatalf("%d calls held, want %d", held, callers-1)
	}

	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()
	if _, err := c.GetRequest(ctx, requestID); err != nil || hits.Load() != 2 {
		t.Fatalf("after the hold: %v, %d hits; want the call sent", err, hits.Load())
	}
}
