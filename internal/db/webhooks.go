package db

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Webhook delivery statuses.
const (
	WebhookPending   = "pending"   // waiting for its next attempt
	WebhookDelivered = "delivered" // an endpoint answered 2xx
	WebhookFailed    = "failed"    // given up after the maximum age
)

// WebhookEvent is one event for the vendor's product, stored as the JSON
// body its endpoints receive.
type WebhookEvent struct {
	ID           string          `db:"id"`
	OnboardingID string          `db:"onboarding_id"`
	Type         string          `db:"type"`
	Payload      json.RawMessage `db:"payload"`
	CreatedAt    time.Time       `db:"created_at"`
}

// AddWebhookEvent stores ev and one pending delivery of it per URL through
// q, which is the transaction of the status change it tells about, so the
// event exists exactly when the change does. It returns the deliveries' ids
// in the order of urls.
func AddWebhookEvent(ctx context.Context, q Querier, ev WebhookEvent, urls []string) ([]int64, error) {
	if _, err := q.Exec(ctx, `
		INSERT INTO webhook_events (id, onboarding_id, type, payload, created_at)
		VALUES ($1, $2, $3, $4::jsonb, $5)`,
		ev.ID, ev.OnboardingID, ev.Type, string(ev.Payload), ev.CreatedAt); err != nil {
		return nil, fmt.Errorf("db: add webhook event: %w", err)
	}
	rows, err := q.Query(ctx, `
		INSERT INTO webhook_deliveries (event_id, url, retry_since, next_attempt_at)
		SELECT $1, u.url, $3, $3 FROM unnest($2::text[]) WITH ORDINALITY AS u(url, n)
		ORDER BY u.n
		RETURNING id`, ev.ID, urls, ev.CreatedAt)
	if err != nil {
		return nil, fmt.Errorf("db: add webhook deliveries: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("db: add webhook deliveries: %w", err)
	}
	return ids, nil
}

// WebhookDelivery is one event on its way to one endpoint, with the event.
type WebhookDelivery struct {
	ID             int64           `db:"id"`
	EventID        string          `db:"event_id"`
	OnboardingID   string          `db:"onboarding_id"`
	EventType      string          `db:"type"`
	Payload        json.RawMessage `db:"payload"`
	EventCreatedAt time.Time       `db:"event_created_at"`
	URL            string          `db:"url"`
	Status         string          `db:"status"`
	Attempts       int             `db:"attempts"`
	// RetrySince is what the maximum age counts from: the event's creation
	// or the last redelivery.
	RetrySince     time.Time  `db:"retry_since"`
	NextAttemptAt  *time.Time `db:"next_attempt_at"`
	LastAttemptAt  *time.Time `db:"last_attempt_at"`
	LastStatusCode *int       `db:"last_status_code"`
	LastError      *string    `db:"last_error"`
	DeliveredAt    *time.Time `db:"delivered_at"`

	// Recent are its latest attempts, newest first (WebhookDeliveries only).
	Recent []WebhookAttempt `db:"-"`
}

const webhookDeliverySelect = `
	SELECT d.id, d.event_id, e.onboarding_id, e.type, e.payload, e.created_at AS event_created_at, d.url,
		d.status, d.attempts, d.retry_since, d.next_attempt_at, d.last_attempt_at, d.last_status_code,
		d.last_error, d.delivered_at
	FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id`

// WebhookDelivery returns one delivery with its event, or ErrNotFound.
func (d *DB) WebhookDelivery(ctx context.Context, id int64) (*WebhookDelivery, error) {
	rows, err := d.Pool.Query(ctx, webhookDeliverySelect+` WHERE d.id = $1`, id)
	if err != nil {
		return nil, fmt.Errorf("db: webhook delivery: %w", err)
	}
	w, err := pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByName[WebhookDelivery])
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("db: webhook delivery: %w", err)
	}
	return w, nil
}

// maxWebhookDeliveries bounds the dashboard's list for one onboarding; a
// life of a dozen status changes to a few endpoints is far below it.
const maxWebhookDeliveries = 200

