// Package onboarding is the one service layer for "start an onboarding",
// "refresh from Altinn" and "renew" that the wizard, the dashboard and the API
// share. Every path records its Altinn calls and status changes the same way.
package onboarding

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/onboard-altinn/onboard/internal/altinn"
	"github.com/onboard-altinn/onboard/internal/config"
	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
)

// Altinn is the part of the Altinn client the service uses.
type Altinn interface {
	CreateRequest(ctx context.Context, r altinn.CreateRequest) (*altinn.Request, bool, error)
	CreateAgentRequest(ctx context.Context, r altinn.CreateAgentRequest) (*altinn.Request, bool, error)
	GetRequest(ctx context.Context, id string) (*altinn.Request, error)
	GetAgentRequest(ctx context.Context, id string) (*altinn.Request, error)
	GetRequestByExternalRef(ctx context.Context, systemID, orgNo, externalRef string) (*altinn.Request, error)
	GetAgentRequestByExternalRef(ctx context.Context, systemID, orgNo, externalRef string) (*altinn.Request, error)
	DeleteRequest(ctx context.Context, id string) error
	SystemUserByQuery(ctx context.Context, systemID, orgNo, externalRef string) (*altinn.SystemUser, error)
	// ListSystemUsers lists a system's system users (the dashboard's
	// system-users page, systemusers.go).
	ListSystemUsers(ctx context.Context, systemID string) ([]altinn.SystemUser, error)
	// Change requests (change.go).
	CreateChangeRequest(ctx context.Context, r altinn.CreateChangeRequest) (*altinn.ChangeRequest, bool, error)
	GetChangeRequest(ctx context.Context, id string) (*altinn.ChangeRequest, error)
	DeleteChangeRequest(ctx context.Context, id string) error
}

// Error codes kept on an onboarding (error_code) besides Altinn's AUTH codes.
const (
	CodeUnavailable  = "altinn_unavailable"  // Altinn or Maskinporten did not answer usefully; retry is safe
	CodeConfirmHost  = "confirm_host"        // Altinn's confirmUrl pointed to a host not on the allowlist
	CodeGone         = "request_gone"        // the request no longer exists at Altinn
	CodeNotVerified  = "system_user_missing" // Accepted, but byquery did not find the system user yet
	CodeAltinnRefuse = "altinn_refused"      // Altinn refused without a code
)

// ErrUnknownProduct is returned for a product id that is not configured.
var ErrUnknownProduct = errors.New("onboarding: unknown product")

// CheckSchedule says when the reconciler should next re-read an onboarding
// from Altinn (internal/jobs has the configured one).
type CheckSchedule interface {
	// NextCheck returns when to look next at an onboarding that entered
	// status at since, or nil when nothing about it can change by itself.
	NextCheck(status domain.Status, since, now time.Time) *time.Time
}

// Service starts and follows onboardings.
type Service struct {
	DB           *db.DB
	Altinn       Altinn
	Products     []config.Product
	ReturnURL    string   // the registered redirect URL, without query
	ConfirmHosts []string // hosts a confirmUrl may point to
	Log          *slog.Logger
	Now          func() time.Time
	OpTimeout    time.Duration // the longest one operation (several Altinn calls) may take
	// Schedule sets each onboarding's next_check_at on every save, in the
	// same transaction as its status. Nil leaves next_check_at alone.
	Schedule CheckSchedule
	// Outbox, when set, stores each change's webhook event in the change's
	// transaction (record.go); nil: no webhooks.
	Outbox Outbox
	// Tokens, when set, gets system-user tokens from Maskinporten to prove
	// connected onboardings usable (usability.go); nil: never checked.
	Tokens SystemUserTokens
}

// StartInput is what is known when a customer (or staff, or the API) starts.
type StartInput struct {
	Product     string
	OrgNo       string // already validated
	CustomerRef string
	Lang        string
	Cause       domain.Cause
	Actor       string
	// OrgName is the organisation's name from Enhetsregisteret, as the
	// customer confirmed it ("": not looked up or not found; stored as NULL).
	// Only a new onboarding takes it: one that exists keeps what it has.
	OrgName string
	// OnlyNew starts only a new onboarding: when one holds the Altinn key
	// already, Start returns it untouched (no Altinn call, no renewal) with
	// ErrExists, so a browser that did not start it cannot undo or renew a
	// customer's decision.
	OnlyNew bool
	// Ref is the return reference the caller reserved for a new onboarding
	// (NewRef); "" makes one. A new onboarding takes it, so the caller can
	// tell on a retry that the onboarding found is the one it started. When
	// an onboarding that has ended holds it already, a new one is made.
	Ref string
}

// ErrExists is Start's answer with OnlyNew when a live onboarding holds the
// key already; the onboarding is returned as stored.
var ErrExists = errors.New("onboarding: an onboarding for this organisation exists already")

// maxOrgName is the longest name stored (the column's check, in characters).
const maxOrgName = 250

// orgName is a name as stored: trimmed, at most maxOrgName characters.
func orgName(s string) string {
	s = strings.TrimSpace(s)
	if r := []rune(s); len(r) > maxOrgName {
		s = strings.TrimSpace(string(r[:maxOrgName]))
	}
	return s
}

