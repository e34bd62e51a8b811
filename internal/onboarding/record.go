package onboarding

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
)

// What goes out with a change is written by the service, beside the change
// and in its transaction (save, saveChange, Start, Import): its webhook
// event (Outbox) and, for the last write of a staff action, the action's
// audit entry (Audited). A change that is rolled back takes both with it.

// Outbox stores the webhook event of a change, with its deliveries, in the
// change's own transaction tx (webhooks.Outbox), so an event exists exactly
// when its change does. An outbox without endpoints stores nothing.
type Outbox interface {
	// AddStatusEvent: o moved from prev ("" for a new onboarding).
	AddStatusEvent(ctx context.Context, tx pgx.Tx, o *domain.Onboarding, prev domain.Status) error
	// AddUsabilityEvent: o's usable became true or false, from prev (nil:
	// not checked); see domain.UsabilityChanged.
	AddUsabilityEvent(ctx context.Context, tx pgx.Tx, o *domain.Onboarding, prev *bool) error
	// AddChangeEvent: change request c moved from prev.
	AddChangeEvent(ctx context.Context, tx pgx.Tx, c *domain.ChangeRequest, prev domain.ChangeStatus) error
}

// noOutbox is the outbox of a service without webhooks.
type noOutbox struct{}

func (noOutbox) AddStatusEvent(context.Context, pgx.Tx, *domain.Onboarding, domain.Status) error {
	return nil
}

func (noOutbox) AddUsabilityEvent(context.Context, pgx.Tx, *domain.Onboarding, *bool) error {
	return nil
}

func (noOutbox) AddChangeEvent(context.Context, pgx.Tx, *domain.ChangeRequest, domain.ChangeStatus) error {
	return nil
}

// outboxStores reports whether the outbox may store anything: an outbox
// that says it has no endpoints (Stores, as webhooks.Outbox without URLs)
// never does, so a change with nothing else to write needs no transaction.
func (s *Service) outboxStores() bool {
	if s.Outbox == nil {
		return false
	}
	if o, ok := s.Outbox.(interface{ Stores() bool }); ok {
		return o.Stores()
	}
	return true
}

func (s *Service) outbox() Outbox {
	if s.Outbox == nil {
		return noOutbox{}
	}
	return s.Outbox
}

// Results of a staff action, as its audit entry has them.
const (
	ResultOK         = "ok"
	ResultError      = "error"      // the action failed (what Altinn said is on the onboarding)
	ResultSuperseded = "superseded" // a concurrent change won: the action may not have happened
)

// Audit is the audit log entry of one staff action: who asked (StaffID,
// and Actor, the staff member's email), from where (IP) and what (Action,
// such as "onboarding.refresh"). Describe gives the entry's detail and the
// message of the staff event on the onboarding's timeline ("": none) from
// what the action did; it runs inside the transaction, so it only computes.
type Audit struct {
	StaffID  int64
	Actor    string
	IP       string
	Action   string
	Describe func(Outcome) (detail map[string]any, message string)
}

// Outcome is what a staff action did, as far as it is known when its audit
// entry is written.
type Outcome struct {
	// From is the onboarding's status before the action ("" when the
	// action made it).
	From domain.Status
	// Onboarding is the onboarding as the action leaves it; nil when it
	// made none.
	Onboarding *domain.Onboarding
	// Change is the change request the action acted on, if any.
	Change *domain.ChangeRequest
	// Started: the action began something new, an onboarding or a request
	// at Altinn (Start's started).
	Started bool
	Result  string // ResultOK, ResultError or ResultSuperseded
}