// WebhookDeliveries returns an onboarding's deliveries, newest event first
// (and in URL order within one), each with its latest attempts (at most
// attemptsEach), for the dashboard.
func (d *DB) WebhookDeliveries(ctx context.Context, onboardingID string, attemptsEach int) ([]WebhookDelivery, error) {
	rows, err := d.Pool.Query(ctx, webhookDeliverySelect+`
		WHERE e.onboarding_id = $1
		ORDER BY e.created_at DESC, e.id, d.id
		LIMIT $2`, onboardingID, maxWebhookDeliveries)
	if err != nil {
		return nil, fmt.Errorf("db: webhook deliveries: %w", err)
	}
	ds, err := pgx.CollectRows(rows, pgx.RowToStructByName[WebhookDelivery])
	if err != nil {
		return nil, fmt.Errorf("db: webhook deliveries: %w", err)
	}
	if len(ds) == 0 || attemptsEach <= 0 {
		return ds, nil
	}
	ids := make([]int64, len(ds))
	byID := make(map[int64]*WebhookDelivery, len(ds))
	for i := range ds {
		ids[i] = ds[i].ID
		byID[ds[i].ID] = &ds[i]
	}
	rows, err = d.Pool.Query(ctx, `
		SELECT id, delivery_id, at, url, coalesce(status_code, 0) AS status_code, coalesce(error, '') AS error,
			latency_ms, coalesce(job_id, 0) AS job_id
		FROM (SELECT a.*, row_number() OVER (PARTITION BY delivery_id ORDER BY id DESC) AS n
		      FROM webhook_attempts a WHERE delivery_id = ANY($1)) recent
		WHERE n <= $2
		ORDER BY delivery_id, id DESC`, ids, attemptsEach)
	if err != nil {
		return nil, fmt.Errorf("db: webhook attempts: %w", err)
	}
	as, err := pgx.CollectRows(rows, pgx.RowToStructByName[WebhookAttempt])
	if err != nil {
		return nil, fmt.Errorf("db: webhook attempts: %w", err)
	}
	for _, a := range as {
		w := byID[a.DeliveryID]
		w.Recent = append(w.Recent, a)
	}
	return ds, nil
}

// WebhookAttempt is one POST of an event to an endpoint.
type WebhookAttempt struct {
	ID         int64     `db:"id"`
	DeliveryID int64     `db:"delivery_id"`
	At         time.Time `db:"at"`
	URL        string    `db:"url"`
	StatusCode int       `db:"status_code"` // 0: no answer
	Error      string    `db:"error"`       // "" on a 2xx
	LatencyMS  int       `db:"latency_ms"`
	JobID      int64     `db:"job_id"` // the River job that made it
}

// RecordWebhookAttempt stores attempt a and moves its delivery on in one
// transaction: to status (pending, delivered or failed), with next as the
// time of the next attempt (nil unless pending). retrySince is the
// delivery's retry_since the attempt decided by: when staff redelivered it
// meanwhile (a newer retry_since), a failure does not undo that; the
// delivery stays pending as the redeliver left it. A success always counts.
// It returns the status stored.
func (d *DB) RecordWebhookAttempt(ctx context.Context, a WebhookAttempt, status string, next *time.Time, retrySince time.Time) (string, error) {
	stored := status
	err := d.InTx(ctx, func(q Querier) error {
		if _, err := q.Exec(ctx, `
			INSERT INTO webhook_attempts (delivery_id, at, url, status_code, error, latency_ms, job_id)
			VALUES ($1, $2, $3, NULLIF($4, 0), NULLIF($5, ''), $6, NULLIF($7, 0))`,
			a.DeliveryID, a.At, a.URL, a.StatusCode, a.Error, max(a.LatencyMS, 0), a.JobID); err != nil {
			return err
		}
		err := q.QueryRow(ctx, `
			UPDATE webhook_deliveries SET attempts = attempts + 1,
				status = CASE WHEN $2 = 'delivered' OR retry_since = $7 THEN $2 ELSE status END,
				next_attempt_at = CASE WHEN $2 = 'delivered' OR retry_since = $7 OR $3::timestamptz IS NOT NULL THEN $3 ELSE next_attempt_at END,
				last_attempt_at = $4, last_status_code = NULLIF($5, 0), last_error = NULLIF($6, ''),
				delivered_at = CASE WHEN $2 = 'delivered' THEN $4 ELSE delivered_at END
			WHERE id = $1
			RETURNING status`,
			a.DeliveryID, status, next, a.At, a.StatusCode, a.Error, retrySince).Scan(&stored)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		return err
	})
	if err != nil {
		return "", fmt.Errorf("db: record webhook attempt: %w", err)
	}
	return stored, nil
}

// ResetWebhookDelivery makes an onboarding's delivery pending again, due
// now, with its maximum age counted from now, through q (the transaction
// that enqueues its job). It returns the delivery as it was before, and
// ErrNotFound when the onboarding has no delivery with that id.
func ResetWebhookDelivery(ctx context.Context, q Querier, onboardingID string, id int64) (*WebhookDelivery, error) {
	rows, err := q.Query(ctx, webhookDeliverySelect+`
		WHERE d.id = $1 AND e.onboarding_id = $2
		FOR UPDATE OF d`, id, onboardingID)
	if err != nil {
		return nil, fmt.Errorf("db: reset webhook delivery: %w", err)
	}
	before, err := pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByName[WebhookDelivery])
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("db: reset webhook delivery: %w", err)
	}
	if _, err := q.Exec(ctx, `
		UPDATE webhook_deliveries SET status = 'pending', retry_since = now(), next_attempt_at = now()
		WHERE id = $1`, id); err != nil {
		return nil, fmt.Errorf("db: reset webhook delivery: %w", err)
	}
	return before, nil
}
