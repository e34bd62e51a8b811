package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/onboard-altinn/onboard/internal/db"
)

// SweepArgs starts one sweep. The leader among the instances inserts one
// every sweep interval (a River periodic job).
type SweepArgs struct{}

// Kind is the job's stable name in river_job.
func (SweepArgs) Kind() string { return "reconcile_sweep" }

// Transactor runs work in one database transaction.
type Transactor interface {
	InTx(ctx context.Context, fn func(q db.Querier) error) error
}

// SweepWorker turns onboardings whose next check is due into reconcile jobs:
// in one transaction it claims a batch (moving next_check_at on by Lease) and
// inserts their jobs, so a claim and its jobs commit together and no
// onboarding is claimed by two sweeps.
type SweepWorker struct {
	river.WorkerDefaults[SweepArgs]

	DB Transactor
	// Lease is how long a claimed onboarding waits before it is due again
	// if its reconcile job never saves it (a crash, a discarded job).
	Lease time.Duration
	// Batch is how many onboardings one transaction claims; MaxBatches
	// bounds one sweep, the rest waits for the next.
	Batch, MaxBatches int
	Now               func() time.Time
	Log               *slog.Logger
}

// Work claims and enqueues due onboardings, batch by batch.
func (w *SweepWorker) Work(ctx context.Context, _ *river.Job[SweepArgs]) error {
	client, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return fmt.Errorf("jobs: sweep: %w", err)
	}
	total := 0
	for range max(w.MaxBatches, 1) {
		n, err := w.sweepBatch(ctx, client)
		if err != nil {
			return err
		}
		total += n
		if n < w.Batch {
			break
		}
	}
	if total > 0 && w.Log != nil {
		w.Log.InfoContext(ctx, "reconcile sweep", "enqueued", total)
	}
	return nil
}

func (w *SweepWorker) sweepBatch(ctx context.Context, client *river.Client[pgx.Tx]) (int, error) {
	var n int
	err := w.DB.InTx(ctx, func(q db.Querier) error {
		tx, ok := q.(pgx.Tx)
		if !ok {
			return errors.New("jobs: sweep: InTx did not give a pgx.Tx")
		}
		now := w.now()
		ids, err := db.ClaimDue(ctx, tx, now, now.Add(w.Lease), w.Batch)
		if err != nil || len(ids) == 0 {
			return err
		}
		params := make([]river.InsertManyParams, len(ids))
		for i, id := range ids {
			params[i] = river.InsertManyParams{Args: ReconcileArgs{OnboardingID: id}}
		}
		if _, err := client.InsertManyTx(ctx, tx, params); err != nil {
			return fmt.Errorf("jobs: sweep: enqueue: %w", err)
		}
		n = len(ids)
		return nil
	})
	return n, err
}

func (w *SweepWorker) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}