// Start finds or creates the live onboarding for the product and org, and
// brings it to where the customer can act: a fresh one gets an Altinn request;
// an existing one is re-read from Altinn (or re-created when it had failed).
// The returned onboarding is always stored; err is only for failures to
// store or find it, never for Altinn saying no (that is kept on the record).
// started reports whether this call began something new (the onboarding, or
// a new Altinn request for it): only then is the caller its starter, entitled
// to see its details.
func (s *Service) Start(ctx context.Context, in StartInput) (o *domain.Onboarding, started bool, err error) {
	ctx, cancel := s.detach(ctx)
	defer cancel()
	p, ok := s.product(in.Product)
	if !ok {
		return nil, false, ErrUnknownProduct
	}
	extRef := p.ExternalRef
	if extRef == "" {
		extRef = in.OrgNo
	}
	ref := in.Ref
	if ref == "" {
		if ref, err = NewRef(); err != nil {
			return nil, false, err
		}
	}
	// The new onboarding and its webhook event, in one transaction; not a
	// staff action's last write (create follows). Stored before Altinn is
	// called. Without webhooks the row (with its event) is one statement.
	n := db.NewOnboarding{
		Ref: ref, Product: p.ID, Kind: p.Kind, SystemID: p.SystemID, OrgNo: in.OrgNo, ExternalRef: extRef,
		CustomerRef: in.CustomerRef, Lang: in.Lang, Cause: in.Cause, Actor: in.Actor,
		NextCheckAt: s.nextCheck(domain.StatusRequesting, s.now()),
		OrgName:     orgName(in.OrgName),
	}
	if s.outboxStores() {
		err = s.DB.Tx(ctx, func(tx pgx.Tx) (err error) {
			if o, err = db.CreateOnboardingTx(ctx, tx, n); err != nil {
				return err
			}
			return s.outbox().AddStatusEvent(ctx, tx, o, "")
		})
	} else {
		o, err = db.CreateOnboardingTx(ctx, s.DB.Pool, n)
	}
	switch {
	case err == nil:
		touch(ctx, o, nil)
		noteStarted(ctx)
		_, err = s.create(ctx, o, p, in.Cause, in.Actor, false)
		return o, true, s.settle(ctx, o, err)
	case errors.Is(err, db.ErrConflict):
		o, err = s.DB.LiveOnboarding(ctx, p.SystemID, in.OrgNo, extRef)
		if errors.Is(err, db.ErrNotFound) && in.Ref != "" {
			// No live onboarding: the reserved reference is an ended one's
			// (a form posted again long after); start with a fresh one.
			in.Ref = ""
			return s.Start(ctx, in)
		}
		if err != nil {
			return nil, false, fmt.Errorf("onboarding: find existing: %w", err)
		}
		if in.OnlyNew {
			return o, false, ErrExists
		}
		if o.Product != p.ID {
			// Another product holds this Altinn key; follow that onboarding rather than fight over it.
			return o, false, s.settle(ctx, o, s.refresh(ctx, o, in.Cause, in.Actor))
		}
		started, err = s.cont(ctx, o, in.Cause, in.Actor)
		return o, started, s.settle(ctx, o, err)
	default:
		return nil, false, err
	}
}

// Continue moves an existing onboarding on: one that never reached Altinn is
// sent again (after a lookup, so it is never created twice), one that ended
// badly is renewed, and any other is re-read from Altinn.
func (s *Service) Continue(ctx context.Context, o *domain.Onboarding, cause domain.Cause, actor string) error {
	ctx, cancel := s.detach(ctx)
	defer cancel()
	_, err := s.cont(ctx, o, cause, actor)
	return s.settle(ctx, o, err)
}

func (s *Service) cont(ctx context.Context, o *domain.Onboarding, cause domain.Cause, actor string) (created bool, err error) {
	switch {
	case o.Status == domain.StatusRequesting:
		// Never reached Altinn as far as we know: send it (again).
		p, ok := s.product(o.Product)
		if !ok {
			return false, ErrUnknownProduct
		}
		return s.create(ctx, o, p, cause, actor, true)
	case domain.Allows(o.Status, domain.ActionRenew):
		return s.renew(ctx, o, cause, actor)
	default:
		return false, s.refresh(ctx, o, cause, actor)
	}
}

// Renew deletes the onboarding's old request at Altinn (if any) and creates a
// new one, where the rulebook allows it (rejected, expired, failed and
// revoked onboardings); elsewhere it returns the rulebook's refusal, a
// *domain.NotAllowedError.
func (s *Service) Renew(ctx context.Context, o *domain.Onboarding, cause domain.Cause, actor string) error {
	if err := o.Check(domain.ActionRenew); err != nil {
		return err
	}
	ctx, cancel := s.detach(ctx)
	defer cancel()
	_, err := s.renew(ctx, o, cause, actor)
	return s.settle(ctx, o, err)
}

