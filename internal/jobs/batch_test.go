package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/db/dbtest"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/jobs"
)

var orgSeq atomic.Int64

// seedDue creates due onboardings (pending, due a minute ago) and returns
// their ids.
func seedDue(t *testing.T, d *db.DB, prefix string, n int, next *time.Time) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range n {
		org := fmt.Sprintf("8%08d", orgSeq.Add(1))
		o, err := d.CreateOnboarding(context.Background(), db.NewOnboarding{Ref: fmt.Sprintf("ref-%s-%012d", prefix, i), Product: "standard",
			Kind: "standard", SystemID: "991825827_smartcloud", OrgNo: org, ExternalRef: org, Lang: "nb",
			Cause: domain.CauseCustomer, NextCheckAt: next})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = o.ID
	}
	return ids
}

func batchWorker(d *db.DB, svc jobs.Onboardings) *jobs.ReconcileBatchWorker {
	return &jobs.ReconcileBatchWorker{
		One: &jobs.ReconcileWorker{Store: d, Onboardings: svc, SettleAfter: time.Minute,
			Schedule: jobs.Schedule{Waiting: []time.Duration{time.Hour}, Connected: 24 * time.Hour}, JobTimeout: 10 * time.Second},
		Store: d, Lease: 10 * time.Minute, MaxBatch: 5, Concurrency: 3, Budget: time.Minute,
	}
}

func batchJob(id int64, limit int) *river.Job[jobs.ReconcileBatchArgs] {
	return &river.Job[jobs.ReconcileBatchArgs]{JobRow: &rivertype.JobRow{ID: id}, Args: jobs.ReconcileBatchArgs{Limit: limit}}
}

