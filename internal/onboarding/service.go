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

	"github.com/onboard-altinn/onboard/internal/altinn"
	"github.com/onboard-altinn/onboard/internal/config"
	"github.com/onboard-altinn/onboard/internal/db"
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

// Service starts and follows onboardings.
type Service struct {
	DB           *db.DB
	Altinn       Altinn
	Products     []config.Product
	ReturnURL    string   // the registered redirect URL, without query
	ConfirmHosts []string // hosts a confirmUrl may point to
	Log          *slog.Logger
	Now          func() time.Time
}

// StartInput is what is known when a customer (or staff, or the API) starts.
type StartInput struct {
	Product     string
	OrgNo       string // already validated
	CustomerRef string
	Lang        string
	Cause       string
	Actor       string
}

// Start finds or creates the live onboarding for the product and org, and
// brings it to where the customer can act: a fresh one gets an Altinn request;
// an existing one is re-read from Altinn (or re-created when it had failed).
// The returned onboarding is always stored; err is only for failures to
// store or find it, never for Altinn saying no (that is kept on the record).
func (s *Service) Start(ctx context.Context, in StartInput) (*db.Onboarding, error) {
	p, ok := s.product(in.Product)
	if !ok {
		return nil, ErrUnknownProduct
	}
	extRef := p.ExternalRef
	if extRef == "" {
		extRef = in.OrgNo
	}
	ref, err := newRef()
	if err != nil {
		return nil, err
	}
	o, err := s.DB.CreateOnboarding(ctx, db.NewOnboarding{
		Ref: ref, Product: p.ID, Kind: p.Kind, SystemID: p.SystemID, OrgNo: in.OrgNo, ExternalRef: extRef,
		CustomerRef: in.CustomerRef, Lang: in.Lang, Cause: in.Cause, Actor: in.Actor,
	})
	switch {
	case err == nil:
		return o, s.create(ctx, o, p, in.Cause, in.Actor, false)
	case errors.Is(err, db.ErrConflict):
		o, err = s.DB.LiveOnboarding(ctx, p.SystemID, in.OrgNo, extRef)
		if err != nil {
			return nil, fmt.Errorf("onboarding: find existing: %w", err)
		}
		if o.Product != p.ID {
			// Another product holds this Altinn key; follow that onboarding rather than fight over it.
			return o, s.Refresh(ctx, o, in.Cause, in.Actor)
		}
		return o, s.Continue(ctx, o, in.Cause, in.Actor)
	default:
		return nil, err
	}
}

// Continue moves an existing onboarding on: one that never reached Altinn is
// sent again (after a lookup, so it is never created twice), one that ended
// badly is renewed, and any other is re-read from Altinn.
func (s *Service) Continue(ctx context.Context, o *db.Onboarding, cause, actor string) error {
	switch o.Status {
	case db.StatusRequesting, db.StatusStarted:
		p, ok := s.product(o.Product)
		if !ok {
			return ErrUnknownProduct
		}
		return s.create(ctx, o, p, cause, actor, true)
	case db.StatusRejected, db.StatusExpired, db.StatusFailed, db.StatusRevoked:
		return s.Renew(ctx, o, cause, actor)
	default:
		return s.Refresh(ctx, o, cause, actor)
	}
}

// Renew deletes the onboarding's old request at Altinn (if any) and creates a
// new one, for rejected, expired, failed and revoked onboardings.
func (s *Service) Renew(ctx context.Context, o *db.Onboarding, cause, actor string) error {
	p, ok := s.product(o.Product)
	if !ok {
		return ErrUnknownProduct
	}
	if o.AltinnRequestID != nil {
		op := "DELETE request/vendor/{id}"
		start := time.Now()
		err := s.Altinn.DeleteRequest(ctx, *o.AltinnRequestID)
		ev := callEvent(cause, actor, op, start, 202, err, nil)
		if err != nil && !errors.Is(err, altinn.ErrNotFound) {
			prev := o.Status
			setError(o, CodeUnavailable, "could not delete the old request at Altinn: "+errorText(err))
			return s.save(ctx, o, prev, cause, actor, ev)
		}
		prev := o.Status
		o.AltinnRequestID, o.ConfirmURL, o.Escalated = nil, nil, false
		o.Status = db.StatusRequesting
		clearError(o)
		if err := s.save(ctx, o, prev, cause, actor, ev); err != nil {
			return err
		}
	} else if o.Status != db.StatusRequesting {
		prev := o.Status
		o.Status = db.StatusRequesting
		clearError(o)
		if err := s.save(ctx, o, prev, cause, actor); err != nil {
			return err
		}
	}
	return s.create(ctx, o, p, cause, actor, true)
}

