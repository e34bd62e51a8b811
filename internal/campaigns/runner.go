// Package campaigns runs bulk campaigns: many organisations onboarded to a
// product, or many connected customers asked to approve a change request.
// Rows are validated before anything is sent (Parse, Validate), then sent
// by one runner per campaign at a time (a Postgres advisory lock, so any
// number of instances may try), with bounded concurrency and a rate limit,
// through the same service layer the wizard uses: every row is recorded
// before Altinn is called and looked up before it is created again, so a
// restart mid-way never makes a request twice.
package campaigns

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/riverqueue/river"
	"golang.org/x/time/rate"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/i18n"
	"github.com/onboard-altinn/onboard/internal/onboarding"
)

// Queue is the River queue campaign runs work in, apart from
// reconciliation and webhooks.
const Queue = "campaigns"

// RunArgs is the job that works on one campaign for a while.
type RunArgs struct {
	CampaignID string `json:"campaign_id"`
}

// Kind is River's name for the job.
func (RunArgs) Kind() string { return "campaign_run" }

// InsertOpts puts runs in their own queue.
func (RunArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: Queue} }

// KickArgs is the periodic job that makes sure every running campaign with
// rows left has a run: after a crash, the crashed run's job is only rescued
// much later, but its advisory lock went with its connection.
type KickArgs struct{}

// Kind is River's name for the job.
func (KickArgs) Kind() string { return "campaign_kick" }

// Starter starts onboardings (onboarding.Service).
type Starter interface {
	Start(ctx context.Context, in onboarding.StartInput) (*domain.Onboarding, bool, error)
	// NotBefore is when Altinn may be called again after it asked to wait.
	NotBefore() time.Time
}

// Changer asks Altinn for a change request for a connected onboarding and
// reports the change request's id and status (requesting, pending,
// accepted, rejected, no_change, failed). A *Permanent error is not retried.
type Changer interface {
	RequestChange(ctx context.Context, onboardingID string, cause domain.Cause, actor string) (id string, status domain.ChangeStatus, err error)
}

// Permanent marks an error that trying again cannot fix (an agent system
// user cannot be changed, say): the row fails at once.
type Permanent struct{ Err error }

func (p *Permanent) Error() string { return p.Err.Error() }
func (p *Permanent) Unwrap() error { return p.Err }

// Runner sends a campaign's rows.
type Runner struct {
	DB          *db.DB
	Onboardings Starter
	Changes     Changer // nil: change campaigns' rows fail
	Log         *slog.Logger
	// Budget is how long one run works before it hands over to the next
	// (a snooze of zero), so a job never runs near River's rescue time.
	Budget time.Duration
	// MaxAttempts is how many times a row is tried before it fails.
	MaxAttempts int
	// Backoff is the wait before a row's first retry; it doubles each time,
	// up to MaxBackoff.
	Backoff, MaxBackoff time.Duration

	limiters sync.Map // campaign id → *rate.Limiter

	// Tests' hooks, called by the dispatcher when set: handedOut with each
	// row as a worker takes it, stopSeen with the campaign's status once it
	// has seen the campaign paused or cancelled (and hands out no more).
	handedOut func(db.CampaignItem)
	stopSeen  func(status string)
}

// lockSpace is the first key of the campaigns' advisory locks.
const lockSpace = 0x0b0a4d