func countDue(t *testing.T, d *db.DB, at time.Time) int {
	t.Helper()
	n, err := d.CountDue(context.Background(), at, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestReconcileBatchesClaimEachOnce runs two batch jobs at once on one
// database, each with its own pool, as two instances do: every due
// onboarding is reconciled exactly once between them, nothing else is, and
// both took part (the fake holds each call until both have one under way).
func TestReconcileBatchesClaimEachOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	u := dbtest.NewURL(t)
	seed, err := db.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer seed.Close()
	past, future := time.Now().Add(-time.Minute), time.Now().Add(time.Hour)
	due := seedDue(t, seed, "due", 40, &past)
	later := seedDue(t, seed, "later", 3, &future)

	svc := newCountingService()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for instance := range 2 {
		d, err := db.Open(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(d.Close)
		w := batchWorker(d, instanceService{svc, instance})
		wg.Go(func() { errs[instance] = w.Work(ctx, batchJob(int64(instance+1), 2)) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
	}
	if !svc.overlapped() {
		t.Fatal("the two batches never had a call under way at once")
	}
	calls := svc.snapshot()
	for _, id := range due {
		if calls[id] != 1 {
			t.Errorf("due onboarding %s reconciled %d times, want once", id, calls[id])
		}
	}
	for _, id := range later {
		if calls[id] != 0 {
			t.Errorf("onboarding %s, not due, reconciled %d times", id, calls[id])
		}
	}
	// The fake saved nothing, so each reconcile set the next look from the
	// schedule: an hour on, not the lease.
	if n := countDue(t, seed, time.Now().Add(50*time.Minute)); n != 0 {
		t.Fatalf("%d onboardings are due within the hour after the batches; the schedule says an hour", n)
	}
}

// stopService reconciles as the fake does and, on its stopAt-th call, stops
// the batch (cancels its job's context, or spends its budget).
type stopService struct {
	mu     sync.Mutex
	calls  map[string]int
	n      int
	stopAt int
	stop   func()
	failID string
}

func (s *stopService) Refresh(ctx context.Context, o *domain.Onboarding, _ domain.Cause, _ string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ctx.Err() != nil {
		return errors.New("a started reconcile was cut short")
	}
	s.calls[o.ID]++
	s.n++
	if s.n == s.stopAt {
		s.stop()
	}
	if o.ID == s.failID {
		return errors.New("db down")
	}
	return nil
}

func (s *stopService) Continue(ctx context.Context, o *domain.Onboarding, c domain.Cause, a string) error {
	return s.Refresh(ctx, o, c, a)
}

// TestReconcileBatchStops: a batch stopped mid-claim (its job's context
// ended, or its budget spent) starts no more reconciles, sees through the
// one under way, gives back the rest of its claim (due again at once) and
// snoozes. The ones it reconciled are not due again.
func TestReconcileBatchStops(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"stopped", "budget"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			d := dbtest.New(t)
			past := time.Now().Add(-time.Minute)
			ids := seedDue(t, d, "stop-"+how, 10, &past)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var clock sync.Mutex
			skew := time.Duration(0)
			svc := &stopService{calls: map[string]int{}, stopAt: 3}
			w := batchWorker(d, svc)
			w.Concurrency, w.MaxBatch = 1, 10
			w.Now = func() time.Time { clock.Lock(); defer clock.Unlock(); return time.Now().Add(skew) }
			w.One.Now = w.Now
			svc.stop = cancel
			if how == "budget" {
				svc.stop = func() { clock.Lock(); skew = 2 * time.Minute; clock.Unlock() }
			}
			err := w.Work(ctx, batchJob(1, 10))
			var snooze *rivertype.JobSnoozeError
			if !errors.As(err, &snooze) {
				t.Fatalf("Work = %v, want a snooze", err)
			}
			if svc.n != 3 {
				t.Fatalf("%d reconciles, want 3: none started after the stop", svc.n)
			}
			if got := countDue(t, d, time.Now().Add(3*time.Minute)); got != 7 {
				t.Fatalf("%d onboardings due after the stop, want the 7 given back", got)
			}
			for _, id := range ids {
				if svc.calls[id] > 1 {
					t.Fatalf("onboarding %s reconciled %d times", id, svc.calls[id])
				}
			}
		})
	}
}

// TestReconcileBatchOneFails: one onboarding failing is not the batch's
// failure; the rest are reconciled, the batch ends when none are due, and
// the failed one is due again after RetryAfter.
func TestReconcileBatchOneFails(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	past := time.Now().Add(-time.Minute)
	ids := seedDue(t, d, "fail", 7, &past)
	svc := &stopService{calls: map[string]int{}, failID: ids[2], stop: func() {}}
	w := batchWorker(d, svc)
	w.RetryAfter = 5 * time.Minute
	if err := w.Work(context.Background(), batchJob(1, 1)); err != nil {
		t.Fatalf("Work = %v, want nil: one failure is not the batch's", err)
	}
	for _, id := range ids {
		if svc.calls[id] != 1 {
			t.Errorf("onboarding %s reconciled %d times, want once", id, svc.calls[id])
		}
	}
	// The failed one is due again after RetryAfter; the rest at the
	// schedule's hour.
	if got := countDue(t, d, time.Now().Add(4*time.Minute)); got != 0 {
		t.Fatalf("%d due within 4 minutes, want none", got)
	}
	o, err := d.OnboardingByID(context.Background(), ids[2])
	if err != nil {
		t.Fatal(err)
	}
	if got := countDue(t, d, time.Now().Add(6*time.Minute)); got != 1 || o.NextCheckAt == nil || time.Until(*o.NextCheckAt) > 6*time.Minute {
		t.Fatalf("%d due within 6 minutes (the failed one's next check %v), want the failed one", got, o.NextCheckAt)
	}
}

// TestReconcileBatchCrash: a batch that claimed and then died (no give-back)
// leaves what it had not reconciled leased, due again when the lease ends,
// and the next claim then takes it.
func TestReconcileBatchCrash(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	past := time.Now().Add(-time.Minute)
	seedDue(t, d, "crash", 6, &past)
	now := time.Now()
	claimed, err := d.ClaimDueOnboardings(ctx, now, now.Add(10*time.Minute), 4)
	if err != nil || len(claimed) != 4 {
		t.Fatalf("claim: %d, %v", len(claimed), err)
	}
	// The instance dies here.
	if got := countDue(t, d, now); got != 2 {
		t.Fatalf("%d due while the claim holds, want the 2 unclaimed", got)
	}
	later := now.Add(11 * time.Minute)
	if got := countDue(t, d, later); got != 6 {
		t.Fatalf("%d due after the lease, want all 6", got)
	}
	again, err := d.ClaimDueOnboardings(ctx, later, later.Add(10*time.Minute), 10)
	if err != nil || len(again) != 6 {
		t.Fatalf("claim after the lease: %d, %v; want all 6", len(again), err)
	}
}

// TestReconcileSlotUnique: a slot is unique by its number while it waits or
// runs, whatever first claim a later sweep would give it, so sweeps never
// start one slot twice.
func TestReconcileSlotUnique(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	client, err := jobs.NewClient(jobs.Config{DB: d, Onboardings: &fakeService{}, SweepInterval: time.Second,
		OpTimeout: time.Second, Workers: 2, TestOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	first, err := client.Insert(ctx, jobs.ReconcileBatchArgs{Slot: 0, Limit: 5}, nil)
	if err != nil || first.UniqueSkippedAsDuplicate {
		t.Fatalf("first slot 0: %v, skipped %v", err, first != nil && first.UniqueSkippedAsDuplicate)
	}
	if first.Job.Queue != jobs.ReconcileQueue {
		t.Fatalf("slot in queue %q, want %q", first.Job.Queue, jobs.ReconcileQueue)
	}
	again, err := client.Insert(ctx, jobs.ReconcileBatchArgs{Slot: 0, Limit: 50}, nil)
	if err != nil || !again.UniqueSkippedAsDuplicate {
		t.Fatalf("slot 0 again with another limit: %v, skipped %v; want skipped", err, again != nil && again.UniqueSkippedAsDuplicate)
	}
	other, err := client.Insert(ctx, jobs.ReconcileBatchArgs{Slot: 1, Limit: 5}, nil)
	if err != nil || other.UniqueSkippedAsDuplicate {
		t.Fatalf("slot 1: %v, skipped %v; want a job of its own", err, other != nil && other.UniqueSkippedAsDuplicate)
	}
}
