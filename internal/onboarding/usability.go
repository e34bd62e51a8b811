package onboarding

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/maskinporten"
)

// Usable, not just accepted: a connected onboarding is proven usable when
// Maskinporten issues a system-user token for its system user (then thrown
// away). It is checked when byquery first confirms the system user, at
// every re-read of a connected onboarding by the reconciler (the revoke
// sweep), when a system user made outside the wizard is imported, and when
// staff ask (TestConnection). A refusal keeps the onboarding connected but
// flags it not usable, with Maskinporten's code; an attempt that gets no
// answer (or a 5xx) is "could not check" and changes nothing.

// SystemUserTokens is the part of the Maskinporten client the usability
// check uses. The token it returns is a secret: it is dropped at once,
// never logged, stored or shown.
type SystemUserTokens interface {
	SystemUserToken(ctx context.Context, su maskinporten.SystemUser, scopes ...string) (*maskinporten.Result, error)
}

// ErrNotTestable matches TestConnection's refusal of an onboarding the
// rulebook does not allow it for (one not connected): only a verified
// system user can be given a token.
var ErrNotTestable error = &domain.NotAllowedError{Action: domain.ActionTestConnection}

// ErrNoScopes is returned by TestConnection when the onboarding's product
// has no scopes configured ("scopes" in ONBOARD_PRODUCTS): there is nothing
// to ask Maskinporten for, so usability is not checked.
var ErrNoScopes = errors.New("onboarding: no scopes configured for this product; usability is not checked")

// tokenOperation names the usability check's call on the timeline.
const tokenOperation = "POST maskinporten token (system user)"

// TestConnection asks Maskinporten for a system-user token for o now, as
// staff's "Test connection" does, and records the outcome on o and its
// timeline. Like Refresh it does not fail because Maskinporten said no or
// did not answer: that is kept on o (not usable, or could not check).
// Errors: the rulebook's refusal (matching ErrNotTestable),
// ErrUnknownProduct, ErrNoScopes, ErrSuperseded (a concurrent save won; o
// holds the newer row), or a store failure.
func (s *Service) TestConnection(ctx context.Context, o *domain.Onboarding, cause domain.Cause, actor string) error {
	ctx, cancel := s.detach(ctx)
	defer cancel()
	if err := o.Check(domain.ActionTestConnection); err != nil {
		return err
	}
	p, ok := s.product(o.Product)
	if !ok {
		return ErrUnknownProduct
	}
	if len(p.Scopes) == 0 || s.Tokens == nil {
		return ErrNoScopes
	}
	ev := s.checkUsable(ctx, o, cause, actor)
	return s.settle(ctx, o, s.save(ctx, o, o.Status, cause, actor, ev...))
}

// Checked reports whether usability is checked for the product at all: it
// has scopes to ask Maskinporten for.
func (s *Service) Checked(product string) bool {
	p, ok := s.product(product)
	return ok && len(p.Scopes) > 0 && s.Tokens != nil
}

// checkUsable asks Maskinporten for a system-user token for connected o
// (systemuser_org is o's organisation: the customer, or for an agent system
// user the accountant who approved it; externalRef o's, left out of the
// grant when it is the organisation number) with its product's scopes,
// throws the token away and sets o's usability from the answer. It returns
// the check's event for the timeline: one that says it was skipped when the
// product has no scopes, none at all without a token source.
func (s *Service) checkUsable(ctx context.Context, o *domain.Onboarding, cause domain.Cause, actor string) []domain.Event {
	p, ok := s.product(o.Product)
	if !ok || s.Tokens == nil {
		return nil
	}
	if len(p.Scopes) == 0 {
		return []domain.Event{{Kind: domain.EventUsability, Cause: cause, Actor: actor, ToStatus: domain.UsableSkipped,
			Message: "not checked: no scopes configured for product " + p.ID}}
	}
	start := time.Now()
	// The token proves the point and goes no further.
	_, err := s.Tokens.SystemUserToken(ctx, maskinporten.SystemUser{OrgNo: o.OrgNo, ExternalRef: o.ExternalRef}, p.Scopes...)
	took := time.Since(start)
	now := s.now()
	r := ClassifyToken(err)
	e := domain.Event{Kind: domain.EventUsability, Cause: cause, Actor: actor, Operation: tokenOperation,
		LatencyMS: int(took.Milliseconds()), HTTPStatus: r.HTTPStatus, AltinnCode: r.Code, ToStatus: r.Outcome}
	o.UsableCheckedAt, o.UsableOutcome = &now, &r.Outcome
	scopes := strings.Join(p.Scopes, " ")
	switch r.Outcome {
	case domain.UsableOK:
		setUsable(o, true, now)
		o.UsableOKAt = &now
		o.UsableCode, o.UsableMessage = nil, nil
		e.Message = "usable: Maskinporten issued a system-user token for " + scopes + " (thrown away)"
	case domain.UsableFailed:
		setUsable(o, false, now)
		code, msg := r.Code, truncate(r.Message, 1000)
		o.UsableCode, o.UsableMessage = &code, &msg
		e.Message = "not usable: " + msg
	default:
		// Could not check: what was known stands.
		e.Message = "could not check: " + truncate(r.Message, 1000)
	}
	return []domain.Event{e}
}

