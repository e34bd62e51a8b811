package app_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/onboard-altinn/onboard/internal/domain"
	"github.com/onboard-altinn/onboard/internal/sim"
)

const org = "314248295"

const vendorPath = "/authentication/api/v1/systemuser/request/vendor"

// startFlow submits org for product and checks the 303 to Altinn's confirm page.
func (e *env) startFlow(b *browser, product, orgNo string) (confirmURL string) {
	e.t.Helper()
	res := e.submitAndConfirm(b, product, orgNo)
	if res.status != http.StatusSeeOther {
		e.t.Fatalf("submit: status %d, want 303\n%s", res.status, res.body)
	}
	u, err := url.Parse(res.location)
	if err != nil || u.Host != strings.TrimPrefix(e.sim.URL, "http://") {
		e.t.Fatalf("submit: Location %q is not the simulator's confirm page", res.location)
	}
	return res.location
}

func TestFlowApproveStandard(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	b := e.browser()

	start := b.get(e.web.URL + "/onboard/standard")
	// In words (the simulator's metadata; see TestStartPageNamesGrants).
	if start.status != http.StatusOK || !strings.Contains(start.body, "Krav og betalinger") ||
		!strings.Contains(start.body, "Skattegrunnlag") {
		t.Fatalf("start page must say what is asked for (%d):\n%s", start.status, start.body)
	}
	confirm := e.startFlow(b, "standard", "314 248 295")
	if !strings.Contains(confirm, "/accessmanagement/ui/systemuser/request?id=") {
		t.Fatalf("confirm URL %q is not a standard request page", confirm)
	}
	o := e.onboardingForOrg(org)
	if o.Status != domain.StatusPending || o.AltinnRequestID == nil {
		t.Fatalf("after submit: status %q request %v, want pending with a request id", o.Status, o.AltinnRequestID)
	}

	back := e.decide(b, confirm, "approve")
	wantReturn := e.web.URL + "/return?ref=" + o.Ref
	if back.status != http.StatusFound || back.location != wantReturn {
		t.Fatalf("simulator after approve: %d Location %q, want 302 to %q", back.status, back.location, wantReturn)
	}
	outcome := e.returnTo(b, back.location)
	if st, _ := outcomeOf(t, outcome); st != string(domain.StatusConnected) {
		t.Fatalf("outcome = %q, want connected", st)
	}
	if !strings.Contains(outcome.body, "314 248 295") {
		t.Fatal("the browser that started the flow should see the organisation number")
	}
	o = e.onboardingForOrg(org)
	if o.Status != domain.StatusConnected || o.SystemUserID == nil || *o.SystemUserID != *o.AltinnRequestID {
		t.Fatalf("db: status %q system user %v, want connected with the system user id (= request id)", o.Status, o.SystemUserID)
	}
	var ops, kinds []string
	for _, ev := range e.events(o) {
		kinds = append(kinds, ev.Kind)
		if ev.Kind == domain.EventAltinnCall {
			ops = append(ops, ev.Operation)
		}
	}
	for _, want := range []string{"POST request/vendor", "GET request/vendor/{id}", "GET systemuser/vendor/byquery"} {
		if !contains(ops, want) {
			t.Errorf("events lack the Altinn call %q: %v", want, ops)
		}
	}
	if !contains(kinds, domain.EventReturn) {
		t.Errorf("events lack the customer's return: %v", kinds)
	}
}

func TestFlowApproveAgent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	b := e.browser()
	confirm := e.startFlow(b, "agent", org)
	if !strings.Contains(confirm, "/accessmanagement/ui/systemuser/agentrequest?id=") {
		t.Fatalf("confirm URL %q is not an agent request page", confirm)
	}
	back := e.decide(b, confirm, "approve")
	outcome := e.returnTo(b, back.location)
	if st, _ := outcomeOf(t, outcome); st != string(domain.StatusConnected) {
		t.Fatalf("outcome = %q, want connected", st)
	}
	if !strings.Contains(outcome.body, `data-testid="altinn-link"`) || !strings.Contains(outcome.body, "klienter") {
		t.Fatalf("an agent system's connected page must explain delegating clients:\n%s", outcome.body)
	}
	if o := e.onboardingForOrg(org); o.Kind != "agent" || o.ExternalRef != "agent" {
		t.Fatalf("agent onboarding stored as kind %q external ref %q", o.Kind, o.ExternalRef)
	}
}

