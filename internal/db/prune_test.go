package db_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/db/dbtest"
)

// TestPrune: webhook events past their retention go with their deliveries
// and attempts, unless a delivery is still pending; recent ones stay.
// Idempotency keys past their day go, answered or abandoned; recent ones
// stay.
func TestPrune(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	o, err := d.CreateOnboarding(ctx, newOnboarding("prune-ref-0000000001", "310000019"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	event := func(n int, age time.Duration, status string) string {
		id := fmt.Sprintf("00000000-0000-4000-8000-%012d", n)
		if err := d.InTx(ctx, func(q db.Querier) error {
			ids, err := db.AddWebhookEvent(ctx, q, db.WebhookEvent{ID: id, OnboardingID: o.ID, Type: "onboarding.updated",
				Payload: []byte(`{}`), CreatedAt: now.Add(-age)}, []string{"https://a.example/hook"})
			if err != nil {
				return err
			}
			_, err = q.Exec(ctx, `UPDATE webhook_deliveries SET status = $2 WHERE id = $1`, ids[0], status)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return id
	}
	oldDone := event(1, 100*24*time.Hour, db.WebhookDelivered)
	oldFailed := event(2, 100*24*time.Hour, db.WebhookFailed)
	oldPending := event(3, 100*24*time.Hour, db.WebhookPending)
	recent := event(4, time.Hour, db.WebhookDelivered)
	// Small batches: the prune goes on until nothing is left.
	total := 0
	for {
		n, err := d.PruneWebhookEvents(ctx, now.Add(-90*24*time.Hour), 1)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		total += n
	}
	left := map[string]bool{}
	rows, _ := d.Pool.Query(ctx, `SELECT id::text FROM webhook_events`)
	for rows.Next() {
		var id string
		_ = rows.Scan(&id)
		left[id] = true
	}
	if total != 2 || left[oldDone] || left[oldFailed] || !left[oldPending] || !left[recent] {
		t.Errorf("pruned %d; left %v; want the old delivered and failed ones gone, the pending and recent ones kept", total, left)
	}
	var orphans int
	if err := d.Pool.QueryRow(ctx, `SELECT count(*) FROM webhook_deliveries w
		WHERE NOT EXISTS (SELECT 1 FROM webhook_events e WHERE e.id = w.event_id)`).Scan(&orphans); err != nil || orphans != 0 {
		t.Errorf("%d deliveries left without their event (%v)", orphans, err)
	}

	var keyID int64
	if err := d.Pool.QueryRow(ctx, `INSERT INTO api_keys (name, prefix, key_hash) VALUES ('k', 'onb_test', '\x00') RETURNING id`).Scan(&keyID); err != nil {
		t.Fatal(err)
	}
	for _, k := range []struct {
		key    string
		age    time.Duration
		status *int
	}{{"old", 25 * time.Hour, ptr(201)}, {"old-unanswered", 25 * time.Hour, nil}, {"new", time.Hour, ptr(201)}} {
		if _, err := d.Pool.Exec(ctx, `INSERT INTO api_idempotency (api_key_id, key, request_hash, status, created_at)
			VALUES ($1, $2, '\x00', $3, $4)`, keyID, k.key, k.status, now.Add(-k.age)); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := d.PruneIdempotencyKeys(ctx, now.Add(-24*time.Hour), 100); err != nil || n != 2 {
		t.Errorf("pruned %d idempotency keys (%v), want the two old ones (answered or abandoned), not the new one", n, err)
	}
}
