package onboarding_test

import (
	"errors"
	"testing"
	"time"

	"github.com/onboard-altinn/onboard/internal/altinn"
	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/maskinporten"
	"github.com/onboard-altinn/onboard/internal/onboarding"
)

// action is one call of the service on an onboarding; it returns the
// onboarding it acted on (Start's new one).
type action func(e *env, o *domain.Onboarding) (*domain.Onboarding, error)

func startAction(product string) action {
	return func(e *env, _ *domain.Onboarding) (*domain.Onboarding, error) {
		o, _, err := e.start(product)
		return o, err
	}
}

var (
	refreshAction = func(e *env, o *domain.Onboarding) (*domain.Onboarding, error) {
		return o, e.svc.Refresh(e.ctx, o, domain.CauseCustomer, "")
	}
	reconcileAction = func(e *env, o *domain.Onboarding) (*domain.Onboarding, error) {
		return o, e.svc.Refresh(e.ctx, o, domain.CauseReconciler, "job 1")
	}
	continueAction = func(e *env, o *domain.Onboarding) (*domain.Onboarding, error) {
		return o, e.svc.Continue(e.ctx, o, domain.CauseCustomer, "")
	}
	renewAction = func(e *env, o *domain.Onboarding) (*domain.Onboarding, error) {
		return o, e.svc.Renew(e.ctx, o, domain.CauseStaff, "staff@example.no")
	}
	cancelAction = func(e *env, o *domain.Onboarding) (*domain.Onboarding, error) {
		return o, e.svc.Cancel(e.ctx, o, domain.CauseStaff, "staff@example.no")
	}
)

func requestingStored(e *env) *domain.Onboarding    { return e.requesting(true) }
func requestingNotStored(e *env) *domain.Onboarding { return e.requesting(false) }