func (s *Service) renew(ctx context.Context, o *domain.Onboarding, cause domain.Cause, actor string) (bool, error) {
	p, ok := s.product(o.Product)
	if !ok {
		return false, ErrUnknownProduct
	}
	prev := o.Status
	var events []domain.Event
	if o.AltinnRequestID != nil {
		start := time.Now()
		err := s.Altinn.DeleteRequest(ctx, *o.AltinnRequestID)
		events = append(events, s.callEvent(cause, actor, "DELETE request/vendor/{id}", start, 202, err, nil))
		if err != nil && !errors.Is(err, altinn.ErrNotFound) {
			setError(o, CodeUnavailable, "could not delete the old request at Altinn: "+errorText(err))
			return false, s.save(ctx, o, prev, cause, actor, events...)
		}
	}
	o.AltinnRequestID, o.ConfirmURL, o.SystemUserID, o.Escalated = nil, nil, nil, false
	o.GrantedRights, o.GrantedPackages = nil, nil // the new system user's are set when it is connected
	o.Status = domain.StatusRequesting
	clearError(o)
	if err := s.saveStep(ctx, o, prev, cause, actor, events...); err != nil {
		return false, err
	}
	return s.create(ctx, o, p, cause, actor, true)
}

// ErrNotCancellable matches Cancel's refusal of an onboarding whose system
// user exists (accepted or connected): deleting its request would not
// remove the system user, which only the customer can delete in Altinn.
var ErrNotCancellable error = &domain.NotAllowedError{Action: domain.ActionCancel, Reason: domain.ReasonSystemUser}

// Cancel deletes the onboarding's request at Altinn (if any) and closes the
// onboarding, freeing its key for a new one. Where the rulebook does not
// allow it, it returns the refusal (a *domain.NotAllowedError): with the
// reason ErrNotCancellable names for an accepted or connected onboarding,
// domain.ReasonDone for one cancelled already.
func (s *Service) Cancel(ctx context.Context, o *domain.Onboarding, cause domain.Cause, actor string) error {
	if err := o.Check(domain.ActionCancel); err != nil {
		return err
	}
	ctx, cancel := s.detach(ctx)
	defer cancel()
	prev := o.Status
	var events []domain.Event
	// failAt records what Altinn did not answer and returns err.
	failAt := func(what string, err error) error {
		setError(o, CodeUnavailable, "could not "+what+" the request at Altinn: "+errorText(err))
		noteFailing(ctx) // Cancel returns err after this save
		if serr := s.save(ctx, o, prev, cause, actor, events...); serr != nil {
			return s.settle(ctx, o, serr)
		}
		return fmt.Errorf("onboarding: cancel: %w", err)
	}
	if o.AltinnRequestID == nil && (o.Status == domain.StatusRequesting || o.Status == domain.StatusStarted) {
		// Its create may have reached Altinn with the answer lost: look it
		// up by external ref, so cancelling leaves no live request behind.
		req, evs, err := s.lookup(ctx, o, cause, actor, false)
		events = append(events, evs...)
		switch {
		case err != nil:
			return failAt("look up", err)
		case req != nil && req.Status == altinn.StatusAccepted:
			// The customer approved it meanwhile: a system user exists,
			// which only the customer can delete. Refresh shows it; the
			// lookup stays on the timeline.
			if serr := s.save(ctx, o, prev, cause, actor, events...); serr != nil {
				return s.settle(ctx, o, serr)
			}
			return &domain.NotAllowedError{Action: domain.ActionCancel, Status: o.Status, Reason: domain.ReasonSystemUser}
		case req != nil:
			o.AltinnRequestID = &req.ID
		}
	}
	if o.AltinnRequestID != nil {
		start := time.Now()
		err := s.Altinn.DeleteRequest(ctx, *o.AltinnRequestID)
		events = append(events, s.callEvent(cause, actor, "DELETE request/vendor/{id}", start, 202, err, nil))
		if err != nil && !errors.Is(err, altinn.ErrNotFound) {
			return failAt("delete", err)
		}
	}
	o.Status = domain.StatusCancelled
	o.ConfirmURL = nil
	clearError(o)
	return s.settle(ctx, o, s.save(ctx, o, prev, cause, actor, events...))
}

// ProductFor is the product a system user belongs to: the same system, the
// same kind (standard or agent) and the external ref the product gives its
// system users (the organisation number by default).
func ProductFor(ps []config.Product, su altinn.SystemUser) (config.Product, bool) {
	kind := domain.KindStandard
	if strings.EqualFold(su.UserType, string(domain.KindAgent)) {
		kind = domain.KindAgent
	}
	for _, p := range ps {
		ext := p.ExternalRef
		if ext == "" {
			ext = su.ReporteeOrgNo
		}
		if p.SystemID == su.SystemID && p.Kind == kind && ext == su.ExternalRef {
			return p, true
		}
	}
	return config.Product{}, false
}

// ErrNoProduct is returned by Import when no configured product matches the
// system user's system, kind and external ref.
var ErrNoProduct = errors.New("onboarding: no product matches this system user")