// create sends the Altinn request for an onboarding in status requesting.
// When lookupFirst is set (any attempt after the first) it first asks Altinn
// whether an earlier attempt did reach it, so an ambiguous outcome (timeout,
// 5xx after storing, a crash before our commit) never makes two requests.
func (s *Service) create(ctx context.Context, o *db.Onboarding, p config.Product, cause, actor string, lookupFirst bool) error {
	prev := o.Status
	var events []db.Event
	if lookupFirst {
		req, evs, err := s.lookup(ctx, o, cause, actor)
		events = evs
		if err != nil {
			setError(o, CodeUnavailable, errorText(err))
			return s.save(ctx, o, prev, cause, actor, events...)
		}
		if req != nil {
			return s.apply(ctx, o, prev, req, cause, actor, events)
		}
	}

	redirect := s.ReturnURL + "?ref=" + url.QueryEscape(o.Ref)
	var (
		req     *altinn.Request
		created bool
		err     error
		op      string
	)
	start := time.Now()
	if o.Kind == config.KindAgent {
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
	}
	events = append(events, callEvent(cause, actor, op, start, status, err, req))
	if err != nil {
		var prob *altinn.Problem
		switch {
		case errors.As(err, &prob) && prob.Code == "AUTH-00004":
			// A system user already exists for this key: confirm it and we are connected.
			return s.verify(ctx, o, prev, cause, actor, events)
		case isAmbiguous(err):
			// Altinn may or may not have stored it: stay in requesting; the next
			// attempt looks it up by external ref before creating again.
			setError(o, CodeUnavailable, errorText(err))
		default:
			o.Status = db.StatusFailed
			code := CodeAltinnRefuse
			if prob != nil && prob.Code != "" {
				code = prob.Code
			}
			setError(o, code, errorText(err))
		}
		return s.save(ctx, o, prev, cause, actor, events...)
	}
	return s.apply(ctx, o, prev, req, cause, actor, events)
}

// lookup asks Altinn whether an earlier attempt for o's key reached it. It
// returns the live request, or nil when there is none (a dead one, rejected or
// timed out, is deleted so the key is free for a new request).
func (s *Service) lookup(ctx context.Context, o *db.Onboarding, cause, actor string) (*altinn.Request, []db.Event, error) {
	op, get := "GET request/vendor/byexternalref", s.Altinn.GetRequestByExternalRef
	if o.Kind == config.KindAgent {
		op, get = "GET request/vendor/agent/byexternalref", s.Altinn.GetAgentRequestByExternalRef
	}
	start := time.Now()
	req, err := get(ctx, o.SystemID, o.OrgNo, o.ExternalRef)
	events := []db.Event{callEvent(cause, actor, op, start, 200, err, req)}
	switch {
	case errors.Is(err, altinn.ErrNotFound):
		return nil, events, nil
	case err != nil:
		return nil, events, err
	case req.Status == altinn.StatusRejected || req.Expired():
		start := time.Now()
		derr := s.Altinn.DeleteRequest(ctx, req.ID)
		events = append(events, callEvent(cause, actor, "DELETE request/vendor/{id}", start, 202, derr, nil))
		if derr != nil && !errors.Is(derr, altinn.ErrNotFound) {
			return nil, events, fmt.Errorf("could not delete an old request at Altinn: %w", derr)
		}
		return nil, events, nil
	}
	return req, events, nil
}

// Refresh re-reads the onboarding from Altinn: the request by id and, when it
// is accepted or connected, the system user with byquery.
func (s *Service) Refresh(ctx context.Context, o *db.Onboarding, cause, actor string) error {
	prev := o.Status
	switch o.Status {
	case db.StatusConnected:
		return s.verify(ctx, o, prev, cause, actor, nil)
	case db.StatusRequesting, db.StatusStarted:
		// Not at Altinn as far as we know. An earlier attempt's answer may have
		// been lost, so look; creating is left to Continue (a refresh is a read).
		req, events, err := s.lookup(ctx, o, cause, actor)
		switch {
		case err != nil:
			setError(o, CodeUnavailable, errorText(err))
		case req != nil:
			return s.apply(ctx, o, prev, req, cause, actor, events)
		}
		return s.save(ctx, o, prev, cause, actor, events...)
	case db.StatusCancelled:
		return nil
	}
	if o.AltinnRequestID == nil {
		return nil
	}
	op, get := "GET request/vendor/{id}", s.Altinn.GetRequest
	if o.Kind == config.KindAgent {
		op, get = "GET request/vendor/agent/{id}", s.Altinn.GetAgentRequest
	}
	start := time.Now()
	req, err := get(ctx, *o.AltinnRequestID)
	events := []db.Event{callEvent(cause, actor, op, start, 200, err, req)}
	if err != nil {
		if errors.Is(err, altinn.ErrNotFound) {
			// Deleted at Altinn: by the customer (with the system user), or by someone else.
			if o.Status == db.StatusAccepted {
				return s.verify(ctx, o, prev, cause, actor, events)
			}
			o.Status = db.StatusFailed
			setError(o, CodeGone, "the request no longer exists at Altinn")
			return s.save(ctx, o, prev, cause, actor, events...)
		}
		setError(o, CodeUnavailable, errorText(err))
		return s.save(ctx, o, prev, cause, actor, events...)
	}
	return s.apply(ctx, o, prev, req, cause, actor, events)
}

