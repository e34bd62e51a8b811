package db_test

import (
	"context"
	"testing"
	"time"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/db/dbtest"
)

// TestRedeliverWinsOverAFailingAttempt: staff redeliver a delivery while an
// attempt that started before is under way. When that attempt fails, by
// the old maximum age, the delivery stays pending as the redeliver left it;
// a success still counts; an attempt that saw no redeliver fails as it
// decided.
func TestRedeliverWinsOverAFailingAttempt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	o, err := d.CreateOnboarding(ctx, newOnboarding("webhook-ref-00000001", "310000019"))
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	if err := d.InTx(ctx, func(q db.Querier) error {
		ids, err = db.AddWebhookEvent(ctx, q, db.WebhookEvent{ID: "6f1f3c1e-0d4a-4b8e-9c7a-5e1f2a3b4c5d", OnboardingID: o.ID,
			Type: "onboarding.updated", Payload: []byte(`{}`), CreatedAt: time.Now().Add(-time.Hour)},
			[]string{"https://a.example/hook", "https://b.example/hook"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	stale, fresh := ids[0], ids[1]
	seen := map[int64]time.Time{}
	for _, id := range ids {
		w, err := d.WebhookDelivery(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		seen[id] = w.RetrySince // what the running attempt read
	}
	// Staff redeliver the first while its attempt runs.
	if err := d.InTx(ctx, func(q db.Querier) error {
		_, err := db.ResetWebhookDelivery(ctx, q, o.ID, stale)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	attempt := func(id int64) db.WebhookAttempt {
		return db.WebhookAttempt{DeliveryID: id, At: time.Now(), URL: "https://x.example/hook", StatusCode: 500, Error: "HTTP 500"}
	}
	for _, c := range []struct {
		name   string
		id     int64
		status string
		want   string
	}{
		{"the redelivered one fails by its old age", stale, db.WebhookFailed, db.WebhookPending},
		{"the other fails as decided", fresh, db.WebhookFailed, db.WebhookFailed},
		{"a success always counts", stale, db.WebhookDelivered, db.WebhookDelivered},
	} {
		got, err := d.RecordWebhookAttempt(ctx, attempt(c.id), c.status, nil, seen[c.id])
		if err != nil {
			t.Fatal(err)
		}
		w, err := d.WebhookDelivery(ctx, c.id)
		if err != nil {
			t.Fatal(err)
		}
		if got != c.want || w.Status != c.want {
			t.Errorf("%s: stored %q (row %q), want %q", c.name, got, w.Status, c.want)
		}
	}
}