// Import records a system user that the customer created outside the wizard
// (directly in Altinn) as a connected onboarding of the matching product.
func (s *Service) Import(ctx context.Context, su altinn.SystemUser, cause domain.Cause, actor string) (*domain.Onboarding, error) {
	p, found := ProductFor(s.Products, su)
	if !found {
		return nil, ErrNoProduct
	}
	ref, err := NewRef()
	if err != nil {
		return nil, err
	}
	// The imported onboarding, its webhook event and, for staff, the
	// import's audit entry, in one transaction.
	var o *domain.Onboarding
	audit := recordWith(ctx, true)
	err = s.DB.Tx(ctx, func(tx pgx.Tx) (err error) {
		o, err = db.ImportOnboardingTx(ctx, tx, db.NewOnboarding{
			Ref: ref, Product: p.ID, Kind: p.Kind, SystemID: su.SystemID, OrgNo: su.ReporteeOrgNo,
			ExternalRef: su.ExternalRef, Lang: "nb", Cause: cause, Actor: actor,
			NextCheckAt: s.nextCheck(domain.StatusConnected, s.now()),
			// What the product asks for is the best guess at what was granted in Altinn.
			GrantedRights: grantList(p.Rights), GrantedPackages: grantList(p.AccessPackages),
		}, su.ID)
		if err != nil {
			return err
		}
		if err := s.outbox().AddStatusEvent(ctx, tx, o, ""); err != nil {
			return err
		}
		touch(ctx, o, nil)
		return audit.addWith(ctx, tx, o, nil)
	})
	audit.settle(err)
	if err != nil {
		return nil, err
	}
	// Newly connected: is it usable? The import stands whatever the answer;
	// a failure to record it is left to the reconciler's next look.
	if ev := s.checkUsable(ctx, o, cause, actor); ev != nil {
		if err := s.settle(ctx, o, s.save(ctx, o, o.Status, cause, actor, ev...)); err != nil && s.Log != nil {
			s.Log.WarnContext(ctx, "usability of an imported system user not recorded", "onboarding", o.ID, "err", err)
		}
	}
	return o, nil
}

// create sends the Altinn request for an onboarding in status requesting,
// and reports whether Altinn made a new one (201). When lookupFirst is set
// (any attempt after the first) it first asks Altinn whether an earlier
// attempt did reach it, so an ambiguous outcome (timeout, 5xx after storing,
// a crash before our commit) never makes two requests.
func (s *Service) create(ctx context.Context, o *domain.Onboarding, p config.Product, cause domain.Cause, actor string, lookupFirst bool) (bool, error) {
	prev := o.Status
	var events []domain.Event
	if lookupFirst {
		req, evs, err := s.lookup(ctx, o, cause, actor, true)
		events = evs
		if err != nil {
			setError(o, CodeUnavailable, errorText(err))
			return false, s.save(ctx, o, prev, cause, actor, events...)
		}
		if req != nil {
			return false, s.apply(ctx, o, prev, req, cause, actor, events)
		}
	}

	redirect := s.redirectURL(o)
	req, created, evs, err := s.post(ctx, o, p, redirect, cause, actor)
	events = append(events, evs...)
	if err == nil && !created && req.Status == altinn.StatusNew && req.RedirectURL != redirect {
		// Altinn answered with an existing request that sends the customer
		// back to some other onboarding (one we lost, or made by the vendor's
		// own product). Nobody is waiting on it through us: replace it, so
		// this customer comes back here.
		start := time.Now()
		derr := s.Altinn.DeleteRequest(ctx, req.ID)
		events = append(events, s.callEvent(cause, actor, "DELETE request/vendor/{id}", start, 202, derr, nil))
		if derr != nil && !errors.Is(derr, altinn.ErrNotFound) {
			setError(o, CodeUnavailable, "could not replace a request at Altinn: "+errorText(derr))
			return false, s.save(ctx, o, prev, cause, actor, events...)
		}
		req, created, evs, err = s.post(ctx, o, p, redirect, cause, actor)
		events = append(events, evs...)
	}
	if err != nil {
		var prob *altinn.Problem
		switch {
		case errors.As(err, &prob) && prob.Code == "AUTH-00004":
			// A system user already exists for this key: confirm it and we are connected.
			return false, s.verify(ctx, o, prev, cause, actor, events)
		case isAmbiguous(err):
			// Altinn may or may not have stored it: stay in requesting; the next
			// attempt looks it up by external ref before creating again.
			setError(o, CodeUnavailable, errorText(err))
		default:
			o.Status = domain.StatusFailed
			code := CodeAltinnRefuse
			if prob != nil && prob.Code != "" {
				code = prob.Code
			}
			setError(o, code, errorText(err))
		}
		return false, s.save(ctx, o, prev, cause, actor, events...)
	}
	return created, s.apply(ctx, o, prev, req, cause, actor, events)
}

