package jobs_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/db/dbtest"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/jobs"
)

// countingService counts the reconciler's calls per onboarding. No call
// ends before both instances have one under way, so jobs on the two
// instances certainly overlap (rather than hopefully, by each taking a
// moment): while the first instance's workers wait, the second fetches the
// jobs they left.
type countingService struct {
	mu      sync.Mutex
	calls   map[string]int
	working [2]bool
	both    chan struct{} // closed once both instances have a call under way
}

func newCountingService() *countingService {
	return &countingService{calls: map[string]int{}, both: make(chan struct{})}
}

func (c *countingService) call(ctx context.Context, instance int, o *domain.Onboarding) error {
	c.mu.Lock()
	if !c.working[instance] {
		c.working[instance] = true
		if c.working[0] && c.working[1] {
			close(c.both)
		}
	}
	c.mu.Unlock()
	select {
	case <-c.both:
	case <-ctx.Done():
		return ctx.Err()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls[o.ID]++
	return nil
}

// overlapped reports whether both instances have had a call under way at once.
func (c *countingService) overlapped() bool {
	select {
	case <-c.both:
		return true
	default:
		return false
	}
}

// instanceService is the service as one instance's reconciler sees it.
type instanceService struct {
	*countingService
	instance int
}

func (s instanceService) Refresh(ctx context.Context, o *domain.Onboarding, _ domain.Cause, _ string) error {
	return s.call(ctx, s.instance, o)
}

func (s instanceService) Continue(ctx context.Context, o *domain.Onboarding, _ domain.Cause, _ string) error {
	return s.call(ctx, s.instance, o)
}

func (c *countingService) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.calls))
	for k, v := range c.calls {
		out[k] = v
	}
	return out
}

// TestSweepOnTwoInstances runs the real River client twice on one database,
// as two `onboard serve` processes do, and shows the periodic sweep finding
// every due onboarding and each being reconciled exactly once. Each instance
// runs at most Workers of the 2 × Workers reconcile slots, so the calls
// cannot end (the fake holds them until both instances have one under way)
// unless both instances reconcile at once.
func TestSweepOnTwoInstances(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	u := dbtest.NewURL(t)
	seed, err := db.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer seed.Close()

	past, future := time.Now().Add(-time.Minute), time.Now().Add(time.Hour)
	var due, notDue []string
	for i := range 45 {
		org := fmt.Sprintf("9%08d", i)
		next := &past
		switch {
		case i >= 40:
			next = nil // final
		case i >= 30:
			next = &future
		}
		o, err := seed.CreateOnboarding(ctx, db.NewOnboarding{Ref: fmt.Sprintf("ref-sweep-%012d", i), Product: "standard",
			Kind: "standard", SystemID: "991825827_smartcloud", OrgNo: org, ExternalRef: org, Lang: "nb",
			Cause: domain.CauseCustomer, NextCheckAt: next})
		if err != nil {
			t.Fatal(err)
		}
		if i < 30 {
			due = append(due, o.ID)
		} else {
			notDue = append(notDue, o.ID)
		}
	}

	svc := newCountingService()
	for instance := range 2 {
		d, err := db.Open(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(d.Close)
		client, err := jobs.NewClient(jobs.Config{
			DB: d, Onboardings: instanceService{svc, instance}, Schedule: jobs.Schedule{Waiting: []time.Duration{time.Hour}, Connected: 24 * time.Hour},
			SweepInterval: time.Second, OpTimeout: time.Second, Workers: 4, StopTimeout: 5 * time.Second,
			FetchPollInterval: 200 * time.Millisecond, TestOnly: true,
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := client.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := client.Stop(sctx); err != nil {
				t.Errorf("stop: %v", err)
			}
		})
	}

	deadline := time.Now().Add(30 * time.Second)
	for len(svc.snapshot()) < len(due) {
		if time.Now().After(deadline) {
			t.Fatalf("after 30 s only %d of %d due onboardings were reconciled (both instances working at once: %v)",
				len(svc.snapshot()), len(due), svc.overlapped())
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Two more sweeps run to the end, and every reconcile batch they
	// started has run: anything reconciled twice, or not due, shows now.
	count := func(q string) int {
		var n int
		if err := seed.Pool.QueryRow(ctx, q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	const sweeps = `SELECT count(*) FROM river_job WHERE kind = 'reconcile_sweep' AND state = 'completed'`
	swept := count(sweeps)
	for count(sweeps) < swept+2 ||
		count(`SELECT count(*) FROM river_job WHERE kind IN ('reconcile', 'reconcile_batch') AND state NOT IN ('completed', 'cancelled', 'discarded')`) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("after 30 s, %d more sweeps have completed, not two, or reconcile jobs are still queued", count(sweeps)-swept)
		}
		time.Sleep(100 * time.Millisecond)
	}
	calls := svc.snapshot()
	for _, id := range due {
		if calls[id] != 1 {
			t.Errorf("due onboarding %s reconciled %d times, want once", id, calls[id])
		}
	}
	for _, id := range notDue {
		if calls[id] != 0 {
			t.Errorf("onboarding %s, not due or final, reconciled %d times", id, calls[id])
		}
	}
	// The fake saved nothing, so the worker set the next look from the schedule.
	var left int
	if err := seed.Pool.QueryRow(ctx, `SELECT count(*) FROM onboardings WHERE next_check_at <= now() + interval '50 minutes'`).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Fatalf("%d onboardings are due again within the hour; the schedule says an hour", left)
	}
}