func TestFlowRejectThenTryAgain(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	b := e.browser()
	confirm := e.startFlow(b, "standard", org)
	outcome := e.returnTo(b, e.decide(b, confirm, "reject").location)
	if st, _ := outcomeOf(t, outcome); st != string(domain.StatusRejected) {
		t.Fatalf("outcome = %q, want rejected", st)
	}
	old := e.onboardingForOrg(org)
	retry := b.post(e.web.URL+"/status/"+old.Ref+"/retry", url.Values{"_csrf": {csrfOf(t, outcome)}})
	if retry.status != http.StatusSeeOther || retry.location == confirm || !strings.Contains(retry.location, "/request?id=") {
		t.Fatalf("try again: %d Location %q, want a 303 to a new confirm page", retry.status, retry.location)
	}
	o := e.onboardingForOrg(org)
	if o.ID != old.ID || o.Status != domain.StatusPending || *o.AltinnRequestID == *old.AltinnRequestID {
		t.Fatalf("try again should renew the same onboarding with a new request: %+v", o)
	}
	if n := e.simRequestsFor(org); n != 1 {
		t.Fatalf("Altinn holds %d live requests for the org, want 1 (the old one deleted)", n)
	}
	if st, _ := outcomeOf(t, e.returnTo(b, e.decide(b, retry.location, "approve").location)); st != string(domain.StatusConnected) {
		t.Fatalf("after approving the new request: %q, want connected", st)
	}
}

func TestFlowEscalate(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	b := e.browser()
	confirm := e.startFlow(b, "standard", org)
	outcome := e.returnTo(b, e.decide(b, confirm, "escalate").location)
	st, escalated := outcomeOf(t, outcome)
	if st != string(domain.StatusPending) || !escalated {
		t.Fatalf("outcome = %q escalated %v, want pending and escalated", st, escalated)
	}
	if !strings.Contains(outcome.body, "tilgangsstyrer") || !strings.Contains(outcome.body, `data-testid="continue"`) {
		t.Fatalf("escalated page must say who can approve and offer the link again:\n%s", outcome.body)
	}
	// The access manager approves later in Altinn; the next look says connected.
	o := e.onboardingForOrg(org)
	if err := e.app.Sim.Approve(*o.AltinnRequestID); err != nil {
		t.Fatal(err)
	}
	if st, _ := outcomeOf(t, b.get(e.web.URL+"/status/"+o.Ref)); st != string(domain.StatusConnected) {
		t.Fatalf("after the access manager approved: %q, want connected", st)
	}
}

func TestFlowExpired(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	b := e.browser()
	e.startFlow(b, "standard", org)
	later := time.Now().Add(181 * 24 * time.Hour)
	e.app.Sim.SetNow(func() time.Time { return later })
	o := e.onboardingForOrg(org)
	outcome := b.get(e.web.URL + "/status/" + o.Ref)
	if st, _ := outcomeOf(t, outcome); st != string(domain.StatusExpired) {
		t.Fatalf("after 181 days: %q, want expired", st)
	}
	retry := b.post(e.web.URL+"/status/"+o.Ref+"/retry", url.Values{"_csrf": {csrfOf(t, outcome)}})
	if retry.status != http.StatusSeeOther || !strings.Contains(retry.location, "/request?id=") {
		t.Fatalf("a fresh request should be offered: %d %q", retry.status, retry.location)
	}
	if n := e.simRequestsFor(org); n != 1 {
		t.Fatalf("live requests at Altinn = %d, want 1", n)
	}
}

