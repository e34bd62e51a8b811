package campaigns

import (
	"fmt"
	"testing"
	"time"
)

// TestLimiterSpacesStartsAcrossRuns: a campaign's starts are spaced evenly
// (no burst beyond one), the limiter is the same across runs in a process,
// and a changed rate takes effect on the next run.
func TestLimiterSpacesStartsAcrossRuns(t *testing.T) {
	t.Parallel()
	r := &Runner{}
	first := r.limiter("c1", 10)
	var delays []time.Duration
	for range 3 {
		delays = append(delays, first.Reserve().Delay())
	}
	// The next run gets the same limiter, so its first start queues behind
	// the last run's rather than starting a burst.
	again := r.limiter("c1", 10)
	if again != first {
		t.Fatal("a second run of the campaign got a new limiter")
	}
	delays = append(delays, again.Reserve().Delay())
	for i, d := range delays {
		want := time.Duration(i) * 100 * time.Millisecond
		if d < want-10*time.Millisecond || d > want+10*time.Millisecond {
			t.Errorf("start %d waits %v, want about %v (evenly spaced at 10 a second)", i, d, want)
		}
	}
	if other := r.limiter("c2", 10); other == first || other.Reserve().Delay() != 0 {
		t.Error("another campaign shares the first one's limiter")
	}
	if got := r.limiter("c1", 2).Limit(); got != 2 {
		t.Errorf("limit after a rate change: %v, want 2", got)
	}
}

// TestLimiterCatchUp: up to 200 a second the burst is one (starts evenly
// spaced); above, a turn missed by a late sender may be made up, within
// 5 ms of starts.
func TestLimiterCatchUp(t *testing.T) {
	t.Parallel()
	r := &Runner{}
	for _, c := range []struct {
		rate  float64
		burst int
	}{{0.01, 1}, {5, 1}, {200, 1}, {1000, 5}, {10000, 50}} {
		if got := r.limiter(fmt.Sprint(c.rate), c.rate).Burst(); got != c.burst {
			t.Errorf("burst at %g a second: %d, want %d", c.rate, got, c.burst)
		}
	}
	if got := r.limiter("c", 1000).Burst(); got != 5 {
		t.Fatalf("burst %d", got)
	}
	if got := r.limiter("c", 100).Burst(); got != 1 {
		t.Errorf("burst after the rate went down to 100: %d, want 1", got)
	}
}
