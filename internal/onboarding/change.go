package onboarding

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/onboard-altinn/onboard/internal/altinn"
	"github.com/onboard-altinn/onboard/internal/config"
	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
)

// ErrAgentChange matches the refusal of a change for an agent (client)
// system user: Altinn cannot change one, so a new system user is needed
// instead (domain.ReasonAgent).
var ErrAgentChange error = &domain.NotAllowedError{Action: domain.ActionChange, Reason: domain.ReasonAgent}

// ErrNotConnected matches the refusal of a change for an onboarding that is
// not connected, or whose system user's id is not known: only a verified
// system user can change (domain.ReasonStatus).
var ErrNotConnected error = &domain.NotAllowedError{Action: domain.ActionChange, Reason: domain.ReasonStatus}

// ErrSystemUserReplaced is returned when Altinn no longer knows the system
// user a change request named, because the customer has a new one: asking
// again asks about the new one.
var ErrSystemUserReplaced = errors.New("onboarding: the system user was replaced at Altinn; ask for the change again")

// Error codes kept on a change request besides Altinn's AUTH codes (and
// CodeUnavailable, CodeConfirmHost and CodeGone, which mean what they mean
// on an onboarding).
const (
	CodeChangeExpired = "change_expired" // Altinn timed the change request out before the customer decided
)

// Change is what a system user lacks against its product's configuration
// (required) and what it holds that the product no longer asks for
// (unwanted): rights by resource id, access packages by URN.
type Change struct {
	RequiredRights, UnwantedRights     []string
	RequiredPackages, UnwantedPackages []string
}

// Empty reports whether nothing differs.
func (c Change) Empty() bool {
	return len(c.RequiredRights)+len(c.UnwantedRights)+len(c.RequiredPackages)+len(c.UnwantedPackages) == 0
}

// Granted is what o's system user holds as far as we know: what was recorded
// when it connected and moved by accepted change requests, or, for one from
// before grants were recorded, what p asks for now.
func Granted(o *domain.Onboarding, p config.Product) (rights, packages []string) {
	rights, packages = o.GrantedRights, o.GrantedPackages
	if rights == nil {
		rights = p.Rights
	}
	if packages == nil {
		packages = p.AccessPackages
	}
	return rights, packages
}

// Lacks compares what o's system user holds with what p asks for now.
func Lacks(o *domain.Onboarding, p config.Product) Change {
	rights, packages := Granted(o, p)
	return Change{
		RequiredRights: missing(p.Rights, rights), UnwantedRights: missing(rights, p.Rights),
		RequiredPackages: missing(p.AccessPackages, packages), UnwantedPackages: missing(packages, p.AccessPackages),
	}
}

