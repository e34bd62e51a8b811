package db

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/onboard-altinn/onboard/internal/domain"
)

// ClaimDue takes up to limit onboardings whose next check is due at now, the
// most overdue first, and moves their next check to until: the lease a
// reconcile job has to run before the onboarding is due again. It runs on q,
// so a caller may enqueue jobs in the same transaction (River's
// InsertManyTx): a claim commits exactly when its jobs do. Rows another
// transaction holds are skipped, so sweeps on several instances never claim
// one onboarding twice. It returns the ids; ClaimDueOnboardings the rows.
func ClaimDue(ctx context.Context, q Querier, now, until time.Time, limit int) ([]string, error) {
	os, err := ClaimDueOnboardings(ctx, q, now, until, limit)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(os))
	for i, o := range os {
		ids[i] = o.ID
	}
	return ids, nil
}

// ClaimDueOnboardings is ClaimDue returning the claimed rows as they are
// after the claim (next_check_at at until; the version is not moved, so a
// save of the returned onboarding is not refused as stale). A reconcile batch
// claims its onboardings with it in one round trip and reconciles them
// straight from the rows: whoever claimed a row holds it until until, or
// until its reconcile saves it, whichever comes first.
func ClaimDueOnboardings(ctx context.Context, q Querier, now, until time.Time, limit int) ([]*domain.Onboarding, error) {
	rows, err := q.Query(ctx, `
		UPDATE onboardings SET next_check_at = $2
		WHERE id IN (
			SELECT id FROM onboardings
			WHERE next_check_at <= $1
			ORDER BY next_check_at
			LIMIT $3
			FOR UPDATE SKIP LOCKED)
		RETURNING `+onboardingColumns, now, until, limit)
	if err != nil {
		return nil, fmt.Errorf("db: claim due onboardings: %w", err)
	}
	os, err := pgx.CollectRows(rows, pgx.RowToAddrOfStructByName[domain.Onboarding])
	if err != nil {
		return nil, fmt.Errorf("db: claim due onboardings: %w", err)
	}
	return os, nil
}

// ClaimDueOnboardings claims on the pool (one statement: its own transaction).
func (d *DB) ClaimDueOnboardings(ctx context.Context, now, until time.Time, limit int) ([]*domain.Onboarding, error) {
	return ClaimDueOnboardings(ctx, d.Pool, now, until, limit)
}

// ReleaseClaims gives back claimed onboardings that were not reconciled (the
// job stopped first): each of ids still leased until until is due again at
// at. A row saved or claimed again since then has another next check and is
// left alone.
func (d *DB) ReleaseClaims(ctx context.Context, ids []string, until, at time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	if _, err := d.Pool.Exec(ctx, `UPDATE onboardings SET next_check_at = $3 WHERE id = ANY($1) AND next_check_at = $2`,
		ids, until, at); err != nil {
		return fmt.Errorf("db: release claims: %w", err)
	}
	return nil
}

// CountDue counts the onboardings whose next check is due at now, up to
// limit (a bounded index range scan, however many are due).
func (d *DB) CountDue(ctx context.Context, now time.Time, limit int) (int, error) {
	var n int
	if err := d.Pool.QueryRow(ctx, `
		SELECT count(*) FROM (SELECT 1 FROM onboardings WHERE next_check_at <= $1 LIMIT $2) AS due`,
		now, limit).Scan(&n); err != nil {
		return 0, fmt.Errorf("db: count due onboardings: %w", err)
	}
	return n, nil
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
