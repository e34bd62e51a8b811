package jobs

import (
	"context"
	"testing"
	"time"
)

type fakePruner struct {
	left                     []int // rows each successive webhook batch finds
	webhookBefore, keyBefore time.Time
	webhookCalls, keyCalls   int
	loginBefore              time.Time
}

func (f *fakePruner) PruneWebhookEvents(_ context.Context, before time.Time, batch int) (int, error) {
	f.webhookBefore = before
	f.webhookCalls++
	if len(f.left) == 0 {
		return 0, nil
	}
	n := min(f.left[0], batch)
	f.left = f.left[1:]
	return n, nil
}

func (f *fakePruner) PruneIdempotencyKeys(_ context.Context, before time.Time, _ int) (int, error) {
	f.keyBefore = before
	f.keyCalls++
	return 0, nil
}

func (f *fakePruner) PrunePersonLogins(_ context.Context, before time.Time, _ int) (int, error) {
	f.loginBefore = before
	return 0, nil
}

// TestPruneBatches: a prune deletes batch after batch until one comes back
// short, never more than MaxBatches, with each cut-off its own age back.
func TestPruneBatches(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	f := &fakePruner{left: []int{10, 10, 3, 10}}
	w := &PruneWorker{DB: f, WebhookRetention: 90 * 24 * time.Hour, IdempotencyTTL: IdempotencyTTL,
		Batch: 10, MaxBatches: 5, Now: func() time.Time { return now }}
	if err := w.Work(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if f.webhookCalls != 3 || f.keyCalls != 1 {
		t.Errorf("%d webhook batches and %d key batches, want 3 (the third came back short) and 1", f.webhookCalls, f.keyCalls)
	}
	if !f.webhookBefore.Equal(now.Add(-90*24*time.Hour)) || !f.keyBefore.Equal(now.Add(-24*time.Hour)) || !f.loginBefore.Equal(now) {
		t.Errorf("cut-offs %v, %v and %v", f.webhookBefore, f.keyBefore, f.loginBefore)
	}
	f = &fakePruner{left: []int{10, 10, 10, 10, 10, 10, 10}}
	w.DB, w.MaxBatches = f, 2
	if err := w.Work(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if f.webhookCalls != 2 {
		t.Errorf("%d batches, want MaxBatches (2); the rest waits for the next hour", f.webhookCalls)
	}
}