// post makes one create call of the onboarding's kind.
func (s *Service) post(ctx context.Context, o *domain.Onboarding, p config.Product, redirect string, cause domain.Cause, actor string) (*altinn.Request, bool, []domain.Event, error) {
	var (
		req     *altinn.Request
		created bool
		err     error
		op      string
	)
	start := time.Now()
	if o.Kind == domain.KindAgent {
		op = "POST request/vendor/agent"
		req, created, err = s.Altinn.CreateAgentRequest(ctx, altinn.CreateAgentRequest{
			SystemID: o.SystemID, PartyOrgNo: o.OrgNo, ExternalRef: o.ExternalRef,
			AccessPackages: packages(p.AccessPackages), RedirectURL: redirect,
		})
	} else {
		op = "POST request/vendor"
		req, created, err = s.Altinn.CreateRequest(ctx, altinn.CreateRequest{
			SystemID: o.SystemID, PartyOrgNo: o.OrgNo, ExternalRef: o.ExternalRef,
			Rights: rights(p.Rights), AccessPackages: packages(p.AccessPackages), RedirectURL: redirect,
		})
	}
	status := 200
	if created {
		status = 201
		noteStarted(ctx)
	}
	return req, created, []domain.Event{s.callEvent(cause, actor, op, start, status, err, req)}, err
}

// redirectURL is where Altinn sends the customer back: the one registered
// return path, with the onboarding's reference in the query.
func (s *Service) redirectURL(o *domain.Onboarding) string {
	return s.ReturnURL + "?ref=" + url.QueryEscape(o.Ref)
}

// lookup asks Altinn whether an earlier attempt for o's key reached it and
// returns that request, or nil when there is none. With clearDead (only on
// the way to creating a new one) a dead request, rejected or timed out before
// anyone approved it, is deleted instead, so the key is free.
func (s *Service) lookup(ctx context.Context, o *domain.Onboarding, cause domain.Cause, actor string, clearDead bool) (*altinn.Request, []domain.Event, error) {
	op, get := "GET request/vendor/byexternalref", s.Altinn.GetRequestByExternalRef
	if o.Kind == domain.KindAgent {
		op, get = "GET request/vendor/agent/byexternalref", s.Altinn.GetAgentRequestByExternalRef
	}
	start := time.Now()
	req, err := get(ctx, o.SystemID, o.OrgNo, o.ExternalRef)
	events := []domain.Event{s.callEvent(cause, actor, op, start, 200, err, req)}
	switch {
	case errors.Is(err, altinn.ErrNotFound):
		return nil, events, nil
	case err != nil:
		return nil, events, err
	case !clearDead || req.Status == altinn.StatusAccepted:
		return req, events, nil
	case req.Status == altinn.StatusRejected || req.Status == altinn.StatusDenied || req.Expired():
		start := time.Now()
		derr := s.Altinn.DeleteRequest(ctx, req.ID)
		events = append(events, s.callEvent(cause, actor, "DELETE request/vendor/{id}", start, 202, derr, nil))
		if derr != nil && !errors.Is(derr, altinn.ErrNotFound) {
			return nil, events, fmt.Errorf("could not delete an old request at Altinn: %w", derr)
		}
		return nil, events, nil
	}
	return req, events, nil
}

// Refresh re-reads the onboarding from Altinn: the request by id and, when it
// is accepted or connected, the system user with byquery. It only reads:
// creating and deleting are left to Continue and Renew.
func (s *Service) Refresh(ctx context.Context, o *domain.Onboarding, cause domain.Cause, actor string) error {
	ctx, cancel := s.detach(ctx)
	defer cancel()
	return s.settle(ctx, o, s.refresh(ctx, o, cause, actor))
}

func (s *Service) refresh(ctx context.Context, o *domain.Onboarding, cause domain.Cause, actor string) error {
	if !domain.Allows(o.Status, domain.ActionRefresh) {
		return nil // cancelled: nothing to read
	}
	prev := o.Status
	switch o.Status {
	case domain.StatusConnected:
		if err := s.verify(ctx, o, prev, cause, actor, nil); err != nil || o.Status != domain.StatusConnected {
			return err
		}
		// A change request waiting for the customer is looked at too, so one
		// approved without coming back here is noticed (change.go).
		return s.refreshLiveChange(ctx, o, cause, actor)
	case domain.StatusRequesting:
		// Not at Altinn as far as we know, but an earlier attempt's answer
		// may have been lost: look.
		req, events, err := s.lookup(ctx, o, cause, actor, false)
		switch {
		case err != nil:
			setError(o, CodeUnavailable, errorText(err))
		case req != nil:
			return s.apply(ctx, o, prev, req, cause, actor, events)
		}
		return s.save(ctx, o, prev, cause, actor, events...)
	}
	if o.AltinnRequestID == nil {
		return nil
	}
	op, get := "GET request/vendor/{id}", s.Altinn.GetRequest
	if o.Kind == domain.KindAgent {
		op, get = "GET request/vendor/agent/{id}", s.Altinn.GetAgentRequest
	}
	start := time.Now()
	req, err := get(ctx, *o.AltinnRequestID)
	events := []domain.Event{s.callEvent(cause, actor, op, start, 200, err, req)}
	switch {
	case err == nil:
		return s.apply(ctx, o, prev, req, cause, actor, events)
	case errors.Is(err, altinn.ErrNotFound) && o.Status == domain.StatusAccepted:
		// Deleted with its system user by the customer, or never verified: byquery settles it.
		return s.verify(ctx, o, prev, cause, actor, events)
	case errors.Is(err, altinn.ErrNotFound):
		// Deleted at Altinn. A newer request for the key may have replaced it.
		req, evs, lerr := s.lookup(ctx, o, cause, actor, false)
		events = append(events, evs...)
		switch {
		case lerr != nil:
			setError(o, CodeUnavailable, errorText(lerr))
		case req != nil:
			return s.apply(ctx, o, prev, req, cause, actor, events)
		case domain.CanMove(o.Status, domain.StatusFailed):
			o.Status = domain.StatusFailed
			setError(o, CodeGone, "the request no longer exists at Altinn")
		default:
			// It had ended (rejected, expired, revoked): its request going
			// too (with the system user, say) changes nothing, and what
			// ended it stays its cause (the rulebook has no such move).
		}
		return s.save(ctx, o, prev, cause, actor, events...)
	default:
		setError(o, CodeUnavailable, errorText(err))
		return s.save(ctx, o, prev, cause, actor, events...)
	}
}