// TestTransitions: every move the service makes on an onboarding, from the
// status it was in and what Altinn says, to the status, error code and
// timeline it leaves, and the Altinn calls it took (each on the timeline).
func TestTransitions(t *testing.T) {
	t.Parallel()
	d := newDB(t)
	tests := []struct {
		name string
		from func(e *env) *domain.Onboarding // nil: the action starts one
		// world is what happens at Altinn before the action: the
		// customer's decision, a fault scripted for a call.
		world   func(e *env, o *domain.Onboarding)
		act     action
		wantErr error
		want    domain.Status
		code    string          // error_code left on it
		path    []domain.Status // the status events the action wrote
		calls   []string        // the Altinn calls it made, in order
		check   func(t *testing.T, e *env, o *domain.Onboarding)
	}{
		// Start: requesting is written before Altinn is called.
		{
			name: "start: requesting -> pending", act: startAction("regnskap"),
			want: domain.StatusPending, path: []domain.Status{domain.StatusPending}, calls: []string{opCreate},
			check: func(t *testing.T, e *env, o *domain.Onboarding) {
				live := e.altinn.live(systemID, e.org, e.org)
				if len(live) != 1 || str(o.AltinnRequestID) != live[0].ID || str(o.ConfirmURL) != live[0].ConfirmURL {
					t.Fatalf("onboarding holds request %s / %s, Altinn has %d live", str(o.AltinnRequestID), str(o.ConfirmURL), len(live))
				}
				if want := returnURL + "?ref=" + o.Ref; live[0].RedirectURL != want {
					t.Errorf("redirectUrl %q, want %q", live[0].RedirectURL, want)
				}
				if len(live[0].Rights) != 1 || live[0].Rights[0].Resource[0].Value != right1 {
					t.Errorf("asked for %+v, want the product's right %s", live[0].Rights, right1)
				}
			},
		},
		{
			name: "start agent: -> pending through the agent endpoint", act: startAction("klient"),
			want: domain.StatusPending, path: []domain.Status{domain.StatusPending}, calls: []string{opCreateAgent},
			check: func(t *testing.T, e *env, o *domain.Onboarding) {
				if o.Kind != domain.KindAgent || len(e.altinn.live(agentSys, e.org, e.org)) != 1 {
					t.Errorf("kind %s; Altinn holds %d agent requests", o.Kind, len(e.altinn.live(agentSys, e.org, e.org)))
				}
			},
		},
		{
			name: "agent pending, approved -> connected, read through the agent endpoint", from: (*env).pendingAgent, act: refreshAction,
			world: func(e *env, o *domain.Onboarding) { e.altinn.approve(e.t, e.requestID(o)) },
			want:  domain.StatusConnected, path: []domain.Status{domain.StatusConnected}, calls: []string{opGetAgent, opByQuery},
			check: func(t *testing.T, e *env, o *domain.Onboarding) {
				if !equal(o.GrantedPackages, []string{package1}) || e.tokens.count() != 0 {
					t.Errorf("granted %v; %d token requests for a product without scopes", o.GrantedPackages, e.tokens.count())
				}
			},
		},
		{
			name: "agent start, answer lost; the retry finds it by the agent lookup", act: func(e *env, _ *domain.Onboarding) (*domain.Onboarding, error) {
				e.altinn.fail(opCreateAgent, lostTimeout)
				o, _, err := e.start("klient")
				if err != nil {
					return o, err
				}
				e.must(o, domain.StatusRequesting)
				return o, e.svc.Continue(e.ctx, o, domain.CauseCustomer, "")
			},
			want: domain.StatusPending, path: []domain.Status{domain.StatusPending}, calls: []string{opCreateAgent, opByExtRefAgent},
			check: func(t *testing.T, e *env, _ *domain.Onboarding) {
				if n := e.altinn.ever(agentSys, e.org, ""); n != 1 {
					t.Errorf("Altinn stored %d agent requests, want 1", n)
				}
			},
		},
		{
			name: "start: refused with a code -> failed, code kept", act: startAction("regnskap"),
			world: func(e *env, _ *domain.Onboarding) { e.altinn.fail(opCreate, refuse(400, "AUTH-00021")) },
			want:  domain.StatusFailed, code: "AUTH-00021", path: []domain.Status{domain.StatusFailed}, calls: []string{opCreate},
		},
		{
			name: "start: refused without a code -> failed altinn_refused", act: startAction("regnskap"),
			world: func(e *env, _ *domain.Onboarding) {
				e.altinn.fail(opCreate, fault{err: &altinn.Problem{Status: 400, Body: "bad request"}})
			},
			want: domain.StatusFailed, code: onboarding.CodeAltinnRefuse, path: []domain.Status{domain.StatusFailed}, calls: []string{opCreate},
		},
		{
			name: "start: AUTH-00012 (Altinn failed to store) -> stays requesting", act: startAction("regnskap"),
			world: func(e *env, _ *domain.Onboarding) { e.altinn.fail(opCreate, refuse(404, "AUTH-00012")) },
			want:  domain.StatusRequesting, code: onboarding.CodeUnavailable, calls: []string{opCreate},
		},
		{
			name: "start: answer lost after Altinn stored it -> stays requesting", act: startAction("regnskap"),
			world: func(e *env, _ *domain.Onboarding) { e.altinn.fail(opCreate, lostTimeout) },
			want:  domain.StatusRequesting, code: onboarding.CodeUnavailable, calls: []string{opCreate},
			check: func(t *testing.T, e *env, o *domain.Onboarding) {
				if o.AltinnRequestID != nil || len(e.altinn.live(systemID, e.org, e.org)) != 1 {
					t.Errorf("request id %s; Altinn holds %d", str(o.AltinnRequestID), len(e.altinn.live(systemID, e.org, e.org)))
				}
			},
		},
		{
			name: "start: 503 -> stays requesting", act: startAction("regnskap"),
			world: func(e *env, _ *domain.Onboarding) { e.altinn.fail(opCreate, unavailable) },
			want:  domain.StatusRequesting, code: onboarding.CodeUnavailable, calls: []string{opCreate},
		},
		{
			name: "start: a system user exists (AUTH-00004) -> connected after byquery", act: startAction("regnskap"),
			world: func(e *env, _ *domain.Onboarding) { e.altinn.addSystemUser(systemID, e.org, "") },
			want:  domain.StatusConnected, path: []domain.Status{domain.StatusConnected}, calls: []string{opCreate, opByQuery},
			check: func(t *testing.T, e *env, o *domain.Onboarding) {
				if o.SystemUserID == nil || o.AltinnRequestID != nil {
					t.Errorf("system user %s, request %s", str(o.SystemUserID), str(o.AltinnRequestID))
				}
				if !equal(o.GrantedRights, []string{right1}) {
					t.Errorf("granted %v, want the product's %s", o.GrantedRights, right1)
				}
			},
		},
		{
			name: "start: AUTH-00004 but byquery does not find it -> requesting system_user_missing", act: startAction("regnskap"),
			world: func(e *env, _ *domain.Onboarding) { e.altinn.fail(opCreate, refuse(400, "AUTH-00004")) },
			want:  domain.StatusRequesting, code: onboarding.CodeNotVerified, calls: []string{opCreate, opByQuery},
		},
		{
			name: "start: Altinn answers another onboarding's live request -> replaced by ours", act: startAction("regnskap"),
			world: func(e *env, _ *domain.Onboarding) {
				e.altinn.addRequest(systemID, e.org, "", returnURL+"?ref=someoneelse", nil)
			},
			want: domain.StatusPending, path: []domain.Status{domain.StatusPending}, calls: []string{opCreate, opDelete, opCreate},
			check: func(t *testing.T, e *env, o *domain.Onboarding) {
				live := e.altinn.live(systemID, e.org, e.org)
				if len(live) != 1 || live[0].ID != str(o.AltinnRequestID) || live[0].RedirectURL != returnURL+"?ref="+o.Ref {
					t.Errorf("Altinn holds %d live requests; ours is %s", len(live), str(o.AltinnRequestID))
				}
			},
		},
		{
			name: "start: a confirmUrl off the allowlist -> pending without a link", act: startAction("regnskap"),
			world: func(e *env, _ *domain.Onboarding) { e.svc.ConfirmHosts = []string{"am.ui.altinn.no"} },
			want:  domain.StatusPending, code: onboarding.CodeConfirmHost, path: []domain.Status{domain.StatusPending}, calls: []string{opCreate},
			check: func(t *testing.T, _ *env, o *domain.Onboarding) {
				if o.ConfirmURL != nil {
					t.Errorf("confirm URL %s kept", *o.ConfirmURL)
				}
			},
		},
		{
			name: "start again: the live onboarding is re-read, no second request", from: (*env).pending, act: startAction("regnskap"),
			want: domain.StatusPending, calls: []string{opGet},
		},

		// Continue (the customer's retry, the reconciler) of requesting:
		// looked up by external ref first, never created twice.
		{
			name: "retry requesting after a lost answer: found by external ref -> pending, no second create",
			from: requestingStored, act: continueAction,
			want: domain.StatusPending, path: []domain.Status{domain.StatusPending}, calls: []string{opByExtRef},
			check: func(t *testing.T, e *env, o *domain.Onboarding) {
				if n := len(e.altinn.live(systemID, e.org, e.org)); n != 1 || o.ConfirmURL == nil {
					t.Errorf("Altinn holds %d requests; confirm URL %s", n, str(o.ConfirmURL))
				}
			},
		},
		{
			name: "retry requesting that never reached Altinn -> pending",
			from: requestingNotStored, act: continueAction,
			want: domain.StatusPending, path: []domain.Status{domain.StatusPending}, calls: []string{opByExtRef, opCreate},
		},
		{
			name: "retry requesting while Altinn is down: stays requesting, nothing created",
			from: requestingNotStored, act: continueAction,
			world: func(e *env, _ *domain.Onboarding) { e.altinn.fail(opByExtRef, unavailable) },
			want:  domain.StatusRequesting, code: onboarding.CodeUnavailable, calls: []string{opByExtRef},
		},
		{
			name: "retry requesting, the lost request was rejected: deleted, then created again",
			from: requestingStored, act: continueAction,
			world: func(e *env, _ *domain.Onboarding) {
				e.altinn.setStatus(e.t, e.altinn.live(systemID, e.org, "")[0].ID, altinn.StatusRejected)
			},
			want: domain.StatusPending, path: []domain.Status{domain.StatusPending}, calls: []string{opByExtRef, opDelete, opCreate},
		},
		{
			name: "retry requesting, the lost request was approved meanwhile -> connected",
			from: requestingStored, act: continueAction,
			world: func(e *env, _ *domain.Onboarding) { e.altinn.approve(e.t, e.altinn.live(systemID, e.org, "")[0].ID) },
			want:  domain.StatusConnected, path: []domain.Status{domain.StatusConnected}, calls: []string{opByExtRef, opByQuery},
		},
		{
			name: "refresh requesting after a lost answer: found -> pending",
			from: requestingStored, act: reconcileAction,
			want: domain.StatusPending, path: []domain.Status{domain.StatusPending}, calls: []string{opByExtRef},
		},
		{
			name: "refresh requesting, nothing at Altinn: stays requesting, refresh never creates",
			from: requestingNotStored, act: reconcileAction,
			want: domain.StatusRequesting, code: onboarding.CodeUnavailable, calls: []string{opByExtRef},
		},

		// Refresh of pending: the customer's decision is read from Altinn.
		{
			name: "pending, approved -> connected after byquery", from: (*env).pending, act: refreshAction,
			world: func(e *env, o *domain.Onboarding) { e.altinn.approve(e.t, e.requestID(o)) },
			want:  domain.StatusConnected, path: []domain.Status{domain.StatusConnected}, calls: []string{opGet, opByQuery},
			check: func(t *testing.T, e *env, o *domain.Onboarding) {
				if str(o.SystemUserID) != str(o.AltinnRequestID) {
					t.Errorf("system user %s, want the request's id %s", str(o.SystemUserID), str(o.AltinnRequestID))
				}
				if o.ConnectedAt == nil || !o.ConnectedAt.Equal(e.clock.Now()) {
					t.Errorf("connected at %v, want the clock's %v", o.ConnectedAt, e.clock.Now())
				}
				if !equal(o.GrantedRights, []string{right1}) || !equal(o.GrantedPackages, []string{}) {
					t.Errorf("granted %v / %v, want what the request asked for", o.GrantedRights, o.GrantedPackages)
				}
				if o.Usable == nil || !*o.Usable || e.tokens.count() != 1 {
					t.Errorf("usable %v after %d token requests, want checked once and usable", o.Usable, e.tokens.count())
				}
			},
		},
		{
			name: "pending, approved, token refused (MP-303) -> connected but not usable", from: (*env).pending, act: refreshAction,
			world: func(e *env, o *domain.Onboarding) {
				e.altinn.approve(e.t, e.requestID(o))
				e.tokens.answer(&maskinporten.Error{StatusCode: 400, Code: "invalid_altinn_customer_configuration", Description: "MP-303 No approved system user"})
			},
			want: domain.StatusConnected, path: []domain.Status{domain.StatusConnected}, calls: []string{opGet, opByQuery},
			check: func(t *testing.T, _ *env, o *domain.Onboarding) {
				if !o.NotUsable() || str(o.UsableCode) != "MP-303" {
					t.Errorf("usable %v code %s, want not usable with MP-303", o.Usable, str(o.UsableCode))
				}
			},
		},
		{
			name: "pending, approved, byquery does not find it yet -> accepted system_user_missing", from: (*env).pending, act: refreshAction,
			world: func(e *env, o *domain.Onboarding) {
				e.altinn.approve(e.t, e.requestID(o))
				e.altinn.fail(opByQuery, fault{err: bareNotFound})
			},
			want: domain.StatusAccepted, code: onboarding.CodeNotVerified, path: []domain.Status{domain.StatusAccepted}, calls: []string{opGet, opByQuery},
		},
		{
			name: "pending, rejected -> rejected", from: (*env).pending, act: refreshAction,
			world: func(e *env, o *domain.Onboarding) { e.altinn.setStatus(e.t, e.requestID(o), altinn.StatusRejected) },
			want:  domain.StatusRejected, path: []domain.Status{domain.StatusRejected}, calls: []string{opGet},
		},
		{
			name: "pending, denied -> rejected", from: (*env).pending, act: refreshAction,
			world: func(e *env, o *domain.Onboarding) { e.altinn.setStatus(e.t, e.requestID(o), altinn.StatusDenied) },
			want:  domain.StatusRejected, path: []domain.Status{domain.StatusRejected}, calls: []string{opGet},
		},
		{
			name: "pending, timed out (timedOut flag) -> expired", from: (*env).pending, act: refreshAction,
			world: func(e *env, o *domain.Onboarding) { e.altinn.timeOut(e.t, e.requestID(o)) },
			want:  domain.StatusExpired, path: []domain.Status{domain.StatusExpired}, calls: []string{opGet},
		},
		{
			name: "pending, legacy Timedout and nobody approved -> expired request_gone", from: (*env).pending, act: refreshAction,
			world: func(e *env, o *domain.Onboarding) { e.altinn.setStatus(e.t, e.requestID(o), altinn.StatusTimedout) },
			want:  domain.StatusExpired, code: onboarding.CodeGone, path: []domain.Status{domain.StatusExpired}, calls: []string{opGet, opByQuery},
		},
		{
			name: "pending, legacy Timedout over an approval -> connected", from: (*env).pending, act: refreshAction,
			world: func(e *env, o *domain.Onboarding) {
				e.altinn.approve(e.t, e.requestID(o))
				e.altinn.setStatus(e.t, e.requestID(o), altinn.StatusTimedout)
			},
			want: domain.StatusConnected, path: []domain.Status{domain.StatusConnected}, calls: []string{opGet, opByQuery},
		},
		{
			name: "pending, escalated -> stays pending, flagged", from: (*env).pending, act: refreshAction,
			world: func(e *env, o *domain.Onboarding) { e.altinn.escalate(e.t, e.requestID(o)) },
			want:  domain.StatusPending, calls: []string{opGet},
			check: func(t *testing.T, _ *env, o *domain.Onboarding) {
				if !o.Escalated {
					t.Error("not flagged escalated")
				}
			},
		},
		{
			name: "pending, request gone (404) -> failed request_gone", from: (*env).pending, act: reconcileAction,
			world: func(e *env, o *domain.Onboarding) { e.altinn.dropRequest(e.t, e.requestID(o)) },
			want:  domain.StatusFailed, code: onboarding.CodeGone, path: []domain.Status{domain.StatusFailed}, calls: []string{opGet, opByExtRef},
		},
		{
			name: "pending, request gone but a newer one holds the key -> follows it", from: (*env).pending, act: reconcileAction,
			world: func(e *env, o *domain.Onboarding) {
				e.altinn.dropRequest(e.t, e.requestID(o))
				e.altinn.addRequest(systemID, e.org, "", returnURL+"?ref="+o.Ref, nil)
			},
			want: domain.StatusPending, calls: []string{opGet, opByExtRef},
			check: func(t *testing.T, e *env, o *domain.Onboarding) {
				if live := e.altinn.live(systemID, e.org, ""); str(o.AltinnRequestID) != live[0].ID {
					t.Errorf("follows %s, want the newer %s", str(o.AltinnRequestID), live[0].ID)
				}
			},
		},
		{
			name: "pending, Altinn down -> stays pending altinn_unavailable", from: (*env).pending, act: reconcileAction,
			world: func(e *env, _ *domain.Onboarding) { e.altinn.fail(opGet, unavailable) },
			want:  domain.StatusPending, code: onboarding.CodeUnavailable, calls: []string{opGet},
		},

		// Accepted: byquery decides.
		{
			name: "accepted, byquery finds it now -> connected", from: (*env).accepted, act: reconcileAction,
			world: func(e *env, o *domain.Onboarding) { e.altinn.addUserFor(e.t, e.requestID(o)) },
			want:  domain.StatusConnected, path: []domain.Status{domain.StatusConnected}, calls: []string{opGet, opByQuery},
		},
		{
			name: "accepted, request and system user deleted -> stays accepted system_user_missing", from: (*env).accepted, act: reconcileAction,
			world: func(e *env, o *domain.Onboarding) {
				e.altinn.addUserFor(e.t, e.requestID(o))
				e.altinn.deleteSystemUser(e.t, e.requestID(o))
			},
			want: domain.StatusAccepted, code: onboarding.CodeNotVerified, calls: []string{opGet, opByQuery},
		},

		// Connected: verified with byquery; the customer may delete it.
		{
			name: "connected, verified -> stays connected, usability not rechecked for the customer", from: (*env).connected, act: refreshAction,
			want: domain.StatusConnected, calls: []string{opByQuery},
			check: func(t *testing.T, e *env, _ *domain.Onboarding) {
				if e.tokens.count() != 1 {
					t.Errorf("%d token requests, want the connect's one only", e.tokens.count())
				}
			},
		},
		{
			name: "connected, the reconciler's re-read -> stays connected, usability rechecked", from: (*env).connected, act: reconcileAction,
			world: func(e *env, _ *domain.Onboarding) { e.clock.advance(24 * time.Hour) },
			want:  domain.StatusConnected, calls: []string{opByQuery},
			check: func(t *testing.T, e *env, o *domain.Onboarding) {
				if e.tokens.count() != 2 || o.UsableCheckedAt == nil || !o.UsableCheckedAt.Equal(e.clock.Now()) {
					t.Errorf("%d token requests, checked at %v; want a second check now", e.tokens.count(), o.UsableCheckedAt)
				}
			},
		},
		{
			name: "connected, system user deleted -> revoked", from: (*env).connected, act: reconcileAction,
			world: func(e *env, o *domain.Onboarding) { e.altinn.deleteSystemUser(e.t, *o.SystemUserID) },
			want:  domain.StatusRevoked, code: onboarding.CodeGone, path: []domain.Status{domain.StatusRevoked}, calls: []string{opByQuery},
			check: func(t *testing.T, _ *env, o *domain.Onboarding) {
				if o.Usable != nil || o.UsableCheckedAt != nil {
					t.Errorf("a revoked onboarding keeps its usability: %v", o.Usable)
				}
			},
		},
		{
			name: "connected, byquery says isDeleted -> revoked", from: (*env).connected, act: reconcileAction,
			world: func(e *env, o *domain.Onboarding) { e.altinn.markUserDeleted(*o.SystemUserID) },
			want:  domain.StatusRevoked, code: onboarding.CodeGone, path: []domain.Status{domain.StatusRevoked}, calls: []string{opByQuery},
		},
		{
			name: "connected, byquery down -> stays connected", from: (*env).connected, act: reconcileAction,
			world: func(e *env, _ *domain.Onboarding) { e.altinn.fail(opByQuery, unavailable) },
			want:  domain.StatusConnected, code: onboarding.CodeUnavailable, calls: []string{opByQuery},
		},

		{
			name: "revoked, re-read: its request went with the system user, stays revoked", from: (*env).revoked, act: refreshAction,
			want: domain.StatusRevoked, code: onboarding.CodeGone, calls: []string{opGet, opByExtRef},
		},
		{
			name: "rejected, re-read: stays rejected", from: (*env).rejected, act: refreshAction,
			want: domain.StatusRejected, calls: []string{opGet},
		},
		{
			name: "rejected, its request deleted at Altinn: what ended it stays its cause", from: (*env).rejected, act: refreshAction,
			world: func(e *env, o *domain.Onboarding) { e.altinn.dropRequest(e.t, e.requestID(o)) },
			want:  domain.StatusRejected, calls: []string{opGet, opByExtRef},
		},

		// Renew: the old request is deleted, a new one made.
		{
			name: "renew rejected -> pending, old request deleted", from: (*env).rejected, act: renewAction,
			want: domain.StatusPending, path: []domain.Status{domain.StatusRequesting, domain.StatusPending},
			calls: []string{opDelete, opByExtRef, opCreate},
			check: renewedCheck,
		},
		{
			name: "renew expired -> pending", from: (*env).expired, act: renewAction,
			want: domain.StatusPending, path: []domain.Status{domain.StatusRequesting, domain.StatusPending},
			calls: []string{opDelete, opByExtRef, opCreate}, check: renewedCheck,
		},
		{
			name: "renew revoked (its request went with the system user) -> pending", from: (*env).revoked, act: renewAction,
			want: domain.StatusPending, path: []domain.Status{domain.StatusRequesting, domain.StatusPending},
			calls: []string{opDelete, opByExtRef, opCreate}, check: renewedCheck,
		},
		{
			name: "renew failed at create (no request) -> pending", from: (*env).failed, act: renewAction,
			want: domain.StatusPending, path: []domain.Status{domain.StatusRequesting, domain.StatusPending},
			calls: []string{opByExtRef, opCreate},
		},
		{
			name: "renew failed request_gone -> pending", from: (*env).gone, act: renewAction,
			want: domain.StatusPending, path: []domain.Status{domain.StatusRequesting, domain.StatusPending},
			calls: []string{opDelete, opByExtRef, opCreate}, check: renewedCheck,
		},
		{
			name: "continue rejected renews it -> pending", from: (*env).rejected, act: continueAction,
			want: domain.StatusPending, path: []domain.Status{domain.StatusRequesting, domain.StatusPending},
			calls: []string{opDelete, opByExtRef, opCreate}, check: renewedCheck,
		},
		{
			name: "renew while Altinn cannot delete: stays rejected altinn_unavailable", from: (*env).rejected, act: renewAction,
			world: func(e *env, _ *domain.Onboarding) { e.altinn.fail(opDelete, unavailable) },
			want:  domain.StatusRejected, code: onboarding.CodeUnavailable, calls: []string{opDelete},
		},
		{
			name: "renew refused at create -> failed with the code", from: (*env).expired, act: renewAction,
			world: func(e *env, _ *domain.Onboarding) { e.altinn.fail(opCreate, refuse(400, "AUTH-00001")) },
			want:  domain.StatusFailed, code: "AUTH-00001", path: []domain.Status{domain.StatusRequesting, domain.StatusFailed},
			calls: []string{opDelete, opByExtRef, opCreate},
		},

		// Cancel: staff close it; its request is deleted at Altinn.
		{
			name: "cancel pending -> cancelled, deleted at Altinn", from: (*env).pending, act: cancelAction,
			want: domain.StatusCancelled, path: []domain.Status{domain.StatusCancelled}, calls: []string{opDelete},
			check: func(t *testing.T, e *env, o *domain.Onboarding) {
				if !e.altinn.snapshot(t, e.requestID(o)).deleted || o.ConfirmURL != nil {
					t.Errorf("request still live at Altinn, or the confirm link %s kept", str(o.ConfirmURL))
				}
			},
		},
		{
			name: "cancel requesting that never reached Altinn -> cancelled, after a lookup finds nothing", from: requestingNotStored, act: cancelAction,
			want: domain.StatusCancelled, path: []domain.Status{domain.StatusCancelled}, calls: []string{opByExtRef},
		},
		{
			name: "cancel rejected -> cancelled, deleted at Altinn", from: (*env).rejected, act: cancelAction,
			want: domain.StatusCancelled, path: []domain.Status{domain.StatusCancelled}, calls: []string{opDelete},
		},
		{
			name: "cancel revoked (request already gone) -> cancelled", from: (*env).revoked, act: cancelAction,
			want: domain.StatusCancelled, path: []domain.Status{domain.StatusCancelled}, calls: []string{opDelete},
		},
		{
			name: "cancel connected: refused, nothing asked of Altinn", from: (*env).connected, act: cancelAction,
			wantErr: onboarding.ErrNotCancellable, want: domain.StatusConnected,
		},
		{
			name: "cancel accepted: refused", from: (*env).accepted, act: cancelAction,
			wantErr: onboarding.ErrNotCancellable, want: domain.StatusAccepted, code: onboarding.CodeNotVerified,
		},
		{
			name: "cancel while Altinn cannot delete: an error, stays pending altinn_unavailable", from: (*env).pending, act: cancelAction,
			world:   func(e *env, _ *domain.Onboarding) { e.altinn.fail(opDelete, unavailable) },
			wantErr: altinn.ErrUnavailable, want: domain.StatusPending, code: onboarding.CodeUnavailable, calls: []string{opDelete},
		},
		{
			name: "cancel cancelled: refused, done already", from: (*env).cancelled, act: cancelAction,
			wantErr: &domain.NotAllowedError{Action: domain.ActionCancel, Reason: domain.ReasonDone}, want: domain.StatusCancelled,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			var o *domain.Onboarding
			n := 0
			if tt.from != nil {
				o = tt.from(e)
				n = len(e.events(o))
			}
			if tt.world != nil {
				tt.world(e, o)
			}
			o, err := tt.act(e, o)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			e.must(o, tt.want)
			if got := str(e.row(o).ErrorCode); got != tt.code {
				t.Errorf("error code %q (%s), want %q", got, str(o.ErrorMessage), tt.code)
			}
			calls := e.altinn.Calls()
			if !equal(calls, tt.calls) {
				t.Errorf("Altinn calls %v, want %v", calls, tt.calls)
			}
			path, recorded := since(e.events(o), n)
			if !equal(path, tt.path) {
				t.Errorf("status events to %v, want %v", path, tt.path)
			}
			if !equal(recorded, calls) {
				t.Errorf("timeline records calls %v, Altinn had %v", recorded, calls)
			}
			e.checkHistory(o)
			if tt.check != nil {
				tt.check(t, e, o)
			}
		})
	}
}