// Audited runs one staff action (run, on the onboarding o; nil when run
// makes one, as Start and Import do) and writes its audit entry, with the
// staff event, in the transaction of the write that records what the
// action did: its last save of the onboarding or of its change request,
// beside the change's webhook events. An action that wrote nothing
// (refused, or with nothing to do) or whose last write lost a race
// (ErrSuperseded) is recorded on its own afterwards, as attempted, when it
// names an onboarding. One whose write failed is not recorded: the change
// it describes was rolled back. It returns run's error, or the failure to
// record the action when run succeeded.
func (s *Service) Audited(ctx context.Context, a Audit, o *domain.Onboarding, run func(ctx context.Context) error) error {
	act := &staffAction{Audit: a, o: o}
	if o != nil {
		act.from = o.Status
	}
	err := run(context.WithValue(ctx, staffActionKey{}, act))
	if act.state != auditPending || act.o == nil {
		return err
	}
	result := ResultOK
	switch {
	case errors.Is(err, ErrSuperseded):
		result = ResultSuperseded
	case err != nil:
		result = ResultError
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	rerr := s.DB.InTx(rctx, func(q db.Querier) error { return act.add(rctx, q, result, act.o, act.cr) })
	switch {
	case rerr == nil:
		return err
	case err == nil:
		return rerr
	}
	if s.Log != nil {
		s.Log.ErrorContext(ctx, "recording a failed staff action", "action", a.Action, "err", rerr)
	}
	return err
}

type staffActionKey struct{}

// staffAction is the state of one Audited action while it runs.
type staffAction struct {
	Audit
	from    domain.Status
	o       *domain.Onboarding    // the onboarding acted on, once known
	cr      *domain.ChangeRequest // the change request acted on, once known
	started bool
	failing bool // the action will fail after its last write: it says so
	state   auditState
}

type auditState int

const (
	auditPending  auditState = iota // not written yet
	auditInFlight                   // in a transaction not yet committed
	auditWritten                    // committed with its change
	auditDropped                    // rolled back with its change: not written at all
)

// actionOf is the staff action ctx runs for, or nil.
func actionOf(ctx context.Context) *staffAction {
	act, _ := ctx.Value(staffActionKey{}).(*staffAction)
	return act
}

// noteFailing notes that the staff action ctx runs for returns an error after
// its last write, so its entry, written with that write, says it failed.
func noteFailing(ctx context.Context) {
	if act := actionOf(ctx); act != nil {
		act.failing = true
	}
}

// noteStarted notes that the action ctx runs for began something new.
func noteStarted(ctx context.Context) {
	if act := actionOf(ctx); act != nil {
		act.started = true
	}
}

// touch notes the onboarding and the change request (either may be nil) the
// staff action ctx runs for acts on, so its entry names them wherever it is
// written.
func touch(ctx context.Context, o *domain.Onboarding, cr *domain.ChangeRequest) {
	act := actionOf(ctx)
	if act == nil {
		return
	}
	if o != nil {
		act.o = o
	}
	if cr != nil {
		act.cr = cr
	}
}

// recordWith is the staff action whose entry a write carries: the action
// ctx runs for when this is its last write (last) and its entry is not
// written yet; nil otherwise. The entry is then in flight with the write's
// transaction (settle says how that ended), whether or not the
// transaction gets as far as adding it.
func recordWith(ctx context.Context, last bool) *staffAction {
	act := actionOf(ctx)
	if !last || act == nil || act.state != auditPending {
		return nil
	}
	act.state = auditInFlight
	return act
}

// addWith writes the entry in tx, the transaction of the write that records
// what the action did to o (and to its change request cr); nothing for a
// nil act.
func (act *staffAction) addWith(ctx context.Context, tx pgx.Tx, o *domain.Onboarding, cr *domain.ChangeRequest) error {
	if act == nil {
		return nil
	}
	result := ResultOK
	if act.failing {
		result = ResultError
	}
	return act.add(ctx, tx, result, act.o, act.cr)
}

// settle moves the entry on once its write's transaction has ended with
// err: committed, rolled back by a lost race (left to Audited, which
// records it as overtaken), or rolled back by a failure (not recorded).
func (act *staffAction) settle(err error) {
	if act == nil || act.state != auditInFlight {
		return
	}
	switch {
	case err == nil:
		act.state = auditWritten
	case errors.Is(err, db.ErrStale):
		act.state = auditPending
	default:
		act.state = auditDropped
	}
}

// add writes the entry and, when Describe gives a message, the staff event.
func (act *staffAction) add(ctx context.Context, q db.Querier, result string, o *domain.Onboarding, cr *domain.ChangeRequest) error {
	out := Outcome{From: act.from, Onboarding: o, Change: cr, Started: act.started, Result: result}
	var detail map[string]any
	msg := ""
	if act.Describe != nil {
		detail, msg = act.Describe(out)
	}
	e := db.AuditEntry{StaffID: &act.StaffID, Actor: act.Actor, Action: act.Action, Detail: detail, IP: act.IP}
	switch {
	case o != nil:
		e.OnboardingID = &o.ID
	case cr != nil:
		e.OnboardingID = &cr.OnboardingID
	}
	if msg == "" {
		if err := db.AddAudit(ctx, q, e); err != nil {
			return fmt.Errorf("onboarding: audit: %w", err)
		}
		return nil
	}
	// The event names the action and, for one on the onboarding itself, the
	// status before and after, so the timeline can say it in words
	// (handlers/timeline.go) instead of showing msg.
	ev := domain.Event{Message: msg, Operation: act.Action}
	if o != nil && cr == nil {
		ev.FromStatus, ev.ToStatus = string(act.from), string(o.Status)
	}
	return db.AddStaffAction(ctx, q, e, ev)
}

// onboardingSnapshot is what SaveOnboardingTx sets on o, to put back when
// its transaction does not commit.
type onboardingSnapshot struct {
	updatedAt, statusAt time.Time
	version             int
}

func snapshot(o *domain.Onboarding) onboardingSnapshot {
	return onboardingSnapshot{updatedAt: o.UpdatedAt, statusAt: o.StatusAt, version: o.Version}
}

func (k onboardingSnapshot) restore(o *domain.Onboarding) {
	o.UpdatedAt, o.StatusAt, o.Version = k.updatedAt, k.statusAt, k.version
}
