package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/onboarding"
)

// ReconcileArgs asks for one onboarding to be re-read from Altinn.
type ReconcileArgs struct {
	OnboardingID string `json:"onboarding_id"`
}

// Kind is the job's stable name in river_job.
func (ReconcileArgs) Kind() string { return "reconcile" }

// liveStates are the states of a job that has not finished. A reconcile job
// is unique by its args among these: whichever instance or sweep enqueues
// it, one onboarding has at most one reconcile waiting or running, and a
// finished one never blocks the next. (River requires available, pending,
// running and scheduled; completed is left out on purpose, so no period is
// needed to let the next check in.)
var liveStates = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
	rivertype.JobStateRetryable, rivertype.JobStateScheduled,
}

// InsertOpts makes reconcile jobs unique per onboarding while live, and
// gives up after a few attempts: the schedule brings the onboarding back.
func (ReconcileArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		MaxAttempts: 3,
		UniqueOpts:  river.UniqueOpts{ByArgs: true, ByState: liveStates},
	}
}

// Onboardings is the part of the onboarding service the reconciler uses.
type Onboardings interface {
	Refresh(ctx context.Context, o *domain.Onboarding, cause domain.Cause, actor string) error
	Continue(ctx context.Context, o *domain.Onboarding, cause domain.Cause, actor string) error
}

// Store is the part of the database the reconciler reads and writes directly.
type Store interface {
	OnboardingByID(ctx context.Context, id string) (*domain.Onboarding, error)
	SetNextCheck(ctx context.Context, id string, version int, at *time.Time) error
}

// ReconcileWorker re-reads one onboarding from Altinn through the service,
// with cause reconciler: a waiting one is refreshed (pending → connected,
// rejected, expired; accepted → connected), a connected one is verified
// (→ revoked when its system user is gone) and, while its system user is
// there, proved usable again with a system-user token from Maskinporten
// (onboarding/usability.go: the revoke sweep repeats the usability check).
// A `requesting` one older than
// SettleAfter, whose create never got a clear answer, is continued: looked
// up by external ref and created only when Altinn has none, so it is never
// created twice.
type ReconcileWorker struct {
	river.WorkerDefaults[ReconcileArgs]

	Store       Store
	Onboardings Onboardings
	Schedule    Schedule
	// SettleAfter is how long an onboarding stays in requesting before the
	// reconciler finishes its create. It is longer than any customer's own
	// attempt may take (the service's operation timeout), so the two never
	// race; before that the reconciler only looks.
	SettleAfter time.Duration
	// JobTimeout bounds one run; longer than the service's operation timeout.
	JobTimeout time.Duration
	// NotBefore, when set, says until when Altinn asked this process not to
	// call (Retry-After): a check due before then is not made, only moved
	// to then.
	NotBefore func() time.Time
	Now       func() time.Time
	Log       *slog.Logger
	// Clients, when set, looks at a connected agent onboarding's clients
	// as Altinn lists them after each re-read, so clients added or removed
	// in Altinn's portal are noticed (clients.Portal).
	Clients ClientsPortal
}

// ClientsPortal notices an agent onboarding's clients changed in Altinn's
// portal and records them (clients.Portal.Check).
type ClientsPortal interface {
	Check(ctx context.Context, o *domain.Onboarding, actor string) (int, error)
}

// Timeout is the worker's job timeout.
func (w *ReconcileWorker) Timeout(*river.Job[ReconcileArgs]) time.Duration { return w.JobTimeout }

// Work reconciles the onboarding. Altinn being down is not an error here:
// the service records it on the onboarding and the schedule brings it back;
// an error is returned only when the onboarding could not be read or saved.
func (w *ReconcileWorker) Work(ctx context.Context, job *river.Job[ReconcileArgs]) error {
	o, err := w.Store.OnboardingByID(ctx, job.Args.OnboardingID)
	if errors.Is(err, db.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("jobs: reconcile: %w", err)
	}
	return w.reconcile(ctx, o, "job "+strconv.FormatInt(job.ID, 10))
}