// missing is what want has that have lacks, in want's order.
func missing(want, have []string) []string {
	out := []string{}
	for _, w := range want {
		if !slices.Contains(have, w) && !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}

// RequestChange asks Altinn for a change request that brings o's system user
// to o's product's current rights and packages (required = configured but
// not granted; unwanted = granted but no longer configured). Idempotent: when
// o already has a live change request (requesting or pending) it
// continues/refreshes that one (same correlation id) instead of making
// another; the correlation id is stored in Postgres BEFORE Altinn is called.
// Returns the stored change request (its status may be no_change when Altinn
// says NoChangeNeeded).
//
// Like Start, it does not fail because Altinn said no: that is kept on the
// change request (failed, with the code). One left in requesting with
// ErrorCode CodeUnavailable did not get a usable answer; calling
// RequestChange again re-sends it with the same correlation id. Errors:
// ErrAgentChange (an agent system user, refused before Altinn is called, or
// Altinn's AUTH-00015 for a system user that byquery still finds),
// ErrNotConnected (not connected, or AUTH-00015 and the system user is gone:
// o is then revoked), ErrUnknownProduct, ErrSuperseded (a concurrent change
// won; the returned change request and o hold the newer state), or a store
// failure.
func (s *Service) RequestChange(ctx context.Context, o *domain.Onboarding, cause domain.Cause, actor string) (*domain.ChangeRequest, error) {
	ctx, cancel := s.detach(ctx)
	defer cancel()
	// The rulebook's refusal: an agent system user is refused outright; a
	// live change request is followed whatever o's status has become since
	// it was made, and only a new one needs o to allow the change.
	refusal := o.Check(domain.ActionChange)
	if errors.Is(refusal, ErrAgentChange) {
		return nil, refusal
	}
	live, err := s.DB.LiveChangeRequest(ctx, o.ID)
	switch {
	case err == nil:
		return live, s.settleChange(ctx, o, live, s.continueChange(ctx, o, live, cause, actor))
	case !errors.Is(err, db.ErrNotFound):
		return nil, fmt.Errorf("onboarding: live change request: %w", err)
	}
	if refusal != nil {
		return nil, refusal
	}
	p, ok := s.product(o.Product)
	if !ok {
		return nil, ErrUnknownProduct
	}
	if p.Kind == domain.KindAgent {
		return nil, ErrAgentChange
	}
	id, err := newUUID()
	if err != nil {
		return nil, err
	}
	ref, err := NewRef()
	if err != nil {
		return nil, err
	}
	ch := Lacks(o, p)
	cr, err := s.DB.CreateChangeRequest(ctx, db.NewChangeRequest{
		ID: id, OnboardingID: o.ID, Ref: ref, SystemUserID: *o.SystemUserID,
		RequiredRights: ch.RequiredRights, UnwantedRights: ch.UnwantedRights,
		RequiredPackages: ch.RequiredPackages, UnwantedPackages: ch.UnwantedPackages,
		Cause: cause, Actor: actor,
	})
	if errors.Is(err, db.ErrConflict) {
		// Another request or instance started one meanwhile: follow that one.
		if cr, err = s.DB.LiveChangeRequest(ctx, o.ID); err != nil {
			return nil, fmt.Errorf("onboarding: find the concurrent change request: %w", err)
		}
		return cr, s.settleChange(ctx, o, cr, s.continueChange(ctx, o, cr, cause, actor))
	}
	if err != nil {
		return nil, err
	}
	return cr, s.settleChange(ctx, o, cr, s.sendChange(ctx, o, cr, cause, actor))
}

// RefreshChange re-reads a live change request from Altinn (GET
// changerequest/vendor/{id}); one still in requesting is sent again with its
// correlation id instead, which Altinn answers with the one it has (or
// NoChangeNeeded again), so it never makes two. A change request that has
// ended is left as it is. Errors are as for RequestChange.
func (s *Service) RefreshChange(ctx context.Context, o *domain.Onboarding, cr *domain.ChangeRequest, cause domain.Cause, actor string) error {
	ctx, cancel := s.detach(ctx)
	defer cancel()
	return s.settleChange(ctx, o, cr, s.continueChange(ctx, o, cr, cause, actor))
}

func (s *Service) continueChange(ctx context.Context, o *domain.Onboarding, cr *domain.ChangeRequest, cause domain.Cause, actor string) error {
	switch cr.Status {
	case domain.ChangeRequesting:
		return s.sendChange(ctx, o, cr, cause, actor)
	case domain.ChangePending:
		return s.readChange(ctx, o, cr, cause, actor)
	}
	return nil
}

// refreshLiveChange reads o's pending change request from Altinn, if it has
// one; Refresh of a connected onboarding (the reconciler's sweep, the status
// page, staff) calls it. A lost race on the change request is no error here:
// whoever won read it too.
func (s *Service) refreshLiveChange(ctx context.Context, o *domain.Onboarding, cause domain.Cause, actor string) error {
	cr, err := s.DB.LiveChangeRequest(ctx, o.ID)
	switch {
	case errors.Is(err, db.ErrNotFound):
		return nil
	case err != nil:
		return fmt.Errorf("onboarding: live change request: %w", err)
	case cr.Status != domain.ChangePending:
		return nil // requesting: RequestChange and RefreshChange re-send it
	}
	if err := s.readChange(ctx, o, cr, cause, actor); !errors.Is(err, errChangeStale) {
		return err
	}
	return nil
}

// ErrChangeEnded is returned by CancelChange for a change request that is
// no longer live: there is nothing left to withdraw.
var ErrChangeEnded = errors.New("onboarding: the change request has ended")

// CancelChange withdraws a live change request: it is deleted at Altinn (if
// it got there) and marked cancelled, so a new one can be made.
func (s *Service) CancelChange(ctx context.Context, o *domain.Onboarding, cr *domain.ChangeRequest, cause domain.Cause, actor string) error {
	ctx, cancel := s.detach(ctx)
	defer cancel()
	if !cr.Live() {
		return ErrChangeEnded
	}
	prev := cr.Status
	start := time.Now()
	err := s.Altinn.DeleteChangeRequest(ctx, cr.ID)
	events := []domain.Event{s.callEvent(cause, actor, "DELETE changerequest/vendor/{id}", start, 202, err, nil)}
	if err != nil && !errors.Is(err, altinn.ErrNotFound) {
		setChangeError(cr, CodeUnavailable, "could not delete the change request at Altinn: "+errorText(err))
		noteFailing(ctx) // CancelChange returns err after this save
		if serr := s.saveChange(ctx, cr, prev, cause, actor, nil, events...); serr != nil {
			return s.settleChange(ctx, o, cr, serr)
		}
		return fmt.Errorf("onboarding: cancel change request: %w", err)
	}
	cr.Status, cr.ConfirmURL = domain.ChangeCancelled, nil
	clearChangeError(cr)
	return s.settleChange(ctx, o, cr, s.saveChange(ctx, cr, prev, cause, actor, nil, events...))
}

// RecordChangeReturn notes that a browser came back on a change request's
// redirect URL.
func (s *Service) RecordChangeReturn(ctx context.Context, cr *domain.ChangeRequest, withCookie bool) error {
	msg := "customer returned from Altinn's change request page (" + cr.ID + ")"
	if !withCookie {
		msg += " (another browser)"
	}
	return s.DB.AddEvent(ctx, domain.Event{OnboardingID: cr.OnboardingID, Kind: domain.EventReturn, Cause: domain.CauseCustomer, Message: msg})
}

// sendChange POSTs the change request with its stored correlation id.
func (s *Service) sendChange(ctx context.Context, o *domain.Onboarding, cr *domain.ChangeRequest, cause domain.Cause, actor string) error {
	prev := cr.Status
	start := time.Now()
	res, created, err := s.Altinn.CreateChangeRequest(ctx, altinn.CreateChangeRequest{
		CorrelationID: cr.ID, SystemUserID: cr.SystemUserID,
		RequiredRights: rights(cr.RequiredRights), UnwantedRights: rights(cr.UnwantedRights),
		RequiredAccessPackages: packages(cr.RequiredPackages), UnwantedAccessPackages: packages(cr.UnwantedPackages),
		RedirectURL: s.changeRedirectURL(cr),
	})
	status := 200
	if created {
		status = 201
	}
	events := []domain.Event{s.changeCallEvent(cause, actor, "POST changerequest/vendor", start, status, err, res)}
	if err == nil {
		return s.applyChange(ctx, o, cr, prev, res, cause, actor, events)
	}
	var prob *altinn.Problem
	switch {
	case errors.As(err, &prob) && prob.Code == "AUTH-00015":
		// No standard system user by that id at Altinn: an agent one (which
		// cannot change), or one the customer deleted. byquery tells which.
		cr.Status, cr.ConfirmURL = domain.ChangeFailed, nil
		setChangeError(cr, prob.Code, errorText(err))
		if err := s.saveChangeStep(ctx, cr, prev, cause, actor, nil, events...); err != nil {
			return err
		}
		before := o.SystemUserID
		noteFailing(ctx) // whatever byquery says, the change fails after verify's save
		if err := s.verify(ctx, o, o.Status, cause, actor, nil); err != nil {
			return err
		}
		switch {
		case o.Status != domain.StatusConnected:
			return ErrNotConnected
		case o.SystemUserID != nil && (before == nil || *before != *o.SystemUserID):
			// The customer's system user was replaced at Altinn: asking
			// again asks about the new one.
			return ErrSystemUserReplaced
		}
		return ErrAgentChange
	case isAmbiguous(err):
		// Altinn may have stored it: stay in requesting; the next attempt
		// sends the same correlation id and gets the stored one back.
		setChangeError(cr, CodeUnavailable, errorText(err))
	default:
		cr.Status, cr.ConfirmURL = domain.ChangeFailed, nil
		code := CodeAltinnRefuse
		if prob != nil && prob.Code != "" {
			code = prob.Code
		}
		setChangeError(cr, code, errorText(err))
	}
	return s.saveChange(ctx, cr, prev, cause, actor, nil, events...)
}

// readChange GETs a pending change request to learn the customer's decision.
func (s *Service) readChange(ctx context.Context, o *domain.Onboarding, cr *domain.ChangeRequest, cause domain.Cause, actor string) error {
	prev := cr.Status
	start := time.Now()
	res, err := s.Altinn.GetChangeRequest(ctx, cr.ID)
	events := []domain.Event{s.changeCallEvent(cause, actor, "GET changerequest/vendor/{id}", start, 200, err, res)}
	switch {
	case err == nil:
		return s.applyChange(ctx, o, cr, prev, res, cause, actor, events)
	case errors.Is(err, altinn.ErrNotFound):
		cr.Status, cr.ConfirmURL = domain.ChangeFailed, nil
		setChangeError(cr, CodeGone, "the change request no longer exists at Altinn")
	default:
		setChangeError(cr, CodeUnavailable, errorText(err))
	}
	return s.saveChange(ctx, cr, prev, cause, actor, nil, events...)
}

// applyChange sets the change request from what Altinn says about it; when
// the change took effect (accepted, or nothing needed changing) the
// onboarding's grants move with it in the same transaction.
func (s *Service) applyChange(ctx context.Context, o *domain.Onboarding, cr *domain.ChangeRequest, prev domain.ChangeStatus, res *altinn.ChangeRequest, cause domain.Cause, actor string, events []domain.Event) error {
	clearChangeError(cr)
	var move *db.GrantMove
	switch {
	case res.Status == altinn.StatusNoChangeNeeded:
		cr.Status, cr.ConfirmURL = domain.ChangeNoChange, nil
		move = s.grantMove(o)
	case res.Status == altinn.StatusAccepted:
		cr.Status, cr.ConfirmURL = domain.ChangeAccepted, nil
		move = s.grantMove(o)
	case res.Status == altinn.StatusRejected || res.Status == altinn.StatusDenied:
		cr.Status, cr.ConfirmURL = domain.ChangeRejected, nil
	case res.TimedOut || strings.EqualFold(res.Status, altinn.StatusTimedout):
		cr.Status, cr.ConfirmURL = domain.ChangeFailed, nil
		setChangeError(cr, CodeChangeExpired, "the change request timed out at Altinn before the customer decided")
	default: // New
		cr.Status = domain.ChangePending
		if err := s.checkConfirmURL(res.ConfirmURL); err != nil {
			cr.ConfirmURL = nil
			setChangeError(cr, CodeConfirmHost, err.Error())
			break
		}
		cu := res.ConfirmURL
		cr.ConfirmURL = &cu
	}
	return s.saveChange(ctx, cr, prev, cause, actor, move, events...)
}

// grantMove moves o's grants by a change that took effect, counting an
// onboarding whose grants were never recorded as holding its product's
// configuration.
func (s *Service) grantMove(o *domain.Onboarding) *db.GrantMove {
	p, _ := s.product(o.Product)
	return &db.GrantMove{Onboarding: o, BaseRights: grantList(p.Rights), BasePackages: grantList(p.AccessPackages)}
}

// errChangeStale is a lost race on the change request's row (db.ErrStale on
// the onboarding's is left to settle).
var errChangeStale = errors.New("onboarding: change request changed since it was read")

// saveChange stores cr with its events, as save does for onboardings: the
// time Altinn was asked, and a context of its own.
func (s *Service) saveChange(ctx context.Context, cr *domain.ChangeRequest, prev domain.ChangeStatus, cause domain.Cause, actor string, move *db.GrantMove, events ...domain.Event) error {
	return s.writeChange(ctx, true, cr, prev, cause, actor, move, events...)
}

// saveChangeStep is saveChange for a write that is not its operation's
// last, as saveStep is for save.
func (s *Service) saveChangeStep(ctx context.Context, cr *domain.ChangeRequest, prev domain.ChangeStatus, cause domain.Cause, actor string, move *db.GrantMove, events ...domain.Event) error {
	return s.writeChange(ctx, false, cr, prev, cause, actor, move, events...)
}

// writeChange is saveChange and saveChangeStep: last says whether this is
// the operation's last write.
func (s *Service) writeChange(ctx context.Context, last bool, cr *domain.ChangeRequest, prev domain.ChangeStatus, cause domain.Cause, actor string, move *db.GrantMove, events ...domain.Event) error {
	for _, e := range events {
		if e.Kind == domain.EventAltinnCall {
			now := s.now()
			cr.CheckedAt = &now
			break
		}
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	// One transaction: the change, its webhook event and, for a staff
	// action's last write, the action's audit entry.
	touch(ctx, nil, cr)
	audit := recordWith(ctx, last)
	updatedAt, version := cr.UpdatedAt, cr.Version
	var moved *db.MovedGrants
	err := s.DB.Tx(sctx, func(tx pgx.Tx) (err error) {
		if moved, err = db.SaveChangeRequestTx(sctx, tx, cr, prev, cause, actor, move, events...); err != nil {
			return err
		}
		if cr.Status != prev {
			if err := s.outbox().AddChangeEvent(sctx, tx, cr, prev); err != nil {
				return err
			}
		}
		return audit.addWith(sctx, tx, nil, cr)
	})
	audit.settle(err)
	if err != nil {
		cr.UpdatedAt, cr.Version = updatedAt, version // kept only if it committed
	}
	if errors.Is(err, db.ErrStale) {
		return errChangeStale
	}
	if err != nil {
		return fmt.Errorf("onboarding: save change request: %w", err)
	}
	if move != nil {
		moved.ApplyTo(move.Onboarding)
	}
	if cr.Status != prev && s.Log != nil {
		s.Log.InfoContext(ctx, "change request status", "onboarding", cr.OnboardingID, "change_request", cr.ID,
			"from", prev, "to", cr.Status, "cause", cause)
	}
	// A change request waiting for the customer is looked at on the waiting
	// schedule (counted from its creation), not a connected onboarding's
	// daily one: the reconciler's look at the onboarding reads it too. The
	// change request is saved already: a failure here is only logged (the
	// onboarding's next save brings its look forward again, see save).
	if cr.Status == domain.ChangePending && s.Schedule != nil {
		if at := s.Schedule.NextCheck(domain.StatusPending, cr.CreatedAt, s.now()); at != nil {
			if err := s.DB.CheckOnboardingBy(sctx, cr.OnboardingID, *at); err != nil && s.Log != nil {
				s.Log.WarnContext(ctx, "change request's next look not scheduled", "onboarding", cr.OnboardingID, "err", err)
			}
		}
	}
	return nil
}

// changeCheck is when a connected onboarding's pending change request is
// next to be looked at, or nil when it has none (or it cannot be read: the
// onboarding's own schedule then stands).
func (s *Service) changeCheck(ctx context.Context, o *domain.Onboarding, now time.Time) *time.Time {
	if o.Status != domain.StatusConnected || s.Schedule == nil {
		return nil
	}
	cr, err := s.DB.LiveChangeRequest(ctx, o.ID)
	if err != nil || cr.Status != domain.ChangePending {
		return nil
	}
	return s.Schedule.NextCheck(domain.StatusPending, cr.CreatedAt, now)
}

// settleChange turns a lost race into the winner's state, for the change
// request (re-read) and for the onboarding (settle).
func (s *Service) settleChange(ctx context.Context, o *domain.Onboarding, cr *domain.ChangeRequest, err error) error {
	if errors.Is(err, errChangeStale) {
		fresh, rerr := s.DB.ChangeRequestByID(context.WithoutCancel(ctx), cr.ID)
		if rerr != nil {
			return fmt.Errorf("onboarding: re-read a change request after a concurrent save: %w", rerr)
		}
		*cr = *fresh
		return ErrSuperseded
	}
	return s.settle(ctx, o, err)
}

// changeRedirectURL is where Altinn sends the customer back after deciding:
// the one registered return path, with the change request's reference.
func (s *Service) changeRedirectURL(cr *domain.ChangeRequest) string {
	return s.ReturnURL + "?ref=" + url.QueryEscape(cr.Ref)
}

// changeCallEvent is callEvent for change-request calls, keeping Altinn's
// answer (as decoded) on the event.
func (s *Service) changeCallEvent(cause domain.Cause, actor, op string, start time.Time, okStatus int, err error, res *altinn.ChangeRequest) domain.Event {
	e := s.callEvent(cause, actor, op, start, okStatus, err, nil)
	if err == nil && res != nil {
		if b, merr := json.Marshal(res); merr == nil {
			e.Raw = b
		}
	}
	return e
}

func setChangeError(cr *domain.ChangeRequest, code, msg string) {
	msg = truncate(msg, 1000)
	cr.ErrorCode, cr.ErrorMessage = &code, &msg
}

func clearChangeError(cr *domain.ChangeRequest) { cr.ErrorCode, cr.ErrorMessage = nil, nil }

// grantList is l as a never-nil slice: an empty grant is "none", not "unknown".
func grantList(l []string) []string {
	return append([]string{}, l...)
}

// rightIDs are the resource ids of rights as Altinn reports them.
func rightIDs(rs []altinn.Right) []string {
	out := []string{}
	for _, r := range rs {
		for _, a := range r.Resource {
			if a.ID == "urn:altinn:resource" && !slices.Contains(out, a.Value) {
				out = append(out, a.Value)
			}
		}
	}
	return out
}

// packageURNs are the URNs of access packages as Altinn reports them.
func packageURNs(ps []altinn.AccessPackage) []string {
	out := []string{}
	for _, p := range ps {
		if !slices.Contains(out, p.URN) {
			out = append(out, p.URN)
		}
	}
	return out
}

// newUUID makes a change request's correlation id: a random (version 4)
// uuid, made here so it can be stored before Altinn hears of it.
func newUUID() (string, error) {
	id, err := uuid.NewRandom()
	if err != nil {
		return "", fmt.Errorf("onboarding: random uuid: %w", err)
	}
	return id.String(), nil
}
