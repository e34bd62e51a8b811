package jobs_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/jobs"
	"github.com/onboard-altinn/onboard/internal/onboarding"
)

// fakeService records what the reconciler asked of the onboarding service;
// with save set, it saves (bumps the version) as the real one does.
type fakeService struct {
	calls []string
	save  bool
	err   error
}

func (f *fakeService) Refresh(_ context.Context, o *domain.Onboarding, cause domain.Cause, actor string) error {
	return f.record("refresh", o, cause, actor)
}

func (f *fakeService) Continue(_ context.Context, o *domain.Onboarding, cause domain.Cause, actor string) error {
	return f.record("continue", o, cause, actor)
}

func (f *fakeService) record(what string, o *domain.Onboarding, cause domain.Cause, actor string) error {
	if cause != domain.CauseReconciler || actor != "job 7" {
		what += " (cause " + string(cause) + ", actor " + actor + ")"
	}
	f.calls = append(f.calls, what)
	if f.save {
		o.Version++
	}
	return f.err
}

type fakeStore struct {
	o       *domain.Onboarding
	setNext []*time.Time
}

func (s *fakeStore) OnboardingByID(_ context.Context, id string) (*domain.Onboarding, error) {
	if s.o == nil || s.o.ID != id {
		return nil, db.ErrNotFound
	}
	c := *s.o
	return &c, nil
}

func (s *fakeStore) SetNextCheck(_ context.Context, _ string, _ int, at *time.Time) error {
	s.setNext = append(s.setNext, at)
	return nil
}

func TestReconcileWorkerDecides(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		status   string
		age      time.Duration
		save     bool
		err      error
		want     string // the call made, "" for none
		wantNext bool   // SetNextCheck called (nothing saved)
		wantErr  bool
	}{
		{"pending is refreshed", string(domain.StatusPending), time.Hour, true, nil, "refresh", false, false},
		{"accepted is refreshed", string(domain.StatusAccepted), time.Hour, true, nil, "refresh", false, false},
		{"connected is verified", string(domain.StatusConnected), 48 * time.Hour, true, nil, "refresh", false, false},
		{"young requesting is only looked at: its customer may still be creating it", string(domain.StatusRequesting), time.Minute, true, nil, "refresh", false, false},
		{"old requesting is continued: lookup, then create", string(domain.StatusRequesting), 3 * time.Minute, true, nil, "continue", false, false},
		{"rejected since enqueued: nothing", string(domain.StatusRejected), time.Hour, false, nil, "", true, false},
		{"expired: nothing", string(domain.StatusExpired), time.Hour, false, nil, "", true, false},
		{"cancelled: nothing", string(domain.StatusCancelled), time.Hour, false, nil, "", true, false},
		{"nothing saved: next check set here", string(domain.StatusPending), time.Hour, false, nil, "refresh", true, false},
		{"save failed: next check set, error for River", string(domain.StatusPending), time.Hour, false, errors.New("db down"), "refresh", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			svc := &fakeService{save: tt.save, err: tt.err}
			store := &fakeStore{o: &domain.Onboarding{ID: "o1", Status: domain.Status(tt.status), StatusAt: now.Add(-tt.age), Version: 3}}
			w := &jobs.ReconcileWorker{Store: store, Onboardings: svc, SettleAfter: 2 * time.Minute,
				Schedule: jobs.Schedule{Waiting: []time.Duration{time.Minute}, Connected: time.Hour},
				Now:      func() time.Time { return now }}
			err := w.Work(context.Background(), &river.Job[jobs.ReconcileArgs]{
				JobRow: &rivertype.JobRow{ID: 7}, Args: jobs.ReconcileArgs{OnboardingID: "o1"}})
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			got := ""
			if len(svc.calls) > 1 {
				t.Fatalf("calls = %v, want at most one", svc.calls)
			} else if len(svc.calls) == 1 {
				got = svc.calls[0]
			}
			if got != tt.want {
				t.Fatalf("call = %q, want %q", got, tt.want)
			}
			if (len(store.setNext) > 0) != tt.wantNext {
				t.Fatalf("SetNextCheck calls %v, want some: %v", store.setNext, tt.wantNext)
			}
		})
	}
}

func TestReconcileWorkerGoneOnboarding(t *testing.T) {
	t.Parallel()
	svc := &fakeService{}
	w := &jobs.ReconcileWorker{Store: &fakeStore{}, Onboardings: svc}
	err := w.Work(context.Background(), &river.Job[jobs.ReconcileArgs]{
		JobRow: &rivertype.JobRow{ID: 7}, Args: jobs.ReconcileArgs{OnboardingID: "gone"}})
	if err != nil || len(svc.calls) != 0 {
		t.Fatalf("a deleted onboarding: err %v, calls %v; want nothing done", err, svc.calls)
	}
}

// TestReconcileSupersededLogged: a reconcile whose save lost to a concurrent
// one is not a failure, but it is logged, not dropped (a warning for a
// Continue, whose create may have reached Altinn unrecorded).
func TestReconcileSupersededLogged(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var buf bytes.Buffer
	svc := &fakeService{err: onboarding.ErrSuperseded}
	store := &fakeStore{o: &domain.Onboarding{ID: "o1", Status: domain.StatusRequesting, StatusAt: now.Add(-time.Hour), Version: 3}}
	w := &jobs.ReconcileWorker{Store: store, Onboardings: svc, SettleAfter: 2 * time.Minute,
		Schedule: jobs.Schedule{Waiting: []time.Duration{time.Minute}, Connected: time.Hour},
		Now:      func() time.Time { return now }, Log: slog.New(slog.NewTextHandler(&buf, nil))}
	if err := w.Work(context.Background(), &river.Job[jobs.ReconcileArgs]{
		JobRow: &rivertype.JobRow{ID: 7}, Args: jobs.ReconcileArgs{OnboardingID: "o1"}}); err != nil {
		t.Fatalf("superseded: err %v, want nil", err)
	}
	if out := buf.String(); !strings.Contains(out, "level=WARN") || !strings.Contains(out, "superseded") || !strings.Contains(out, "onboarding=o1") {
		t.Fatalf("log = %q, want a warning naming the onboarding", out)
	}
}