// reconcile is one reconcile of o, as read (by the job, or by a batch's
// claim), on behalf of actor.
func (w *ReconcileWorker) reconcile(ctx context.Context, o *domain.Onboarding, actor string) error {
	var err error
	version := o.Version
	now := w.now()
	if nb := w.notBefore(); nb.After(now) && (Waiting(o.Status) || o.Status == domain.StatusConnected) {
		// Altinn asked us to wait: look again once it may be asked. A
		// connected onboarding that was due (its daily look, or a change
		// request waiting on it) is looked at when the wait ends, not a
		// day later.
		next := w.nextCheck(o, now)
		if o.Status == domain.StatusConnected {
			next = &nb
		}
		if err := w.Store.SetNextCheck(ctx, o.ID, version, next); err != nil {
			return fmt.Errorf("jobs: reconcile %s: %w", o.ID, err)
		}
		return nil
	}
	cont := w.continues(o, now)
	switch {
	case cont:
		err = w.Onboardings.Continue(ctx, o, domain.CauseReconciler, actor)
	case Waiting(o.Status) || o.Status == domain.StatusConnected:
		err = w.Onboardings.Refresh(ctx, o, domain.CauseReconciler, actor)
	default:
		// Final since it was enqueued: nothing to read.
	}
	if errors.Is(err, onboarding.ErrSuperseded) {
		// Someone (a customer's return, staff, another job) saved newer news
		// meanwhile: theirs stands. Not a failure, but not silent either: a
		// Continue's create may have reached Altinn unrecorded.
		if w.Log != nil {
			lvl := slog.LevelInfo
			if cont {
				lvl = slog.LevelWarn
			}
			w.Log.Log(ctx, lvl, "reconcile superseded by a concurrent save", "onboarding", o.ID,
				"continue", cont, "status", o.Status, "actor", actor)
		}
		err = nil
	}
	if err == nil && w.Clients != nil && o.Kind == domain.KindAgent && o.Status == domain.StatusConnected {
		// Altinn not answering here is not the onboarding's failure: the
		// next look tries again.
		if n, cerr := w.Clients.Check(ctx, o, actor); cerr != nil && w.Log != nil {
			w.Log.WarnContext(ctx, "could not look at the clients in Altinn", "onboarding", o.ID, "err", cerr)
		} else if n > 0 && w.Log != nil {
			w.Log.InfoContext(ctx, "clients changed in Altinn's portal", "onboarding", o.ID, "clients", n)
		}
	}
	if o.Version == version {
		// Nothing was saved (nothing to read, or the save failed): set the
		// next look here, or the sweep's lease would bring it back too soon.
		if serr := w.Store.SetNextCheck(ctx, o.ID, version, w.nextCheck(o, now)); serr != nil && err == nil {
			err = serr
		}
	}
	if err != nil {
		return fmt.Errorf("jobs: reconcile %s: %w", o.ID, err)
	}
	if w.Log != nil && o.Version != version {
		w.Log.DebugContext(ctx, "reconciled", "onboarding", o.ID, "status", o.Status, "actor", actor)
	}
	return nil
}

// continues reports whether reconciling o continues it (Continue: a lookup,
// then a create when Altinn has none) rather than only reading it: a
// `requesting` one older than SettleAfter.
func (w *ReconcileWorker) continues(o *domain.Onboarding, now time.Time) bool {
	return o.Status == domain.StatusRequesting && now.Sub(o.StatusAt) >= w.SettleAfter
}

// nextCheck is the schedule's next look at o, but never before Altinn may
// be called again.
func (w *ReconcileWorker) nextCheck(o *domain.Onboarding, now time.Time) *time.Time {
	next := w.Schedule.NextCheck(o.Status, o.StatusAt, now)
	if nb := w.notBefore(); next != nil && nb.After(*next) {
		next = &nb
	}
	return next
}

func (w *ReconcileWorker) notBefore() time.Time {
	if w.NotBefore == nil {
		return time.Time{}
	}
	return w.NotBefore()
}

func (w *ReconcileWorker) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}
