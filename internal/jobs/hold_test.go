package jobs_test

import (
	"cmp"
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/jobs"
)

// TestReconcileWorkerRespectsRetryAfter: while Altinn has asked the process
// to wait, a due check is not made but moved to when Altinn may be asked.
func TestReconcileWorkerRespectsRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name      string
		status    string // default pending
		notBefore time.Time
		want      string // the service call made
		wantNext  time.Time
	}{
		{"connected and held: looked at when the hold ends, not a day later", string(domain.StatusConnected), now.Add(90 * time.Second), "", now.Add(90 * time.Second)},
		{"held: no call, next check when the hold ends", "", now.Add(90 * time.Second), "", now.Add(90 * time.Second)},
		{"held shorter than the schedule: the schedule", "", now.Add(10 * time.Second), "", now.Add(30 * time.Second)},
		{"hold over: the check is made", "", now.Add(-time.Second), "refresh", time.Time{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			svc := &fakeService{save: true}
			status := cmp.Or(domain.Status(tt.status), domain.StatusPending)
			store := &fakeStore{o: &domain.Onboarding{ID: "o1", Status: status, StatusAt: now.Add(-30 * time.Second), Version: 3}}
			w := &jobs.ReconcileWorker{Store: store, Onboardings: svc, SettleAfter: 2 * time.Minute,
				Schedule:  jobs.Schedule{Waiting: []time.Duration{time.Minute, time.Hour}, Connected: 24 * time.Hour},
				NotBefore: func() time.Time { return tt.notBefore },
				Now:       func() time.Time { return now }}
			if err := w.Work(context.Background(), &river.Job[jobs.ReconcileArgs]{
				JobRow: &rivertype.JobRow{ID: 7}, Args: jobs.ReconcileArgs{OnboardingID: "o1"}}); err != nil {
				t.Fatal(err)
			}
			got := ""
			if len(svc.calls) > 0 {
				got = svc.calls[0]
			}
			if got != tt.want {
				t.Fatalf("call = %q, want %q", got, tt.want)
			}
			if tt.wantNext.IsZero() {
				return
			}
			if len(store.setNext) != 1 || store.setNext[0] == nil || !store.setNext[0].Equal(tt.wantNext) {
				t.Fatalf("next checks set %v, want %v", store.setNext, tt.wantNext)
			}
		})
	}
}
