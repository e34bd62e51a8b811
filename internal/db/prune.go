package db

import (
	"context"
	"fmt"
	"time"
)

// PruneWebhookEvents deletes up to batch webhook events created before
// before whose every delivery has ended (delivered or failed), with their
// deliveries and attempts. A delivery still pending keeps its event. It
// returns how many events went.
func (d *DB) PruneWebhookEvents(ctx context.Context, before time.Time, batch int) (int, error) {
	tag, err := d.Pool.Exec(ctx, `
		DELETE FROM webhook_events WHERE id IN (
			SELECT e.id FROM webhook_events e
			WHERE e.created_at < $1
			  AND NOT EXISTS (SELECT 1 FROM webhook_deliveries w WHERE w.event_id = e.id AND w.status = 'pending')
			ORDER BY e.created_at LIMIT $2)`, before, batch)
	if err != nil {
		return 0, fmt.Errorf("db: prune webhook events: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// PruneIdempotencyKeys deletes up to batch API idempotency keys stored
// before before, answered or not (no request runs for a day: an unanswered
// one was abandoned by a process that died), and returns how many went. A
// create retried after its key is gone is answered by the service as any
// create is: the live onboarding for the organisation, never a second one.
func (d *DB) PruneIdempotencyKeys(ctx context.Context, before time.Time, batch int) (int, error) {
	tag, err := d.Pool.Exec(ctx, `
		DELETE FROM api_idempotency WHERE (api_key_id, key) IN (
			SELECT api_key_id, key FROM api_idempotency WHERE created_at < $1
			ORDER BY created_at LIMIT $2)`, before, batch)
	if err != nil {
		return 0, fmt.Errorf("db: prune idempotency keys: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
