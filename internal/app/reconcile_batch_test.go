package app_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/jobs"
)

// claimHookStore is the batch's store with a hook run once a claim has
// committed, before any of its reconciles starts.
type claimHookStore struct {
	*db.DB
	afterClaim func([]*domain.Onboarding)
}

func (s *claimHookStore) ClaimDueOnboardings(ctx context.Context, now, until time.Time, limit int) ([]*domain.Onboarding, error) {
	os, err := s.DB.ClaimDueOnboardings(ctx, now, until, limit)
	if err == nil && len(os) > 0 && s.afterClaim != nil {
		s.afterClaim(os)
	}
	return os, err
}

// TestReconcileBatchStaleRequesting: a requesting onboarding whose create
// never got an answer is claimed by a batch; before its reconcile starts,
// staff cancel it (its request is deleted at Altinn). The batch's reconcile
// must not continue it from the claimed copy (a lookup finding nothing, then
// a create nobody wants): it reads the row again and finds it cancelled.
func TestReconcileBatchStaleRequesting(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	o := e.crashedOnboarding(10 * time.Minute)
	e.storeAtAltinn(o)
	if _, err := e.db.Pool.Exec(ctx, `UPDATE onboardings SET next_check_at = now() - interval '1 minute' WHERE id = $1`, o.ID); err != nil {
		t.Fatal(err)
	}
	store := &claimHookStore{DB: e.db, afterClaim: func(os []*domain.Onboarding) {
		if len(os) != 1 || os[0].ID != o.ID || os[0].Status != domain.StatusRequesting {
			t.Errorf("claimed %d onboardings, want the requesting one", len(os))
			return
		}
		fresh, err := e.db.OnboardingByID(ctx, o.ID)
		if err != nil {
			t.Error(err)
			return
		}
		if err := e.app.Onboardings.Cancel(ctx, fresh, domain.CauseStaff, "support@smartcloud.example"); err != nil {
			t.Errorf("staff cancel: %v", err)
		}
	}}
	w := &jobs.ReconcileBatchWorker{
		One: &jobs.ReconcileWorker{Store: e.db, Onboardings: e.app.Onboardings, SettleAfter: time.Minute,
			Schedule: jobs.Schedule{Waiting: []time.Duration{time.Hour}, Connected: 24 * time.Hour}, JobTimeout: 20 * time.Second},
		Store: store, Lease: 10 * time.Minute, MaxBatch: 5, Concurrency: 2, Budget: time.Minute,
	}
	err := w.Work(ctx, &river.Job[jobs.ReconcileBatchArgs]{JobRow: &rivertype.JobRow{ID: 1}, Args: jobs.ReconcileBatchArgs{Limit: 5}})
	var snooze *rivertype.JobSnoozeError
	if err != nil && !errors.As(err, &snooze) {
		t.Fatalf("Work = %v", err)
	}
	got, err := e.db.OnboardingByID(ctx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != domain.StatusCancelled {
		t.Fatalf("status = %q, want cancelled (staff's)", got.Status)
	}
	total := 0
	for _, r := range e.app.Sim.Requests() {
		if r.PartyOrgNo == org {
			total++
		}
	}
	if live := e.simRequestsFor(org); live != 0 || total != 1 {
		t.Fatalf("Altinn holds %d requests for the org (%d live), want only the one staff deleted", total, live)
	}
	for _, c := range e.reconcilerEvents(got) {
		if strings.HasPrefix(c, "POST") {
			t.Fatalf("the reconciler created at Altinn after the cancel: %v", e.reconcilerEvents(got))
		}
	}
}