// apply sets the onboarding from what Altinn says about its request.
func (s *Service) apply(ctx context.Context, o *domain.Onboarding, prev domain.Status, req *altinn.Request, cause domain.Cause, actor string, events []domain.Event) error {
	id := req.ID
	o.AltinnRequestID = &id
	o.Escalated = req.Escalated
	clearError(o)
	switch {
	case req.Status == altinn.StatusAccepted:
		if o.Status != domain.StatusConnected {
			// What the approved request asked for is what its system user holds.
			o.GrantedRights, o.GrantedPackages = rightIDs(req.Rights), packageURNs(req.AccessPackages)
		}
		o.Status = domain.StatusAccepted
		return s.verify(ctx, o, prev, cause, actor, events)
	case req.Status == altinn.StatusTimedout:
		// The legacy rule overwrote even accepted requests; a system user settles it.
		return s.verify(ctx, o, prev, cause, actor, events)
	case req.Status == altinn.StatusRejected || req.Status == altinn.StatusDenied:
		o.Status = domain.StatusRejected
	case req.Expired():
		o.Status = domain.StatusExpired
	default: // New
		o.Status = domain.StatusPending
		if err := s.checkConfirmURL(req.ConfirmURL); err != nil {
			o.ConfirmURL = nil
			setError(o, CodeConfirmHost, err.Error())
			return s.save(ctx, o, prev, cause, actor, events...)
		}
		cu := req.ConfirmURL
		o.ConfirmURL = &cu
	}
	return s.save(ctx, o, prev, cause, actor, events...)
}

// verify confirms the system user with byquery: found and not deleted means
// connected; gone means revoked (when it was connected) or still only accepted.
func (s *Service) verify(ctx context.Context, o *domain.Onboarding, prev domain.Status, cause domain.Cause, actor string, events []domain.Event) error {
	start := time.Now()
	su, err := s.Altinn.SystemUserByQuery(ctx, o.SystemID, o.OrgNo, o.ExternalRef)
	events = append(events, s.callEvent(cause, actor, "GET systemuser/vendor/byquery", start, 200, err, su))
	now := s.now()
	switch {
	case err == nil && !su.IsDeleted:
		id := su.ID
		o.SystemUserID = &id
		if o.Status != domain.StatusConnected {
			o.ConnectedAt = &now
			if o.GrantedRights == nil && o.GrantedPackages == nil {
				// Connected without reading its request (AUTH-00004, the legacy
				// Timedout): the product's configuration is what was asked for.
				p, _ := s.product(o.Product)
				o.GrantedRights, o.GrantedPackages = grantList(p.Rights), grantList(p.AccessPackages)
			}
		}
		o.Status = domain.StatusConnected
		o.Escalated = false
		clearError(o)
		if s.checkOnVerify(o, prev, cause) {
			events = append(events, s.checkUsable(ctx, o, cause, actor)...)
		}
	case err == nil || errors.Is(err, altinn.ErrNotFound):
		switch o.Status {
		case domain.StatusConnected:
			o.Status = domain.StatusRevoked
			setError(o, CodeGone, "the system user was deleted in Altinn")
		case domain.StatusAccepted, domain.StatusRequesting:
			// Altinn said accepted, or that a system user exists (AUTH-00004),
			// but byquery does not find it (yet): say so and look again later.
			setError(o, CodeNotVerified, "Altinn reports a system user that byquery does not find yet")
		default:
			// The legacy Timedout status on a request nobody approved.
			o.Status = domain.StatusExpired
			setError(o, CodeGone, "the request timed out at Altinn and no system user exists")
		}
	default:
		setError(o, CodeUnavailable, errorText(err))
	}
	return s.save(ctx, o, prev, cause, actor, events...)
}

