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

// hookStore is a batch's store with hooks around its claims and give-backs.
type hookStore struct {
	*db.DB
	afterClaim   func(ctx context.Context) error // its error is the claim's
	afterRelease func()
}

func (s *hookStore) ClaimDueOnboardings(ctx context.Context, now, until time.Time, limit int) ([]*domain.Onboarding, error) {
	os, err := s.DB.ClaimDueOnboardings(context.WithoutCancel(ctx), now, until, limit)
	if err == nil && s.afterClaim != nil {
		if herr := s.afterClaim(ctx); herr != nil {
			return nil, herr
		}
	}
	return os, err
}

func (s *hookStore) ReleaseClaims(ctx context.Context, ids []string, until, at time.Time) error {
	err := s.DB.ReleaseClaims(ctx, ids, until, at)
	if s.afterRelease != nil {
		s.afterRelease()
	}
	return err
}

// slowService holds every reconcile until unblock is closed (or its own
// context ends: the reconcile's timeout), as a slow Altinn does.
type slowService struct {
	started  chan string
	unblock  chan struct{}
	inFlight atomic.Int32
	mu       sync.Mutex
	calls    map[string]int
}

func (s *slowService) Refresh(ctx context.Context, o *domain.Onboarding, _ domain.Cause, _ string) error {
	s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	s.mu.Lock()
	s.calls[o.ID]++
	s.mu.Unlock()
	s.started <- o.ID
	select {
	case <-s.unblock:
		return nil
	case <-ctx.Done():
		return errors.New("a started reconcile was cut short")
	}
}

func (s *slowService) Continue(ctx context.Context, o *domain.Onboarding, c domain.Cause, a string) error {
	return s.Refresh(ctx, o, c, a)
}

// TestReconcileBatchStopGivesBackFirst: a batch stopped while its
// reconciles wait on a slow Altinn gives back the rest of its claim at once
// (due again now), while those reconciles are still under way, not after
// them: the process exits soon after a stop, and a reconcile may take
// minutes. The ones under way then finish and are not due again.
func TestReconcileBatchStopGivesBackFirst(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	past := time.Now().Add(-time.Minute)
	ids := seedDue(t, d, "slow", 10, &past)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	svc := &slowService{started: make(chan string, 10), unblock: make(chan struct{}), calls: map[string]int{}}
	type release struct {
		inFlight int32
		due      int
	}
	released := make(chan release, 4)
	store := &hookStore{DB: d, afterRelease: func() {
		inFlight := svc.inFlight.Load()
		due, err := d.CountDue(context.Background(), time.Now(), 1000)
		if err != nil {
			due = -1
		}
		released <- release{inFlight, due}
	}}
	w := batchWorker(d, svc)
	w.Store = store
	w.Concurrency, w.MaxBatch = 2, 10
	// Before the fix the give-back came only once the reconciles ended,
	// here by their own timeout; after it, the test unblocks them.
	w.One.JobTimeout = 5 * time.Second
	errc := make(chan error, 1)
	go func() { errc <- w.Work(ctx, batchJob(1, 10)) }()
	<-svc.started
	<-svc.started
	cancel()
	r := <-released
	if r.inFlight != 2 {
		t.Errorf("claims given back with %d reconciles under way, want 2: given back only after them", r.inFlight)
	}
	if r.due != 8 {
		t.Errorf("%d onboardings due now after the give-back, want the 8 not started", r.due)
	}
	close(svc.unblock)
	err := <-errc
	var snooze *rivertype.JobSnoozeError
	if !errors.As(err, &snooze) {
		t.Fatalf("Work = %v, want a snooze", err)
	}
	svc.mu.Lock()
	defer svc.mu.Unlock()
	n := 0
	for _, id := range ids {
		n += svc.calls[id]
	}
	if n != 2 {
		t.Fatalf("%d reconciles, want the 2 under way at the stop", n)
	}
	// The two seen through set their next check (an hour on): the 8 given
	// back are all that is due.
	if got := countDue(t, d, time.Now().Add(3*time.Minute)); got != 8 {
		t.Fatalf("%d due after the batch, want the 8 given back", got)
	}
}

// TestReconcileBatchStopDuringClaim: a stop that lands while a claim runs,
// after Postgres committed it, does not strand the claimed rows for the
// lease: the claim is not on the job's context, and the batch, finding
// itself stopped, gives the fresh claim back at once.
func TestReconcileBatchStopDuringClaim(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	past := time.Now().Add(-time.Minute)
	seedDue(t, d, "claimstop", 6, &past)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	svc := &stopService{calls: map[string]int{}, stop: func() {}}
	w := batchWorker(d, svc)
	w.Store = &hookStore{DB: d, afterClaim: func(cctx context.Context) error {
		// Committed; now the stop lands, and a driver on the cancelled
		// context reports the cancel rather than the rows.
		cancel()
		return cctx.Err()
	}}
	err := w.Work(ctx, batchJob(1, 10))
	var snooze *rivertype.JobSnoozeError
	if !errors.As(err, &snooze) {
		t.Fatalf("Work = %v, want a snooze", err)
	}
	if svc.n != 0 {
		t.Fatalf("%d reconciles after a stop during the claim, want none", svc.n)
	}
	if got := countDue(t, d, time.Now()); got != 6 {
		t.Fatalf("%d due now after the stop, want all 6 given back", got)
	}
}
