package jobs_test

import (
	"testing"
	"time"

	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/jobs"
)

// TestScheduleNextCheck is the reconcile schedule as a table: for an
// onboarding in a status for a given age, when it is next re-read.
func TestScheduleNextCheck(t *testing.T) {
	t.Parallel()
	s := jobs.Schedule{
		Waiting:   []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour, 6 * time.Hour, 24 * time.Hour},
		Connected: 24 * time.Hour,
	}
	since := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	const never = time.Duration(-1)
	tests := []struct {
		name   string
		status string
		age    time.Duration // now - since
		want   time.Duration // next check - since; never for nil
	}{
		{"just created: first look after a minute", string(domain.StatusRequesting), 0, time.Minute},
		{"pending, brand new", string(domain.StatusPending), 0, time.Minute},
		{"pending, 30 s", string(domain.StatusPending), 30 * time.Second, time.Minute},
		{"pending, exactly 1 m: the next age, never now", string(domain.StatusPending), time.Minute, 5 * time.Minute},
		{"pending, 2 m", string(domain.StatusPending), 2 * time.Minute, 5 * time.Minute},
		{"pending, 14 m 29 s: the 15-minute look", string(domain.StatusPending), 15*time.Minute - 31*time.Second, 15 * time.Minute},
		{"pending, 14 m 31 s: a late look that is the 15-minute one too", string(domain.StatusPending), 15*time.Minute - 29*time.Second, time.Hour},
		{"pending, 14 m 59 s: not again a second later", string(domain.StatusPending), 15*time.Minute - time.Second, time.Hour},
		{"pending, 47 h 59 m: the 48-hour look, a minute on", string(domain.StatusPending), 48*time.Hour - time.Minute, 48 * time.Hour},
		{"pending, 47 h 59 m 59 s: the next day's look", string(domain.StatusPending), 48*time.Hour - time.Second, 72 * time.Hour},
		{"pending, 20 m", string(domain.StatusPending), 20 * time.Minute, time.Hour},
		{"pending, 2 h", string(domain.StatusPending), 2 * time.Hour, 6 * time.Hour},
		{"pending, 7 h", string(domain.StatusPending), 7 * time.Hour, 24 * time.Hour},
		{"pending, 24 h: then daily", string(domain.StatusPending), 24 * time.Hour, 48 * time.Hour},
		{"pending, 30 h", string(domain.StatusPending), 30 * time.Hour, 48 * time.Hour},
		{"pending, 100 days", string(domain.StatusPending), 100 * 24 * time.Hour, 101 * 24 * time.Hour},
		{"accepted, not verified yet", string(domain.StatusAccepted), 3 * time.Minute, 5 * time.Minute},
		{"requesting after an ambiguous create", string(domain.StatusRequesting), 10 * time.Minute, 15 * time.Minute},
		{"clock behind since: the first age", string(domain.StatusPending), -time.Minute, time.Minute},
		{"connected: a day after now", string(domain.StatusConnected), 3 * time.Hour, 27 * time.Hour},
		{"rejected: never", string(domain.StatusRejected), time.Minute, never},
		{"expired: never", string(domain.StatusExpired), 200 * 24 * time.Hour, never},
		{"failed: never", string(domain.StatusFailed), 0, never},
		{"cancelled: never", string(domain.StatusCancelled), 0, never},
		{"revoked: never", string(domain.StatusRevoked), 0, never},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := s.NextCheck(domain.Status(tt.status), since, since.Add(tt.age))
			switch {
			case tt.want == never && got != nil:
				t.Fatalf("next check at age %v, want none", got.Sub(since))
			case tt.want == never:
			case got == nil:
				t.Fatalf("no next check, want at age %v", tt.want)
			case got.Sub(since) != tt.want:
				t.Fatalf("next check at age %v, want %v", got.Sub(since), tt.want)
			case !got.After(since.Add(tt.age)):
				t.Fatalf("next check %v is not after now", got)
			}
		})
	}
}

// TestScheduleDueAtAges walks one pending onboarding through its first days
// the way the sweep sees it, and lists the ages at which it is due.
func TestScheduleDueAtAges(t *testing.T) {
	t.Parallel()
	s := jobs.Schedule{Waiting: []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour, 6 * time.Hour, 24 * time.Hour}}
	since := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var ages []time.Duration
	now := since
	for now.Sub(since) < 72*time.Hour {
		next := s.NextCheck(domain.StatusPending, since, now)
		now = *next // the reconciler looks exactly when due, and saves
		ages = append(ages, now.Sub(since))
	}
	want := []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour, 6 * time.Hour, 24 * time.Hour, 48 * time.Hour, 72 * time.Hour}
	if len(ages) != len(want) {
		t.Fatalf("due at ages %v, want %v", ages, want)
	}
	for i := range want {
		if ages[i] != want[i] {
			t.Fatalf("due at ages %v, want %v", ages, want)
		}
	}
}