// apply sets the onboarding from what Altinn says about its request.
func (s *Service) apply(ctx context.Context, o *db.Onboarding, prev string, req *altinn.Request, cause, actor string, events []db.Event) error {
	now := s.now()
	o.CheckedAt = &now
	id := req.ID
	o.AltinnRequestID = &id
	o.Escalated = req.Escalated
	clearError(o)
	switch {
	case req.Status == altinn.StatusAccepted:
		o.Status = db.StatusAccepted
		return s.verify(ctx, o, prev, cause, actor, events)
	case req.Status == altinn.StatusTimedout:
		// The legacy rule overwrote even accepted requests; a system user settles it.
		return s.verify(ctx, o, prev, cause, actor, events)
	case req.Status == altinn.StatusRejected || req.Status == altinn.StatusDenied:
		o.Status = db.StatusRejected
	case req.Expired():
		o.Status = db.StatusExpired
	default: // New
		o.Status = db.StatusPending
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
func (s *Service) verify(ctx context.Context, o *db.Onboarding, prev, cause, actor string, events []db.Event) error {
	start := time.Now()
	su, err := s.Altinn.SystemUserByQuery(ctx, o.SystemID, o.OrgNo, o.ExternalRef)
	events = append(events, callEvent(cause, actor, "GET systemuser/vendor/byquery", start, 200, err, su))
	now := s.now()
	o.CheckedAt = &now
	switch {
	case err == nil && !su.IsDeleted:
		id := su.ID
		o.SystemUserID = &id
		if o.Status != db.StatusConnected {
			o.ConnectedAt = &now
		}
		o.Status = db.StatusConnected
		o.Escalated = false
		clearError(o)
	case err == nil || errors.Is(err, altinn.ErrNotFound):
		switch o.Status {
		case db.StatusConnected:
			o.Status = db.StatusRevoked
			setError(o, CodeGone, "the system user was deleted in Altinn")
		case db.StatusAccepted:
			setError(o, CodeNotVerified, "Altinn says accepted, but the system user was not found yet")
		default:
			o.Status = db.StatusExpired
			setError(o, CodeGone, "the request timed out at Altinn and no system user exists")
		}
	default:
		setError(o, CodeUnavailable, errorText(err))
	}
	return s.save(ctx, o, prev, cause, actor, events...)
}

// RecordReturn notes that a browser came back on the redirect URL.
func (s *Service) RecordReturn(ctx context.Context, o *db.Onboarding, withCookie bool) error {
	msg := "customer returned from Altinn"
	if !withCookie {
		msg += " (another browser)"
	}
	return s.DB.AddEvent(ctx, db.Event{OnboardingID: o.ID, Kind: db.EventReturn, Cause: db.CauseCustomer, Message: msg})
}

func (s *Service) save(ctx context.Context, o *db.Onboarding, prev, cause, actor string, events ...db.Event) error {
	if err := s.DB.SaveOnboarding(ctx, o, prev, cause, actor, events...); err != nil {
		return fmt.Errorf("onboarding: save: %w", err)
	}
	if o.Status != prev && s.Log != nil {
		s.Log.InfoContext(ctx, "onboarding status", "onboarding", o.ID, "from", prev, "to", o.Status, "cause", cause)
	}
	return nil
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
		if isLoopback(u.Hostname()) {
			return nil
		}
	}
	return fmt.Errorf("confirmUrl scheme %q is not https", u.Scheme)
}

// Product returns the configured product with id.
func (s *Service) Product(id string) (config.Product, bool) { return s.product(id) }

func (s *Service) product(id string) (config.Product, bool) {
	for _, p := range s.Products {
		if p.ID == id {
			return p, true
		}
	}
	return config.Product{}, false
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

func callEvent(cause, actor, op string, start time.Time, okStatus int, err error, body any) db.Event {
	e := db.Event{Kind: db.EventAltinnCall, Cause: cause, Actor: actor, Operation: op,
		LatencyMS: int(time.Since(start).Milliseconds()), HTTPStatus: okStatus}
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

func setError(o *db.Onboarding, code, msg string) {
	msg = truncate(msg, 1000)
	o.ErrorCode, o.ErrorMessage = &code, &msg
}

func clearError(o *db.Onboarding) { o.ErrorCode, o.ErrorMessage = nil, nil }

func errorText(err error) string { return truncate(err.Error(), 1000) }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func isLoopback(host string) bool {
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

// newRef makes the short unguessable return reference put in redirectUrl's
// query: 128 random bits, base64url, 22 characters.
func newRef() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("onboarding: random ref: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
