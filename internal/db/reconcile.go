package db

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ClaimDue takes up to limit onboardings whose next check is due at now, the
// most overdue first, and moves their next check to until: the lease a
// reconcile job has to run before the onboarding is due again. It runs on q,
// so the caller enqueues the jobs in the same transaction (River's
// InsertManyTx): a claim commits exactly when its jobs do. Rows another
// transaction holds are skipped, so sweeps on several instances never claim
// one onboarding twice.
func ClaimDue(ctx context.Context, q Querier, now, until time.Time, limit int) ([]string, error) {
	rows, err := q.Query(ctx, `
		WITH due AS (
			SELECT id FROM onboardings
			WHERE next_check_at <= $1
			ORDER BY next_check_at
			LIMIT $3
			FOR UPDATE SKIP LOCKED
		)
		UPDATE onboardings o SET next_check_at = $2
		FROM due WHERE o.id = due.id
		RETURNING o.id`, now, until, limit)
	if err != nil {
		return nil, fmt.Errorf("db: claim due onboardings: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("db: claim due onboardings: %w", err)
	}
	return ids, nil
}

// SetNextCheck sets when the reconciler should next look at an onboarding,
// if the row is still at version (a save since then has set it already). It
// is for a check that learnt nothing worth saving.
func (d *DB) SetNextCheck(ctx context.Context, id string, version int, at *time.Time) error {
	if _, err := d.Pool.Exec(ctx, `UPDATE onboardings SET next_check_at = $3 WHERE id = $1 AND version = $2`,
		id, version, at); err != nil {
		return fmt.Errorf("db: set next check: %w", err)
	}
	return nil
}

// JobCounts counts River's jobs per state that are not finished (available,
// running, retryable, scheduled, pending), with 0 for a state with none:
// the queue depth.
func (d *DB) JobCounts(ctx context.Context) (map[string]int, error) {
	counts := map[string]int{"available": 0, "running": 0, "retryable": 0, "scheduled": 0, "pending": 0}
	rows, err := d.Pool.Query(ctx, `
		SELECT state::text, count(*) FROM river_job
		WHERE state IN ('available', 'running', 'retryable', 'scheduled', 'pending')
		GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("db: job counts: %w", err)
	}
	var state string
	var n int
	if _, err := pgx.ForEachRow(rows, []any{&state, &n}, func() error {
		counts[state] = n
		return nil
	}); err != nil {
		return nil, fmt.Errorf("db: job counts: %w", err)
	}
	return counts, nil
}