func TestFlowLegacyTimedout(t *testing.T) {
	t.Parallel()
	// Before 2025-11-20 Altinn rewrote the status itself to Timedout after 10 days.
	e := newEnv(t, map[string]string{"ONBOARD_SIM_TIMEOUT_MODE": sim.TimeoutLegacy10d})
	b := e.browser()
	e.startFlow(b, "standard", org)
	o := e.onboardingForOrg(org)
	later := time.Now().Add(11 * 24 * time.Hour)
	e.app.Sim.SetNow(func() time.Time { return later })
	if st, _ := outcomeOf(t, b.get(e.web.URL+"/status/"+o.Ref)); st != string(domain.StatusExpired) {
		t.Fatalf("legacy Timedout: %q, want expired", st)
	}
}

func TestAlreadyConnected(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	first := e.browser()
	confirm := e.startFlow(first, "standard", org)
	e.returnTo(first, e.decide(first, confirm, "approve").location)

	// Staff closed our record, but the system user still exists in Altinn:
	// Altinn answers AUTH-00004 and byquery confirms it.
	o := e.onboardingForOrg(org)
	if _, err := e.db.Pool.Exec(context.Background(), `UPDATE onboardings SET status = 'cancelled' WHERE id = $1`, o.ID); err != nil {
		t.Fatal(err)
	}
	second := e.browser()
	res := e.submitAndConfirm(second, "standard", org)
	if res.status != http.StatusSeeOther || !strings.HasPrefix(res.location, "/status/") {
		t.Fatalf("already connected: %d %q, want 303 to the status page", res.status, res.location)
	}
	if st, _ := outcomeOf(t, second.get(e.web.URL+res.location)); st != string(domain.StatusConnected) {
		t.Fatalf("already connected: %q", st)
	}
	n := e.onboardingForOrg(org)
	if n.ID == o.ID || n.SystemUserID == nil || *n.SystemUserID != *o.SystemUserID {
		t.Fatalf("new onboarding should be connected to the existing system user: %+v", n)
	}
	if !hasCode(e.events(n), "AUTH-00004") {
		t.Fatal("the AUTH-00004 answer should be in the history")
	}
	// Connected without a request of ours, yet from the wizard: the funnel
	// must not take it for an import.
	var origin string
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT origin FROM onboardings WHERE id = $1`, n.ID).Scan(&origin); err != nil || origin != "wizard" {
		t.Fatalf("origin = %q (%v), want wizard", origin, err)
	}
}

func TestDuplicateSubmitsShareOneRequest(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	a, b := e.browser(), e.browser()
	ca := e.startFlow(a, "standard", org)
	// The same browser again: the same request's confirm page.
	if again := e.startFlow(a, "standard", org); again != ca {
		t.Fatalf("the starting browser got another confirm page: %q, want %q", again, ca)
	}
	// Another browser did not start it: the neutral page, not Altinn's.
	res := e.submitAndConfirm(b, "standard", org)
	if res.status != http.StatusSeeOther || !strings.HasPrefix(res.location, "/onboard/standard/known") {
		t.Fatalf("second browser: %d Location %q, want 303 to the known page", res.status, res.location)
	}
	if n := e.simRequestsFor(org); n != 1 {
		t.Fatalf("live requests at Altinn = %d, want 1", n)
	}
}

func TestAltinnsExistingRequestForAnotherReturnIsReplaced(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	a := e.browser()
	ca := e.startFlow(a, "standard", org)
	old := e.onboardingForOrg(org)
	// Our record is gone but Altinn's request is live, and it would send
	// the customer back to the old onboarding. Altinn answers 200 with it.
	if _, err := e.db.Pool.Exec(context.Background(), `UPDATE onboardings SET status = 'cancelled' WHERE id = $1`, old.ID); err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	cb := e.startFlow(b, "standard", org)
	if cb == ca {
		t.Fatal("a request that returns to another onboarding must be replaced, not reused")
	}
	if n := e.simRequestsFor(org); n != 1 {
		t.Fatalf("live requests at Altinn = %d, want 1", n)
	}
	back := e.decide(b, cb, "approve")
	n := e.onboardingForOrg(org)
	if back.location != e.web.URL+"/return?ref="+n.Ref {
		t.Fatalf("Altinn sends the customer to %q, want this onboarding's return %q", back.location, n.Ref)
	}
	if st, _ := outcomeOf(t, e.returnTo(b, back.location)); st != string(domain.StatusConnected) {
		t.Fatalf("outcome %q, want connected", st)
	}
}

func TestConcurrentViewDoesNotUndoARetry(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	b := e.browser()
	outcome := e.returnTo(b, e.decide(b, e.startFlow(b, "standard", org), "reject").location)
	o := e.onboardingForOrg(org)
	r0 := *o.AltinnRequestID
	// Another browser's status view reads the rejected row, then its Altinn
	// read is slow; meanwhile the customer's retry replaces the request.
	e.app.Sim.Inject(sim.Fault{Method: http.MethodGet, Path: vendorPath + "/" + r0, Latency: 1500 * time.Millisecond, Times: 1})
	reads := func() int { return e.app.Sim.Stats().Calls["GET "+vendorPath+"/{id}"] }
	before := reads()
	done := make(chan struct{})
	go func() { e.browser().get(e.web.URL + "/status/" + o.Ref); close(done) }()
	// The retry starts once the view's read has reached Altinn (the
	// simulator counts a call when it arrives, before the delay), and must
	// end before that read answers, or there was no race.
	waitFor(t, 5*time.Second, "the status view's read at Altinn", func() bool { return reads() > before })
	retry := b.post(e.web.URL+"/status/"+o.Ref+"/retry", url.Values{"_csrf": {csrfOf(t, outcome)}})
	if retry.status != http.StatusSeeOther {
		t.Fatalf("retry: %d", retry.status)
	}
	select {
	case <-done:
		t.Fatal("the status view ended before the retry did: the race did not happen")
	default:
	}
	<-done
	n := e.onboardingForOrg(org)
	live := ""
	for _, r := range e.app.Sim.Requests() {
		if r.PartyOrgNo == org && !r.Deleted {
			live = r.ID
		}
	}
	if n.Status != domain.StatusPending || n.AltinnRequestID == nil || *n.AltinnRequestID != live || live == r0 {
		t.Fatalf("after the race: status %q request %v, want pending on the live request %s", n.Status, n.AltinnRequestID, live)
	}
}

func TestSystemUserReportedButNotFound(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	first := e.browser()
	e.returnTo(first, e.decide(first, e.startFlow(first, "standard", org), "approve").location)
	o := e.onboardingForOrg(org)
	if _, err := e.db.Pool.Exec(context.Background(), `UPDATE onboardings SET status = 'cancelled' WHERE id = $1`, o.ID); err != nil {
		t.Fatal(err)
	}
	// AUTH-00004 says a system user exists, but byquery does not find it.
	e.app.Sim.Inject(sim.Fault{Method: http.MethodGet, Path: "/authentication/api/v1/systemuser/vendor/byquery", Status: 404})
	e.submitAndConfirm(e.browser(), "standard", org)
	n := e.onboardingForOrg(org)
	if n.Status != domain.StatusRequesting || n.ErrorCode == nil || *n.ErrorCode != "system_user_missing" {
		t.Fatalf("status %q code %v, want requesting with system_user_missing (not expired)", n.Status, n.ErrorCode)
	}
}

func TestStatusViewsNeverWriteToAltinn(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	b := e.browser()
	e.decide(b, e.startFlow(b, "standard", org), "reject")
	o := e.onboardingForOrg(org)
	for i := 0; i < 3; i++ {
		if st, _ := outcomeOf(t, e.browser().get(e.web.URL+"/status/"+o.Ref)); st != string(domain.StatusRejected) {
			t.Fatalf("status %q, want rejected", st)
		}
	}
	for call, n := range e.app.Sim.Stats().Calls {
		if strings.HasPrefix(call, "DELETE") || (strings.HasPrefix(call, "POST") && n > 1) {
			t.Fatalf("viewing status pages wrote to Altinn: %s ×%d", call, n)
		}
	}
}

func TestExistingRejectedRequestIsToldNotHidden(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	b := e.browser()
	confirm := e.startFlow(b, "standard", org)
	e.decide(b, confirm, "reject")
	o := e.onboardingForOrg(org)
	if _, err := e.db.Pool.Exec(context.Background(), `UPDATE onboardings SET status = 'cancelled' WHERE id = $1`, o.ID); err != nil {
		t.Fatal(err)
	}
	res := e.submitAndConfirm(e.browser(), "standard", org)
	if res.status != http.StatusSeeOther || !strings.HasPrefix(res.location, "/status/") {
		t.Fatalf("existing rejected request: %d %q, want the status page", res.status, res.location)
	}
	if got := e.onboardingForOrg(org); got.Status != domain.StatusRejected {
		t.Fatalf("status %q, want rejected", got.Status)
	}
}

func TestAltinnDown(t *testing.T) {
	t.Parallel()
	// stored: Altinn kept the request although its answer was lost. The status
	// page's lookup by external ref then finds it, and the customer can go on.
	tests := []struct {
		name   string
		fault  sim.Fault
		stored bool
	}{
		{"503", sim.Fault{Method: http.MethodPost, Path: vendorPath, Status: 503, Body: "Service Unavailable"}, false},
		{"timeout", sim.Fault{Method: http.MethodPost, Path: vendorPath, Hang: true}, false},
		{"500 after storing", sim.Fault{Method: http.MethodPost, Path: vendorPath, Status: 500, AfterStore: true}, true},
		{"malformed after storing", sim.Fault{Method: http.MethodPost, Path: vendorPath, Malformed: true, AfterStore: true}, true},
		{"maskinporten down", sim.Fault{Method: http.MethodPost, Path: "/token", Status: 503}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			remove := e.app.Sim.Inject(tt.fault)
			b := e.browser()
			res := e.submitAndConfirm(b, "standard", org)
			if res.status != http.StatusSeeOther || !strings.HasPrefix(res.location, "/status/") {
				t.Fatalf("submit while Altinn is down: %d %q, want 303 to the status page", res.status, res.location)
			}
			o := e.onboardingForOrg(org)
			if o.Status != domain.StatusRequesting || o.ErrorCode == nil || *o.ErrorCode != "altinn_unavailable" || o.ErrorMessage == nil {
				t.Fatalf("record should say what failed: %+v", o)
			}
			if !hasFailedCall(e.events(o)) {
				t.Fatal("the failed Altinn call should be in the history")
			}
			page := b.get(e.web.URL + res.location)
			if tt.stored {
				if st, _ := outcomeOf(t, page); st != string(domain.StatusPending) || !strings.Contains(page.body, `data-testid="continue"`) {
					t.Fatalf("the lookup should find the stored request and offer Altinn's page: %q\n%s", st, page.body)
				}
				remove()
				if n := e.simRequestsFor(org); n != 1 {
					t.Fatalf("Altinn holds %d requests for the org, want exactly 1", n)
				}
				return
			}
			if st, _ := outcomeOf(t, page); st != string(domain.StatusRequesting) || !strings.Contains(page.body, "Altinn svarer ikke") {
				t.Fatalf("customer should be told Altinn is not answering: %q\n%s", st, page.body)
			}
			if n := e.simRequestsFor(org); n != 0 {
				t.Fatalf("a status page view must not create requests: Altinn holds %d", n)
			}
			remove()
			retry := b.post(e.web.URL+"/status/"+o.Ref+"/retry", url.Values{"_csrf": {csrfOf(t, page)}})
			if retry.status != http.StatusSeeOther || !strings.Contains(retry.location, "/request?id=") {
				t.Fatalf("try again after recovery: %d %q, want the confirm page", retry.status, retry.location)
			}
			if n := e.simRequestsFor(org); n != 1 {
				t.Fatalf("Altinn holds %d requests for the org, want exactly 1", n)
			}
			if got := e.onboardingForOrg(org); got.Status != domain.StatusPending || got.ErrorCode != nil {
				t.Fatalf("after recovery: %+v", got)
			}
		})
	}
}

func TestAltinnRefusesWithCode(t *testing.T) {
	t.Parallel()
	// A right the system does not have: AUTH-00001.
	e := newEnv(t, map[string]string{"ONBOARD_RIGHTS": "not-a-right-of-this-system"})
	b := e.browser()
	res := e.submitAndConfirm(b, "standard", org)
	if res.status != http.StatusSeeOther {
		t.Fatalf("submit: %d", res.status)
	}
	o := e.onboardingForOrg(org)
	if o.Status != domain.StatusFailed || o.ErrorCode == nil || !strings.HasPrefix(*o.ErrorCode, "AUTH-000") {
		t.Fatalf("record should keep Altinn's code: status %q code %v", o.Status, o.ErrorCode)
	}
}

func TestOtherBrowserSeesOnlyTheOutcome(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	b := e.browser()
	confirm := e.startFlow(b, "standard", org)
	back := e.decide(b, confirm, "approve")
	manager := e.browser() // say, the access manager who approved, in another browser
	outcome := e.returnTo(manager, back.location)
	if st, _ := outcomeOf(t, outcome); st != string(domain.StatusConnected) {
		t.Fatalf("outcome = %q", st)
	}
	for _, secret := range []string{"314 248 295", org, `data-testid="details"`, `data-testid="retry"`} {
		if strings.Contains(outcome.body, secret) {
			t.Fatalf("another browser must not see %q:\n%s", secret, outcome.body)
		}
	}
	o := e.onboardingForOrg(org)
	if res := manager.post(e.web.URL+"/status/"+o.Ref+"/retry", url.Values{"_csrf": {csrfOf(t, e.submitFormPage(manager))}}); res.status != http.StatusForbidden {
		t.Fatalf("another browser's retry: %d, want 403", res.status)
	}
}

// submitFormPage fetches any page with a form, for a valid CSRF token.
func (e *env) submitFormPage(b *browser) page {
	return b.get(e.web.URL + "/onboard/standard/org")
}

func TestConfirmHostNotAllowed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, map[string]string{"ONBOARD_ALTINN_CONFIRM_HOSTS": "am.ui.altinn.no"})
	b := e.browser()
	res := e.submitAndConfirm(b, "standard", org)
	if res.status != http.StatusSeeOther || !strings.HasPrefix(res.location, "/status/") {
		t.Fatalf("a confirmUrl off the allowlist must not be followed: %d %q", res.status, res.location)
	}
	o := e.onboardingForOrg(org)
	if o.ConfirmURL != nil || o.ErrorCode == nil || *o.ErrorCode != "confirm_host" {
		t.Fatalf("record: %+v", o)
	}
}

func TestRevokedWhenSystemUserDeleted(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	b := e.browser()
	e.returnTo(b, e.decide(b, e.startFlow(b, "standard", org), "approve").location)
	o := e.onboardingForOrg(org)
	if err := e.app.Sim.DeleteSystemUser(*o.SystemUserID); err != nil {
		t.Fatal(err)
	}
	if st, _ := outcomeOf(t, b.get(e.web.URL+"/status/"+o.Ref)); st != string(domain.StatusRevoked) {
		t.Fatalf("after the customer deleted the system user: %q, want revoked", st)
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func hasFailedCall(evs []domain.Event) bool {
	for _, ev := range evs {
		if ev.Kind == domain.EventAltinnCall && (ev.HTTPStatus == 0 || ev.HTTPStatus >= 500) && ev.Message != "" {
			return true
		}
	}
	return false
}

func hasCode(evs []domain.Event, code string) bool {
	for _, ev := range evs {
		if ev.AltinnCode == code {
			return true
		}
	}
	return false
}