// renewedCheck: the old request is deleted at Altinn and the onboarding
// holds the one new live request, with a confirm link and none of the old
// system user's state.
func renewedCheck(t *testing.T, e *env, o *domain.Onboarding) {
	t.Helper()
	live := e.altinn.live(systemID, e.org, "")
	if len(live) != 1 || live[0].ID != str(o.AltinnRequestID) || o.ConfirmURL == nil {
		t.Fatalf("Altinn holds %d live requests; the onboarding holds %s", len(live), str(o.AltinnRequestID))
	}
	if o.SystemUserID != nil || o.GrantedRights != nil || o.Usable != nil {
		t.Errorf("renewed onboarding keeps the old system user %s / grants %v / usable %v", str(o.SystemUserID), o.GrantedRights, o.Usable)
	}
}

// Start takes the reference its caller reserved (the company page's), so a
// retry can tell the onboarding it finds is the one it started; OnlyNew
// then answers ErrExists with that onboarding. When an ended (cancelled)
// onboarding holds the reference, a new one gets a fresh reference.
func TestStartTakesTheReservedRef(t *testing.T) {
	t.Parallel()
	e := newEnv(t, newDB(t))
	ref, err := onboarding.NewRef()
	if err != nil {
		t.Fatal(err)
	}
	in := onboarding.StartInput{Product: "regnskap", OrgNo: e.org, Lang: "nb", Cause: domain.CauseCustomer, OnlyNew: true, Ref: ref}
	o, started, err := e.svc.Start(e.ctx, in)
	if err != nil || !started || o.Ref != ref {
		t.Fatalf("Start with a reserved ref: ref %q started %v err %v, want ref %q, started", o.Ref, started, err, ref)
	}
	again, started, err := e.svc.Start(e.ctx, in)
	if !errors.Is(err, onboarding.ErrExists) || started || again.ID != o.ID {
		t.Fatalf("the retry: onboarding %s started %v err %v, want ErrExists with onboarding %s", again.ID, started, err, o.ID)
	}
	if err := e.svc.Cancel(e.ctx, o, domain.CauseStaff, "staff@example.no"); err != nil {
		t.Fatal(err)
	}
	fresh, started, err := e.svc.Start(e.ctx, in)
	if err != nil || !started || fresh.ID == o.ID || fresh.Ref == ref {
		t.Fatalf("after a cancel: onboarding %s ref %q started %v err %v, want a new one with a fresh ref", fresh.ID, fresh.Ref, started, err)
	}
	e.altinn.Calls()
}
