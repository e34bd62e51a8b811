package clients

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/onboard-altinn/onboard/internal/altinn"
	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
)

// Queue is the clients' own River queue, so hundreds of clients never hold
// up reconciliation or webhooks.
const Queue = "clients"

// Workers is how many clients one instance sends to Altinn at once.
const Workers = 8

// FetchCooldown is how often, at most, River fetches the queue's next jobs
// while they keep coming (its QueueConfig.FetchCooldown; the client's own
// is 10 ms). A worker that finishes waits for the next fetch, so with the
// client's 10 ms only about 6.3 of the 8 ran at once: 1,000 clients at
// 20 ms per add took 1.76x the floor N·latency/Workers, 1.58x at 2 ms
// (bench/clients). Only this queue fetches that often.
const FetchCooldown = 2 * time.Millisecond

// Args is one client's add or removal: one job per client, so each has
// its own tries, back-off and outcome.
type Args struct {
	OnboardingID string `json:"onboarding_id"`
	ClientID     string `json:"client_id"`
	Remove       bool   `json:"remove,omitempty"`
}

// Kind is the job's kind in River.
func (Args) Kind() string { return "client_delegation" }

// claimLease is how long a job holds its client's try (db.ClaimClient):
// longer than a try may take (Worker.Timeout), so a second job for the same
// client never calls Altinn at the same time.
const claimLease = 2 * time.Minute

// InsertOpts puts the jobs in Queue. They are not unique in River: a job
// finished a moment ago may still read as running there (River completes
// jobs in batches), and a login that resumes clients must not be refused
// its jobs. The client's row is what keeps a try single (db.ClaimClient).
// The tries are the worker's (domain.MaxClientAttempts, by snoozing), so
// River's own retries are only for the worker failing to record.
func (Args) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: Queue, MaxAttempts: 5}
}

// Worker sends one client's add or removal to Altinn with the person's
// token and records the outcome (domain.ClientAnswer) with its event on the
// onboarding's timeline. An answer that asks for a retry (no answer, 429,
// 5xx) snoozes the job for domain.ClientBackoff (Retry-After wins) until
// domain.MaxClientAttempts tries; a 401 or a login that has ended marks the
// onboarding's waiting clients as waiting for a new login
// (db.WaitForLogin), which resumes them (Service.CompleteLogin).
//
// Idempotent: a job whose client is no longer in the state it was asked
// for (done, or asked otherwise since) does nothing, and Altinn answers a
// second add of a delegated client without change.
type Worker struct {
	river.WorkerDefaults[Args]
	S *Service
}

// Timeout bounds one try: one Altinn call and its record.
func (w *Worker) Timeout(*river.Job[Args]) time.Duration { return time.Minute }