// RecordReturn notes that a browser came back on the redirect URL.
func (s *Service) RecordReturn(ctx context.Context, o *domain.Onboarding, withCookie bool) error {
	msg := "customer returned from Altinn"
	if !withCookie {
		msg += " (another browser)"
	}
	return s.DB.AddEvent(ctx, domain.Event{OnboardingID: o.ID, Kind: domain.EventReturn, Cause: domain.CauseCustomer, Message: msg})
}

// save stores o with its events. Whenever Altinn was asked, the time is kept
// in checked_at, so status pages can throttle their reads on it whatever the
// answer was. The reconciler's next look (next_check_at) is set from the
// schedule in the same write, so every status change carries its follow-up.
// It uses a context of its own: once Altinn has answered, the answer is
// recorded even if the customer's browser has gone.
func (s *Service) save(ctx context.Context, o *domain.Onboarding, prev domain.Status, cause domain.Cause, actor string, events ...domain.Event) error {
	return s.write(ctx, true, o, prev, cause, actor, events...)
}

// saveStep is save for a write that is not its operation's last (more
// follows: another save, a call to Altinn), so it does not carry a staff
// action's audit entry (record.go).
func (s *Service) saveStep(ctx context.Context, o *domain.Onboarding, prev domain.Status, cause domain.Cause, actor string, events ...domain.Event) error {
	return s.write(ctx, false, o, prev, cause, actor, events...)
}

// write is save and saveStep: last says whether this is the operation's
// last write.
func (s *Service) write(ctx context.Context, last bool, o *domain.Onboarding, prev domain.Status, cause domain.Cause, actor string, events ...domain.Event) error {
	// Every move is one the rulebook has (domain/rules.go); any other is a
	// bug here, refused before it is stored.
	if err := domain.CheckMove(prev, o.Status); err != nil {
		return fmt.Errorf("onboarding: save: %w", err)
	}
	now := s.now()
	if !domain.HasUsability(o.Status) {
		// Usability belongs to a connected system user (usability.go).
		clearUsability(o)
	}
	for _, e := range events {
		if e.Kind == domain.EventAltinnCall {
			o.CheckedAt = &now
			break
		}
	}
	if s.Schedule != nil {
		since := o.StatusAt
		if o.Status != prev || since.IsZero() {
			since = now // SaveOnboarding moves status_at to now on a change
		}
		o.NextCheckAt = s.Schedule.NextCheck(o.Status, since, now)
		// A change request waiting for the customer brings a connected
		// onboarding's next look forward (change.go).
		if at := s.changeCheck(ctx, o, now); at != nil && (o.NextCheckAt == nil || at.Before(*o.NextCheckAt)) {
			o.NextCheckAt = at
		}
		// Altinn asked us to wait (Retry-After): the next look waits too.
		if nb := s.NotBefore(); o.NextCheckAt != nil && nb.After(*o.NextCheckAt) {
			o.NextCheckAt = &nb
		}
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	// One transaction: the change, its webhook events and, for a staff
	// action's last write, the action's audit entry.
	touch(ctx, o, nil)
	audit, kept := recordWith(ctx, last), snapshot(o)
	var err error
	if audit == nil && !s.outboxStores() {
		// Nothing goes out with the change: the row and its events are
		// one statement, atomic by itself (and usable as it was, which
		// only a usability webhook needs, is not read).
		err = s.DB.SaveOnboarding(sctx, o, prev, cause, actor, events...)
	} else {
		err = s.DB.Tx(sctx, func(tx pgx.Tx) error {
			prevUsable, err := db.SaveOnboardingTx(sctx, tx, o, prev, cause, actor, events...)
			if err != nil {
				return err
			}
			if o.Status != prev {
				if err := s.outbox().AddStatusEvent(sctx, tx, o, prev); err != nil {
					return err
				}
			}
			if domain.UsabilityChanged(prevUsable, o.Usable) {
				if err := s.outbox().AddUsabilityEvent(sctx, tx, o, prevUsable); err != nil {
					return err
				}
			}
			return audit.addWith(sctx, tx, o, nil)
		})
	}
	audit.settle(err)
	if err != nil {
		kept.restore(o) // what the UPDATE set is kept only if it committed
		return fmt.Errorf("onboarding: save: %w", err)
	}
	if o.Status != prev && s.Log != nil {
		s.Log.LogAttrs(ctx, slog.LevelInfo, "onboarding status", slog.String("onboarding", o.ID),
			slog.String("from", string(prev)), slog.String("to", string(o.Status)), slog.String("cause", string(cause)))
	}
	return nil
}

// NotBefore is when the Altinn client sends calls again after Altinn asked
// it to wait (Retry-After), or the zero time when it is not held back.
func (s *Service) NotBefore() time.Time {
	if h, ok := s.Altinn.(interface{ NotBefore() time.Time }); ok {
		return h.NotBefore()
	}
	return time.Time{}
}

// ErrSuperseded is returned when another request or instance saved the
// onboarding while this operation ran: o now holds the newer row, and what
// this operation meant to do may not have happened. A customer page can
// simply show o; a staff action must not be recorded as done.
var ErrSuperseded = errors.New("onboarding: superseded by a concurrent change")

// settle turns a lost race into the winner's state: when another request
// saved the onboarding first, o is re-read and ErrSuperseded returned.
func (s *Service) settle(ctx context.Context, o *domain.Onboarding, err error) error {
	if !errors.Is(err, db.ErrStale) {
		return err
	}
	fresh, rerr := s.DB.OnboardingByID(context.WithoutCancel(ctx), o.ID)
	if rerr != nil {
		return fmt.Errorf("onboarding: re-read after a concurrent save: %w", rerr)
	}
	*o = *fresh
	return ErrSuperseded
}

// detach gives a service operation a context that outlives the customer's
// request (an Altinn call that has started is seen through and recorded) but
// not forever.
func (s *Service) detach(ctx context.Context) (context.Context, context.CancelFunc) {
	d := s.OpTimeout
	if d <= 0 {
		d = 2 * time.Minute
	}
	return context.WithTimeout(context.WithoutCancel(ctx), d)
}

// checkConfirmURL refuses a confirmUrl that would send the customer anywhere
// but Altinn: https on an allowed host (plain http only for a loopback
// simulator that is itself on the allowlist).
func (s *Service) checkConfirmURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("confirmUrl %q is not an absolute URL", truncate(raw, 200))
	}
	host := strings.ToLower(u.Host)
	if !slices.Contains(s.ConfirmHosts, host) && !slices.Contains(s.ConfirmHosts, strings.ToLower(u.Hostname())) {
		return fmt.Errorf("confirmUrl host %q is not on ONBOARD_ALTINN_CONFIRM_HOSTS", truncate(u.Host, 100))
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if IsLoopback(u.Hostname()) {
			return nil
		}
	}
	return fmt.Errorf("confirmUrl scheme %q is not https", u.Scheme)
}

