package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
)

// ReconcileQueue is the queue of the reconcile batches: a queue of their own,
// so a backlog of webhooks or mail never waits behind them, nor they behind it.
const ReconcileQueue = "reconcile"

// PerBatch is how many onboardings one reconcile batch job reconciles at
// once (its Altinn calls in flight). An instance runs Workers batch jobs at
// once, so Workers × PerBatch calls (10 × 8 by default).
const PerBatch = 8

// ReconcileBatchArgs is one slot of the reconciliation: a job that claims
// due onboardings a batch at a time (db.ClaimDueOnboardings: the claim moves
// their next check on by the lease, with SKIP LOCKED, so no two claimers
// ever hold one onboarding) and reconciles each, PerBatch at once, until none
// are due or its budget is spent. The sweep starts as many slots as the due
// onboardings need, up to twice Workers; a slot is unique while it waits or
// runs, so sweeps never start it twice.
type ReconcileBatchArgs struct {
	Slot int `json:"slot" river:"unique"`
	// Limit is the first claim's size: the due onboardings shared out over
	// the slots the sweep started. It doubles while claims come back full,
	// up to the worker's MaxBatch.
	Limit int `json:"limit"`
}

// Kind is the job's stable name in river_job.
func (ReconcileBatchArgs) Kind() string { return "reconcile_batch" }

// InsertOpts puts the batch in the reconcile queue, unique per slot while
// live (only Slot counts). A failed claim is retried; a failed reconcile of
// one onboarding is not the batch's failure (see RetryAfter).
func (ReconcileBatchArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		Queue:       ReconcileQueue,
		MaxAttempts: 3,
		UniqueOpts:  river.UniqueOpts{ByArgs: true, ByState: liveStates},
	}
}

// claimTimeout bounds one claim and one give-back. A claim is not cut short
// by the job's stop (a claim Postgres committed while the caller gave up
// would leave its rows leased for the whole lease), so this is what bounds
// it instead.
const claimTimeout = 5 * time.Second

// claimFresh is how long a claimed row is reconciled as claimed. One that
// waited longer for a free goroutine, and any whose reconcile may create a
// request at Altinn (Continue), is read again first: staff may have
// cancelled it meanwhile, and a create from the claimed copy would make a
// request nobody wants (its save failing as stale only afterwards).
const claimFresh = time.Second

// BatchStore is what a reconcile batch claims and gives back with.
type BatchStore interface {
	ClaimDueOnboardings(ctx context.Context, now, until time.Time, limit int) ([]*domain.Onboarding, error)
	ReleaseClaims(ctx context.Context, ids []string, until, at time.Time) error
}

// ReconcileBatchWorker works reconcile slots. Each claimed onboarding is
// reconciled as a ReconcileWorker job would reconcile it (One: the same
// rules, the same next check), straight from the claimed row, with the
// batch job as its actor. Once an onboarding's reconcile has started it is
// seen through, even when the job is stopped; claimed onboardings not yet
// started when the budget ends or the job is stopped are given back (due
// again at once), and a crash leaves them leased, due again when the lease
// ends. Either way each is reconciled once per claim, never twice at once.
type ReconcileBatchWorker struct {
	river.WorkerDefaults[ReconcileBatchArgs]

	One   *ReconcileWorker
	Store BatchStore
	// Lease is how long a claim holds an onboarding: longer than Budget
	// plus one reconcile, so a live batch never loses what it claimed.
	Lease time.Duration
	// MaxBatch bounds one claim; Concurrency is how many of a claim are
	// reconciled at once (PerBatch).
	MaxBatch, Concurrency int
	// Budget is how long one run claims new batches; then the job snoozes
	// (is made available again at once), so the slots of a long backlog
	// move between instances and River's stuck-job rescue never sees a
	// long run.
	Budget time.Duration
	// JobTimeout bounds one run: Budget plus one reconcile's time.
	JobTimeout time.Duration
	// RetryAfter is when an onboarding whose reconcile failed (its save,
	// say: Altinn down is recorded, not a failure) is due again; 0 leaves
	// the next check the reconcile set. A reconcile job would be retried by
	// River; a batch does not retry, so that one failing for good costs a
	// call every RetryAfter, not a loop.
	RetryAfter time.Duration
	Now        func() time.Time
	Log        *slog.Logger
}

// Timeout is the worker's job timeout.
func (w *ReconcileBatchWorker) Timeout(*river.Job[ReconcileBatchArgs]) time.Duration {
	return w.JobTimeout
}