// Work makes one try.
func (w *Worker) Work(ctx context.Context, job *river.Job[Args]) error {
	s := w.S
	a := job.Args
	pending := domain.ClientAdding
	if a.Remove {
		pending = domain.ClientRemoving
	}
	c, wait, err := s.DB.ClaimClient(ctx, a.OnboardingID, a.ClientID, pending, claimLease)
	if err != nil {
		return err
	}
	if c == nil && wait > 0 {
		return river.JobSnooze(wait) // its next try is later (another job's back-off)
	}
	if c == nil || c.Reason == domain.ReasonLoginExpired {
		return nil // done, taken over by a newer ask or another job, or waiting for a login
	}
	o, err := s.DB.OnboardingByID(ctx, a.OnboardingID)
	if errors.Is(err, db.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if !Can(o) {
		return w.record(ctx, o, c, pending, domain.ClientOutcome{State: domain.ClientFailed, Reason: domain.ReasonSystemUserGone}, 0, "", nil)
	}
	tok, ok := w.token(ctx, c)
	if !ok {
		return w.waitForLogin(ctx, o)
	}
	if a.Remove {
		err = s.Altinn.RemoveClient(ctx, tok, *o.SystemUserID, c.ClientID)
	} else {
		err = s.Altinn.AddClient(ctx, tok, *o.SystemUserID, c.ClientID)
	}
	status, code, retryAfter := answer(err)
	out := domain.ClientAnswer(a.Remove, status, code)
	if out.Wait {
		return w.waitForLogin(ctx, o)
	}
	if out.Retry {
		if c.Attempts+1 >= domain.MaxClientAttempts {
			out = domain.ClientOutcome{State: domain.ClientFailed, Reason: domain.ReasonUnavailable}
		} else {
			wait := domain.ClientBackoff(c.Attempts+1, retryAfter)
			next := time.Now().Add(wait) // the database's clock, as ClaimClient's
			if err := s.DB.SetClientOutcome(ctx, o.ID, c.ClientID, pending, out, &next); err != nil {
				if errors.Is(err, db.ErrStale) {
					return nil
				}
				return err
			}
			return river.JobSnooze(wait)
		}
	}
	return w.record(ctx, o, c, pending, out, status, code, err)
}

// record stores a settled outcome with its event.
func (w *Worker) record(ctx context.Context, o *domain.Onboarding, c *db.Client, from domain.ClientState, out domain.ClientOutcome, status int, code string, callErr error) error {
	op := domain.ClientOpAdd
	if from == domain.ClientRemoving {
		op = domain.ClientOpRemove
	}
	ev := domain.Event{OnboardingID: o.ID, Kind: domain.EventClients, Cause: domain.CauseCustomer, Actor: c.ChangedBy,
		Operation: op, ToStatus: string(out.State), FromStatus: string(out.Reason), HTTPStatus: status, AltinnCode: code,
		Message: domain.OneLine(c.OrgNo + " " + c.OrgName)}
	if callErr != nil && out.State == domain.ClientFailed {
		ev.Message = domain.OneLine(ev.Message + ": " + callErr.Error())
	}
	// Recorded even when the job's context has ended: the call happened.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	err := w.S.recordOutcome(rctx, o, c.ClientID, from, out, ev)
	if isStale(err) {
		return nil
	}
	return err
}

// waitForLogin marks the onboarding's waiting clients as waiting for a new
// login; this job ends (the new login enqueues them again).
func (w *Worker) waitForLogin(ctx context.Context, o *domain.Onboarding) error {
	n, err := w.S.DB.WaitForLogin(ctx, o.ID)
	if err != nil {
		return err
	}
	if n > 0 {
		w.S.log().InfoContext(ctx, "the person's login ended: clients wait for a new login", "onboarding", o.ID, "clients", n)
	}
	return nil
}

// token is the person's Altinn token of the client's login, while it lasts.
func (w *Worker) token(ctx context.Context, c *db.Client) (altinn.PersonToken, bool) {
	if c.LoginID == nil {
		return altinn.PersonToken{}, false
	}
	l, err := w.S.DB.PersonLoginByID(ctx, *c.LoginID)
	if err != nil || l.Token == nil {
		return altinn.PersonToken{}, false
	}
	tok, err := w.S.freshToken(ctx, l)
	// A few seconds' margin: a token that ends during the call is a 401.
	if err != nil || !tok.Valid(w.S.now().Add(5*time.Second)) {
		return altinn.PersonToken{}, false
	}
	return tok, true
}

// answer is Altinn's answer to a call as domain.ClientAnswer takes it: the
// HTTP status (200 for none, 0 for no answer), the problem's code and the
// Retry-After it asked for.
func answer(err error) (status int, code string, retryAfter time.Duration) {
	if err == nil {
		return 200, "", 0
	}
	var held *altinn.HeldError
	if errors.As(err, &held) {
		return 0, "", time.Until(held.Until)
	}
	var p *altinn.Problem
	if errors.As(err, &p) {
		return p.Status, p.SpecificCode(), p.RetryAfter
	}
	return 0, "", 0
}

// String names the job in River's logs.
func (a Args) String() string {
	op := "add"
	if a.Remove {
		op = "remove"
	}
	return fmt.Sprintf("%s client %s of onboarding %s", op, a.ClientID, a.OnboardingID)
}
