package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
)

// SweepArgs starts one sweep. The leader among the instances inserts one
// every sweep interval (a River periodic job).
type SweepArgs struct{}

// Kind is the job's stable name in river_job.
func (SweepArgs) Kind() string { return "reconcile_sweep" }

// DueCounter counts the onboardings whose next check is due (db.CountDue).
type DueCounter interface {
	CountDue(ctx context.Context, now time.Time, limit int) (int, error)
}

// SweepWorker starts the reconciliation of what is due: it counts the due
// onboardings (up to Slots × Batch) and starts as many reconcile slots
// (ReconcileBatchArgs) as they need, up to Slots, sharing the count out as
// each slot's first claim. The slots claim the onboardings themselves, so
// however many are due, a sweep writes at most Slots job rows; a slot that
// is still live is not started again.
type SweepWorker struct {
	river.WorkerDefaults[SweepArgs]

	DB DueCounter
	// Slots is how many reconcile batch jobs may be live at once, over all
	// instances; Batch is the most one of their claims takes.
	Slots, Batch int
	Now          func() time.Time
	Log          *slog.Logger
}

// Work counts the due onboardings and starts their slots.
func (w *SweepWorker) Work(ctx context.Context, _ *river.Job[SweepArgs]) error {
	client, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return fmt.Errorf("jobs: sweep: %w", err)
	}
	slots, batch := max(w.Slots, 1), max(w.Batch, 1)
	due, err := w.DB.CountDue(ctx, w.now(), slots*batch)
	if err != nil {
		return fmt.Errorf("jobs: sweep: %w", err)
	}
	if due == 0 {
		return nil
	}
	n := min(slots, due)
	limit := (due + n - 1) / n
	params := make([]river.InsertManyParams, n)
	for i := range n {
		params[i] = river.InsertManyParams{Args: ReconcileBatchArgs{Slot: i, Limit: limit}}
	}
	res, err := client.InsertMany(ctx, params)
	if err != nil {
		return fmt.Errorf("jobs: sweep: start reconcile slots: %w", err)
	}
	started := 0
	for _, r := range res {
		if !r.UniqueSkippedAsDuplicate {
			started++
		}
	}
	if w.Log != nil {
		// due is counted up to Slots × Batch: "at least" beyond that.
		w.Log.InfoContext(ctx, "reconcile sweep", "due", due, "slots_started", started, "slots_live", n-started)
	}
	return nil
}

func (w *SweepWorker) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}