// nextCheck is when the reconciler should first look at an onboarding that
// enters status now, or nil without a schedule.
func (s *Service) nextCheck(status domain.Status, now time.Time) *time.Time {
	if s.Schedule == nil {
		return nil
	}
	return s.Schedule.NextCheck(status, now, now)
}

func (s *Service) product(id string) (config.Product, bool) {
	return config.FindProduct(s.Products, id)
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// isAmbiguous reports whether Altinn may have acted on a call whose answer we
// did not get: transport errors, timeouts, 5xx, 429, unreadable bodies and
// token failures (which never reached Altinn, but are just as safe to retry).
func isAmbiguous(err error) bool {
	var prob *altinn.Problem
	if errors.As(err, &prob) {
		return errors.Is(err, altinn.ErrUnavailable) || prob.Code == "AUTH-00012"
	}
	return true
}

// callEvent records one Altinn call. On success the client does not report
// the status line, so okStatus is the status the contract gives for that
// call (201 or 200 for a create, as the client tells them apart); on failure
// it is the status Altinn answered, or 0 when no answer came. (The call's
// metrics are the Altinn client's transport's: internal/metrics.)
func (s *Service) callEvent(cause domain.Cause, actor, op string, start time.Time, okStatus int, err error, body any) domain.Event {
	took := time.Since(start)
	e := domain.Event{Kind: domain.EventAltinnCall, Cause: cause, Actor: actor, Operation: op,
		LatencyMS: int(took.Milliseconds()), HTTPStatus: okStatus}
	var prob *altinn.Problem
	switch {
	case err == nil:
		switch b := body.(type) {
		case *altinn.Request:
			if b != nil {
				e.Raw = b.Raw
			}
		case *altinn.SystemUser:
			if b != nil {
				e.Raw = b.Raw
			}
		}
	case errors.As(err, &prob):
		e.HTTPStatus = prob.Status
		e.AltinnCode = prob.Code
		e.Message = errorText(err)
		if strings.HasPrefix(strings.TrimSpace(prob.Body), "{") {
			e.Raw = []byte(prob.Body)
		}
	default:
		e.HTTPStatus = 0
		e.Message = errorText(err)
	}
	return e
}

func setError(o *domain.Onboarding, code, msg string) {
	msg = truncate(msg, 1000)
	o.ErrorCode, o.ErrorMessage = &code, &msg
}

func clearError(o *domain.Onboarding) { o.ErrorCode, o.ErrorMessage = nil, nil }

func errorText(err error) string { return truncate(err.Error(), 1000) }

// truncate shortens s to at most n bytes without cutting a character in two.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// IsLoopback reports whether host names this machine, where plain http is
// as safe as https (the simulator).
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func rights(ids []string) []altinn.Right {
	out := make([]altinn.Right, 0, len(ids))
	for _, id := range ids {
		out = append(out, altinn.Right{Resource: []altinn.AttributePair{{ID: "urn:altinn:resource", Value: id}}})
	}
	return out
}

func packages(urns []string) []altinn.AccessPackage {
	out := make([]altinn.AccessPackage, 0, len(urns))
	for _, u := range urns {
		out = append(out, altinn.AccessPackage{URN: u})
	}
	return out
}

// NewRef makes the short unguessable return reference put in redirectUrl's
// query: 128 random bits, base64url, 22 characters.
func NewRef() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("onboarding: random ref: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