// checkOnVerify reports whether a verify that found o's system user should
// check its usability too: when it has just become connected (prev is the
// status before), and at the reconciler's re-read of a connected one (the
// revoke sweep), where a product without scopes is passed over quietly
// rather than noted on the timeline every day.
func (s *Service) checkOnVerify(o *domain.Onboarding, prev domain.Status, cause domain.Cause) bool {
	if prev != domain.StatusConnected {
		return true
	}
	return cause == domain.CauseReconciler && s.Checked(o.Product)
}

// setUsable moves o's usability to v, and its since when that is news.
func setUsable(o *domain.Onboarding, v bool, now time.Time) {
	if o.Usable == nil || *o.Usable != v {
		o.Usable, o.UsableSince = &v, &now
	}
}

// clearUsability forgets o's usability when it is no longer connected: it
// belonged to the system user that was connected, and a new one is checked
// afresh.
func clearUsability(o *domain.Onboarding) {
	o.Usable, o.UsableSince, o.UsableCheckedAt, o.UsableOutcome = nil, nil, nil, nil
	o.UsableOKAt, o.UsableCode, o.UsableMessage = nil, nil, nil
}

// TokenResult is what a system-user token request came to.
type TokenResult struct {
	Outcome    string // db.UsableOK, db.UsableFailed or db.UsableUnavailable
	HTTPStatus int    // the token endpoint's status; 0 when no answer came
	// Code is Maskinporten's MP-nnn code, or its OAuth error code when the
	// description carried none; "" on success and when no answer came.
	Code    string
	Message string // Maskinporten's description, or what went wrong; never the token
}

// ClassifyToken sorts the outcome of a system-user token request: issued
// (usable), refused with a 4xx (not usable: the vendor's setup is wrong),
// or no answer, a 429 or a 5xx (could not check: nothing is known).
func ClassifyToken(err error) TokenResult {
	if err == nil {
		return TokenResult{Outcome: domain.UsableOK, HTTPStatus: http.StatusOK}
	}
	var mp *maskinporten.Error
	if !errors.As(err, &mp) {
		return TokenResult{Outcome: domain.UsableUnavailable, Message: err.Error()}
	}
	r := TokenResult{HTTPStatus: mp.StatusCode, Message: mp.Description, Code: mp.MPCode()}
	if r.Code == "" {
		r.Code = mp.Code
	}
	if r.Message == "" {
		r.Message = mp.Error()
	}
	switch {
	case mp.StatusCode >= 500, mp.StatusCode == http.StatusTooManyRequests, mp.StatusCode == http.StatusRequestTimeout:
		r.Outcome = domain.UsableUnavailable
	case vendorCredentialFault(r.Code):
		// The service's own key, client or clock: every customer's check
		// would fail alike, so none is marked not usable (or sent a
		// webhook) for it; onboard doctor and the Setup page name it.
		r.Outcome = domain.UsableUnavailable
		r.Message = "Maskinporten refused the service's own credentials (key, client id or clock; run onboard doctor): " + r.Message
	default:
		r.Outcome = domain.UsableFailed
	}
	return r
}

// vendorCredentialFault reports whether a token refusal's code is about the
// vendor's own grant (client, audience, key, signature, clock, a reused or
// malformed grant), not about the customer's system user or the scopes.
func vendorCredentialFault(code string) bool {
	switch code {
	case "MP-011", "MP-012", "MP-100", "MP-110", "MP-120", "MP-121", "MP-122", "MP-123", "MP-124", "MP-130",
		"invalid_grant", "invalid_client", "invalid_request":
		return true
	}
	return false
}

// usabilityReasons maps Maskinporten's codes (maskinporten.md §3.2,
// systemuser-token.md §4) to the i18n key of what they mean for a vendor
// and what to change. OAuth error codes stand in when the description had
// no MP code.
var usabilityReasons = map[string]string{
	"MP-011": "usability.reason.malformed",
	"MP-012": "usability.reason.reused",
	"MP-100": "usability.reason.client",
	"MP-110": "usability.reason.audience",
	"MP-120": "usability.reason.certificate",
	"MP-121": "usability.reason.keyexpired",
	"MP-122": "usability.reason.certificate",
	"MP-123": "usability.reason.certificate",
	"MP-124": "usability.reason.signature",
	"MP-130": "usability.reason.clock",
	"MP-200": "usability.reason.scope",
	"MP-201": "usability.reason.scopetype",
	"MP-250": "usability.reason.scopeaccess",
	"MP-251": "usability.reason.scopedelegation",
	"MP-301": "usability.reason.detailstype",
	"MP-302": "usability.reason.detailsfields",
	"MP-303": "usability.reason.systemuser",

	"invalid_altinn_customer_configuration": "usability.reason.systemuser",
	"invalid_scope":                         "usability.reason.scope",
	"invalid_authorization_details":         "usability.reason.details",
	"invalid_grant":                         "usability.reason.grant",
}

// UsabilityReason is the i18n key of what a failed check's code (an MP code
// or an OAuth error code, as kept in Onboarding.UsableCode) means, in plain
// words with the fix; an unknown code gets a general text.
func UsabilityReason(code string) string {
	if k, ok := usabilityReasons[code]; ok {
		return k
	}
	return "usability.reason.other"
}

// UsabilityReasonKeys lists every key UsabilityReason can return, so tests
// can check each has a text in every language.
func UsabilityReasonKeys() []string {
	seen := map[string]bool{"usability.reason.other": true}
	out := []string{"usability.reason.other"}
	for _, k := range usabilityReasons {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}
