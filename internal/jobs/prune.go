package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/onboard-altinn/onboard/internal/db"
)

// PruneArgs starts one prune. The leader inserts one an hour.
type PruneArgs struct{}

// Kind is the job's stable name in river_job.
func (PruneArgs) Kind() string { return "prune" }

// Pruner is the part of the database the prune deletes from.
type Pruner interface {
	PruneWebhookEvents(ctx context.Context, before time.Time, batch int) (int, error)
	PruneIdempotencyKeys(ctx context.Context, before time.Time, batch int) (int, error)
	PrunePersonLogins(ctx context.Context, before time.Time, batch int) (int, error)
}

// PruneWorker deletes what the service no longer needs, in small batches
// so no delete holds locks for long: webhook events (with their deliveries
// and attempts) older than WebhookRetention whose deliveries have all
// ended, and API idempotency keys older than IdempotencyTTL.
type PruneWorker struct {
	river.WorkerDefaults[PruneArgs]

	DB               Pruner
	WebhookRetention time.Duration
	IdempotencyTTL   time.Duration
	// Batch is one delete's size; MaxBatches bounds one prune, the rest
	// waits for the next hour.
	Batch, MaxBatches int
	Now               func() time.Time
	Log               *slog.Logger
	// JobTimeout bounds one prune (River's default is a minute); what is
	// left waits for the next hour.
	JobTimeout time.Duration
}

// Timeout is the longest one prune may take.
func (w *PruneWorker) Timeout(*river.Job[PruneArgs]) time.Duration { return w.JobTimeout }

// Work prunes both, batch by batch.
func (w *PruneWorker) Work(ctx context.Context, _ *river.Job[PruneArgs]) error {
	now := time.Now()
	if w.Now != nil {
		now = w.Now()
	}
	for _, p := range []struct {
		what   string
		before time.Time
		fn     func(context.Context, time.Time, int) (int, error)
	}{
		{"webhook events", now.Add(-w.WebhookRetention), w.DB.PruneWebhookEvents},
		{"idempotency keys", now.Add(-w.IdempotencyTTL), w.DB.PruneIdempotencyKeys},
		// An ended ID-porten login (issue 14) goes with its sealed tokens.
		{"person logins", now, w.DB.PrunePersonLogins},
	} {
		total := 0
		for range max(w.MaxBatches, 1) {
			if ctx.Err() != nil {
				break // out of time: the rest waits for the next hour
			}
			n, err := p.fn(ctx, p.before, w.Batch)
			if err != nil {
				return err
			}
			total += n
			if n < w.Batch {
				break
			}
		}
		if total > 0 && w.Log != nil {
			w.Log.InfoContext(ctx, "pruned", "what", p.what, "rows", total, "before", p.before)
		}
	}
	return nil
}

var _ Pruner = (*db.DB)(nil)