// Work claims and reconciles batches until none are due, then ends; when its
// budget is spent first, or the job is stopped, it snoozes. Concurrency
// goroutines reconcile what the claims hand them, for the whole run. Once
// claims are at MaxBatch, the next claim is made as soon as the last of one
// is handed over, so the calls in flight never wait for a claim's slowest.
func (w *ReconcileBatchWorker) Work(ctx context.Context, job *river.Job[ReconcileBatchArgs]) error {
	actor := "job " + strconv.FormatInt(job.ID, 10)
	maxBatch := max(w.MaxBatch, 1)
	limit := min(max(job.Args.Limit, 1), maxBatch)
	end := w.now().Add(w.Budget)
	stopped := func() bool { return ctx.Err() != nil || !w.now().Before(end) }

	next := make(chan claimed)
	var (
		wg sync.WaitGroup
		// deciding counts the claims handed over whose goroutine has not
		// yet decided to start them or leave them (a stop came): a wait on
		// it is short, never a reconcile's time.
		deciding sync.WaitGroup
		mu       sync.Mutex
		left     []claimed // claimed, not started
	)
	for range max(w.Concurrency, 1) {
		wg.Go(func() {
			for c := range next {
				if stopped() {
					// Handed over as the stop came: not started.
					mu.Lock()
					left = append(left, c)
					mu.Unlock()
					deciding.Done()
				} else {
					deciding.Done()
					w.one(ctx, c.o, c.at, actor)
				}
				c.done.Done()
			}
		})
	}
	// finish gives back what was claimed and not started, then waits for
	// the reconciles under way; then the job snoozes. The give-back comes
	// first: a stop is followed by the process's exit within seconds, and a
	// slow Altinn holds a reconcile far longer (JobTimeout), so waiting for
	// them first would leave the rest of the claim leased until the lease
	// ends.
	finish := func(err error) error {
		close(next)
		deciding.Wait() // every claim handed over is started or in left
		mu.Lock()
		given := left
		mu.Unlock()
		w.release(ctx, given)
		wg.Wait()
		if err == nil && len(left) > 0 {
			err = river.JobSnooze(0)
		}
		return err
	}
	for {
		now := w.now()
		until := now.Add(w.Lease)
		// Not on the job's context: a stop that landed after Postgres
		// committed the claim would lose its rows (leased, not given back).
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), claimTimeout)
		os, err := w.Store.ClaimDueOnboardings(cctx, now, until, limit)
		cancel()
		if err != nil {
			return finish(fmt.Errorf("jobs: reconcile batch: %w", err))
		}
		var done sync.WaitGroup
		done.Add(len(os))
		for i, o := range os {
			// A job stopped while it claimed gives its claim back at once.
			if !stopped() {
				deciding.Add(1)
				select {
				case next <- claimed{o, now, until, &done}:
					continue
				case <-ctx.Done():
					deciding.Done()
				}
			}
			mu.Lock()
			for _, o := range os[i:] {
				left = append(left, claimed{o, now, until, &done})
			}
			mu.Unlock()
			return finish(river.JobSnooze(0))
		}
		if limit < maxBatch {
			// Still at its share of what the sweep counted: this claim is
			// seen through before the next, so a slot never holds more than
			// its share while the other slots (on other instances, say)
			// have not claimed theirs. At full size the next claim is made
			// while the last of this one are still under way.
			done.Wait()
		}
		if len(os) < limit {
			return finish(nil) // that was the last of the due ones
		}
		if stopped() {
			return finish(river.JobSnooze(0))
		}
		limit = min(2*limit, maxBatch)
	}
}

// claimed is one onboarding a batch claimed.
type claimed struct {
	o     *domain.Onboarding
	at    time.Time       // when it was claimed
	until time.Time       // the claim's lease, for a give-back
	done  *sync.WaitGroup // of the claim's reconciles
}

// release gives back claims not started: each is due again at once. Even
// when the job was stopped, but not for ever (claimTimeout).
func (w *ReconcileBatchWorker) release(ctx context.Context, left []claimed) {
	if len(left) == 0 {
		return
	}
	byLease := map[time.Time][]string{}
	for _, c := range left {
		byLease[c.until] = append(byLease[c.until], c.o.ID)
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), claimTimeout)
	defer cancel()
	for until, ids := range byLease {
		if rerr := w.Store.ReleaseClaims(rctx, ids, until, w.now()); rerr != nil && w.Log != nil {
			// They stay leased: due again when the lease ends.
			w.Log.WarnContext(ctx, "could not give back claimed onboardings", "onboardings", len(ids), "err", rerr)
		}
	}
}

// one reconciles o, claimed at claimedAt. Once started it is seen through:
// the job being stopped does not cut it short (its Altinn call would be
// made and not recorded). A claimed row that waited (claimFresh), or whose
// reconcile may create at Altinn, is read again first and reconciled as it
// is now, as a reconcile job reads its row right before it calls.
func (w *ReconcileBatchWorker) one(ctx context.Context, o *domain.Onboarding, claimedAt time.Time, actor string) {
	octx := context.WithoutCancel(ctx)
	if w.One.JobTimeout > 0 {
		var cancel context.CancelFunc
		octx, cancel = context.WithTimeout(octx, w.One.JobTimeout)
		defer cancel()
	}
	var err error
	if now := w.now(); now.Sub(claimedAt) >= claimFresh || w.One.continues(o, now) {
		var fresh *domain.Onboarding
		fresh, err = w.One.Store.OnboardingByID(octx, o.ID)
		switch {
		case errors.Is(err, db.ErrNotFound):
			return // deleted since the claim
		case err == nil:
			if w.Log != nil && (fresh.Version != o.Version || fresh.Status != o.Status) {
				w.Log.DebugContext(ctx, "claimed onboarding changed before its reconcile", "onboarding", o.ID,
					"claimed", o.Status, "now", fresh.Status)
			}
			o = fresh
		default:
			err = fmt.Errorf("jobs: reconcile %s: re-read: %w", o.ID, err)
		}
	}
	if err == nil {
		err = w.One.reconcile(octx, o, actor)
	}
	if err == nil {
		return
	}
	// Not the batch's failure: the onboarding is looked at again after
	// RetryAfter (unless it was saved since), or, when even that cannot be
	// stored, when its lease ends.
	if w.RetryAfter > 0 {
		at := w.now().Add(w.RetryAfter)
		if serr := w.One.Store.SetNextCheck(octx, o.ID, o.Version, &at); serr != nil && w.Log != nil {
			w.Log.WarnContext(ctx, "could not set a failed reconcile's retry", "onboarding", o.ID, "err", serr)
		}
	}
	if w.Log != nil {
		w.Log.WarnContext(ctx, "reconcile failed", "onboarding", o.ID, "err", err)
	}
}

func (w *ReconcileBatchWorker) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}