// Run works on the campaign until it is done, paused or cancelled, ctx
// ends, or the budget is spent. It returns when to run again (nil: not
// needed: the campaign is finished, not running, or another instance's run
// holds it).
func (r *Runner) Run(ctx context.Context, id string) (*time.Time, error) {
	conn, err := r.DB.Pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("campaigns: %w", err)
	}
	var locked bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, hashtext($2))`, lockSpace, id).Scan(&locked); err != nil {
		conn.Release()
		return nil, fmt.Errorf("campaigns: lock: %w", err)
	}
	if !locked {
		conn.Release()
		return nil, nil // another run has it
	}
	defer func() {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if _, err := conn.Exec(uctx, `SELECT pg_advisory_unlock($1, hashtext($2))`, lockSpace, id); err != nil {
			// A session lock must not stay behind on a pooled connection.
			_ = conn.Conn().Close(uctx)
		}
		conn.Release()
	}()

	// Holding the lock, this is the only run: rows an earlier run left
	// working were never finished, and go back in the queue (or are
	// cancelled with their campaign). Each is sent through the service,
	// which looks an earlier attempt up at Altinn first.
	if n, err := r.DB.RequeueWorking(ctx, id); err != nil {
		return nil, err
	} else if n > 0 {
		r.log().InfoContext(ctx, "campaign took back rows an earlier run left", "campaign", id, "rows", n)
	}
	c, err := r.DB.CampaignByID(ctx, id)
	if errors.Is(err, db.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if c.Status != db.CampaignRunning {
		return nil, nil
	}

	deadline := time.Now().Add(r.Budget)
	// The lock lives as long as its connection: should that die mid-run,
	// another instance may take the campaign, so this run stops at its
	// next claim. (A pooler in transaction mode would break this; point the
	// service at Postgres or a session-mode pooler.)
	held := &lockCheck{conn: conn}
	first := r.send(ctx, c, deadline, held)
	now := time.Now()
	if ctx.Err() != nil {
		// Stopping: hand over at once, to whichever instance is next.
		return &now, nil
	}
	if first != nil {
		return nil, first
	}
	if done, err := r.DB.FinishCampaignIfDone(ctx, id); err != nil {
		return nil, err
	} else if done {
		r.log().InfoContext(ctx, "campaign done", "campaign", id)
		return nil, nil
	}
	if c, err = r.DB.CampaignByID(ctx, id); err != nil || c.Status != db.CampaignRunning {
		return nil, err
	}
	due, next, err := r.DB.CampaignWork(ctx, id)
	switch {
	case err != nil:
		return nil, err
	case due > 0:
		return &now, nil // the budget ran out: the next run goes on
	default:
		return next, nil // retries waiting for their time, or nothing
	}
}

// holdForAltinn waits while Altinn has asked this process to (Retry-After).
func (r *Runner) holdForAltinn(ctx context.Context) error {
	return sleep(ctx, time.Until(r.Onboardings.NotBefore()))
}

// sleep waits d, or until ctx ends (its error).
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// attempt makes one attempt at a row and says how it went: done, failed,
// or queued again with a back-off.
func (r *Runner) attempt(ctx context.Context, c *db.Campaign, it *db.CampaignItem) db.ItemOutcome {
	var out db.ItemOutcome
	switch c.Kind {
	case db.CampaignChange:
		out = r.change(ctx, c, it)
	default:
		out = r.onboard(ctx, c, it)
	}
	if out.State == db.ItemQueued {
		if it.Attempts >= r.MaxAttempts {
			out.State = db.ItemFailed
			out.Error = fmt.Sprintf("gave up after %d attempts: %s", it.Attempts, out.Error)
		} else {
			wait := r.Backoff << (it.Attempts - 1)
			if wait > r.MaxBackoff || wait <= 0 {
				wait = r.MaxBackoff
			}
			at := time.Now().Add(wait)
			out.NotBefore = &at
		}
	}
	return out
}

// onboard starts (or continues) the row's onboarding through the service.
func (r *Runner) onboard(ctx context.Context, c *db.Campaign, it *db.CampaignItem) db.ItemOutcome {
	in := onboarding.StartInput{Product: c.Product, OrgNo: it.OrgNo, Lang: i18n.Default,
		Cause: domain.CauseCampaign, Actor: actor(c)}
	if it.CustomerRef != nil {
		in.CustomerRef = *it.CustomerRef
	}
	o, _, err := r.Onboardings.Start(ctx, in)
	if errors.Is(err, onboarding.ErrSuperseded) {
		err = nil // o holds the winner's news
	}
	switch {
	case errors.Is(err, onboarding.ErrUnknownProduct):
		return db.ItemOutcome{State: db.ItemFailed, Error: "the product is no longer configured"}
	case err != nil:
		return db.ItemOutcome{State: db.ItemQueued, Error: err.Error()}
	}
	out := db.ItemOutcome{OnboardingID: o.ID}
	switch o.Status {
	case domain.StatusPending, domain.StatusAccepted, domain.StatusConnected:
		out.State = db.ItemDone
	case domain.StatusRequesting:
		out.State, out.Error = db.ItemQueued, errorOf(o, "Altinn did not answer")
	default:
		out.State, out.Error = db.ItemFailed, errorOf(o, "the onboarding ended "+string(o.Status))
	}
	return out
}

// change asks for the row's onboarding's change request.
func (r *Runner) change(ctx context.Context, c *db.Campaign, it *db.CampaignItem) db.ItemOutcome {
	if r.Changes == nil || it.OnboardingID == nil {
		return db.ItemOutcome{State: db.ItemFailed, Error: "change requests are not available"}
	}
	id, status, err := r.Changes.RequestChange(ctx, *it.OnboardingID, domain.CauseCampaign, actor(c))
	var perm *Permanent
	switch {
	case errors.As(err, &perm):
		return db.ItemOutcome{State: db.ItemFailed, ChangeRequestID: id, Error: err.Error()}
	case err != nil:
		return db.ItemOutcome{State: db.ItemQueued, ChangeRequestID: id, Error: err.Error()}
	}
	out := db.ItemOutcome{ChangeRequestID: id}
	switch status {
	case domain.ChangePending, domain.ChangeAccepted, domain.ChangeNoChange:
		out.State = db.ItemDone
	case domain.ChangeRequesting:
		out.State, out.Error = db.ItemQueued, "Altinn did not answer"
	default:
		out.State, out.Error = db.ItemFailed, "the change request ended "+string(status)
	}
	return out
}

func actor(c *db.Campaign) string { return "campaign " + c.Name }

func errorOf(o *domain.Onboarding, fallback string) string {
	if o.ErrorMessage != nil && *o.ErrorMessage != "" {
		msg := *o.ErrorMessage
		if o.ErrorCode != nil {
			msg = *o.ErrorCode + ": " + msg
		}
		return msg
	}
	return fallback
}

func (r *Runner) log() *slog.Logger {
	if r.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Log
}

// limiter returns the campaign's limiter, kept across this process's runs
// of it, so a run handing over to the next does not start a burst. Starts
// are spaced evenly, at most perSecond a second; its burst is the starts of
// catchUp (one up to 200 a second, 5 at 1,000), so that a turn the sender
// was late for (a busy machine wakes a sleeper late) is made up rather than
// lost.
func (r *Runner) limiter(id string, perSecond float64) *rate.Limiter {
	burst := max(1, int(perSecond*catchUp.Seconds()))
	v, _ := r.limiters.LoadOrStore(id, rate.NewLimiter(rate.Limit(perSecond), burst))
	l := v.(*rate.Limiter)
	l.SetLimit(rate.Limit(perSecond))
	l.SetBurst(burst)
	return l
}

// catchUp is how far behind its rate a campaign may catch up at once.
const catchUp = 5 * time.Millisecond

// waitTurn waits for l's next start. Unlike rate.Limiter.Wait it does not
// give up at once when the turn falls after ctx's deadline: a run waits
// until it is stopped, rather than ending without work and being run again
// straight away. A turn not waited out is given back.
func waitTurn(ctx context.Context, l *rate.Limiter) error {
	res := l.Reserve()
	if err := sleep(ctx, res.Delay()); err != nil {
		res.Cancel()
		return err
	}
	return nil
}

// lockCheck makes sure, at most once a second, that the connection holding
// the campaign's advisory lock is alive.
type lockCheck struct {
	mu   sync.Mutex
	conn interface {
		Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	}
	last time.Time
}

func (l *lockCheck) check(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if time.Since(l.last) < time.Second {
		return nil
	}
	if _, err := l.conn.Exec(ctx, `SELECT 1`); err != nil {
		return fmt.Errorf("campaigns: the connection holding the campaign's lock: %w", err)
	}
	l.last = time.Now()
	return nil
}

// RunWorker is the River worker of RunArgs.
type RunWorker struct {
	river.WorkerDefaults[RunArgs]
	Runner *Runner
	// JobTimeout bounds one run: the budget plus one operation's time.
	JobTimeout time.Duration
}

// Timeout is the longest one run may take.
func (w *RunWorker) Timeout(*river.Job[RunArgs]) time.Duration { return w.JobTimeout }

// Work runs the campaign and snoozes the job until it is wanted again.
func (w *RunWorker) Work(ctx context.Context, job *river.Job[RunArgs]) error {
	next, err := w.Runner.Run(ctx, job.Args.CampaignID)
	if err != nil || next == nil {
		return err
	}
	return river.JobSnooze(max(0, time.Until(*next)))
}

// KickWorker is the River worker of KickArgs.
type KickWorker struct {
	river.WorkerDefaults[KickArgs]
	DB *db.DB
	// Every is the kick's period: at most one run is inserted per campaign
	// per period.
	Every time.Duration
}

// Work inserts a run for every running campaign with rows left. A run that
// finds another holding the campaign ends at once.
func (w *KickWorker) Work(ctx context.Context, _ *river.Job[KickArgs]) error {
	ids, err := w.DB.RunnableCampaigns(ctx)
	if err != nil || len(ids) == 0 {
		return err
	}
	client, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if _, err := client.Insert(ctx, RunArgs{CampaignID: id}, &river.InsertOpts{
			Queue: Queue, UniqueOpts: river.UniqueOpts{ByArgs: true, ByPeriod: w.Every},
		}); err != nil {
			return err
		}
	}
	return nil
}

// ServiceChanger is the Changer of the onboarding service: it reads the
// onboarding and asks for its change request (which continues a live one,
// with the same correlation id, rather than making another).
type ServiceChanger struct {
	DB          *db.DB
	Onboardings *onboarding.Service
}

// RequestChange implements Changer.
func (s ServiceChanger) RequestChange(ctx context.Context, onboardingID string, cause domain.Cause, actor string) (string, domain.ChangeStatus, error) {
	o, err := s.DB.OnboardingByID(ctx, onboardingID)
	if errors.Is(err, db.ErrNotFound) {
		return "", "", &Permanent{Err: err}
	}
	if err != nil {
		return "", "", err
	}
	cr, err := s.Onboardings.RequestChange(ctx, o, cause, actor)
	var id string
	var status domain.ChangeStatus
	if cr != nil {
		id, status = cr.ID, cr.Status
	}
	switch {
	case errors.Is(err, onboarding.ErrSuperseded) && cr != nil:
		return id, status, nil // cr holds the winner's news
	case errors.Is(err, onboarding.ErrAgentChange), errors.Is(err, onboarding.ErrNotConnected),
		errors.Is(err, onboarding.ErrUnknownProduct):
		return id, status, &Permanent{Err: err}
	case err != nil:
		return id, status, err
	}
	return id, status, nil
}
